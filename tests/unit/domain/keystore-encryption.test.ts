/** The key encryption itself: scrypt calibration, and encryptIdentity / decryptIdentity (round trip, NFKC, bindings, changed bytes, malformed records, passphrase checks). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, publicKeyOf, toHex } from '$lib/core/index.js';
import { MIN_COST_MS, calibrate, decryptIdentity, encryptIdentity, passphraseProblem, type EncryptedKey } from '$lib/domain/keystore.js';
import { CHEAP, SLOW, keyPair, refusal } from './keystore-support.js';

describe('calibration', () => {
	it(
		`measures at least ${MIN_COST_MS} ms for one derivation and says which setting`,
		async () => {
			const { params, costMs } = await calibrate();
			expect(costMs).toBeGreaterThanOrEqual(MIN_COST_MS);
			expect(params.N).toBeGreaterThanOrEqual(2 ** 15);
			expect(params.N & (params.N - 1)).toBe(0);
			expect(params.r).toBe(8);
			console.log(`scrypt on this machine: N=2^${Math.log2(params.N)} r=${params.r} p=${params.p}, ${costMs.toFixed(0)} ms`);
		},
		SLOW
	);

	it(
		'encrypts with the measured derivation and records its cost and parameters',
		async () => {
			const key = keyPair();
			const started = performance.now();
			const record = await encryptIdentity(key, 'correct horse battery', { purpose: 'stored' });
			expect(performance.now() - started).toBeGreaterThanOrEqual(MIN_COST_MS);
			expect(record.kdf.costMs).toBeGreaterThanOrEqual(MIN_COST_MS);
			expect(record.kdf.N).toBeGreaterThanOrEqual(2 ** 15);
			expect(record.kdf.salt).toHaveLength(16);
			expect(record.nonce).toHaveLength(24);
			expect(record.ciphertext).toHaveLength(48);
			const back = await decryptIdentity(record, 'correct horse battery', { purpose: 'stored' });
			expect(bytesEqual(back.secretKey, key.secretKey)).toBe(true);
		},
		SLOW
	);
});

describe('encryptIdentity / decryptIdentity', () => {
	it(
		'round-trips any key and passphrase',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					fc.uint8Array({ minLength: 32, maxLength: 32 }),
					fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
					async (seed, passphrase) => {
						const key = { secretKey: seed, publicKey: publicKeyOf(seed), createdAt: 1 };
						const record = await encryptIdentity(key, passphrase, { purpose: 'stored', params: CHEAP });
						expect(toHex(record.ciphertext.subarray(0, 32))).not.toBe(toHex(seed));
						const back = await decryptIdentity(record, passphrase, { purpose: 'stored' });
						expect(bytesEqual(back.secretKey, seed)).toBe(true);
						expect(bytesEqual(back.publicKey, key.publicKey)).toBe(true);
					}
				),
				{ numRuns: 25 }
			);
		},
		SLOW
	);

	it('normalizes the passphrase (NFKC): one passphrase typed two ways opens the key', async () => {
		const record = await encryptIdentity(keyPair(), 'caf\u00e9 au lait', { purpose: 'stored', params: CHEAP });
		await expect(decryptIdentity(record, 'cafe\u0301 au lait', { purpose: 'stored' })).resolves.toBeDefined();
	});

	it('refuses a wrong passphrase', async () => {
		const record = await encryptIdentity(keyPair(), 'correct horse battery', { purpose: 'stored', params: CHEAP });
		expect(await refusal(decryptIdentity(record, 'correct horse batterY', { purpose: 'stored' }))).toBe('WRONG_PASSPHRASE');
	});

	it('binds the ciphertext to its public key and its purpose', async () => {
		const a = await encryptIdentity(keyPair(), 'correct horse battery', { purpose: 'stored', params: CHEAP });
		const b = await encryptIdentity(keyPair(), 'correct horse battery', { purpose: 'stored', params: CHEAP });
		// Record A's ciphertext under B's public key (a swapped record): the tag fails.
		const swapped: EncryptedKey = { ...a, publicKey: b.publicKey };
		expect(await refusal(decryptIdentity(swapped, 'correct horse battery', { purpose: 'stored' }))).toBe('WRONG_PASSPHRASE');
		// A stored record does not open as a backup, nor the reverse.
		expect(await refusal(decryptIdentity(a, 'correct horse battery', { purpose: 'backup' }))).toBe('WRONG_PASSPHRASE');
	});

	it('refuses every changed byte of the encrypted parts', async () => {
		const record = await encryptIdentity(keyPair(), 'correct horse battery', { purpose: 'stored', params: CHEAP });
		for (const field of ['ciphertext', 'nonce', 'salt', 'publicKey'] as const) {
			const bytes = field === 'salt' ? record.kdf.salt : record[field];
			for (const at of [0, bytes.length - 1]) {
				const changed = new Uint8Array(bytes);
				changed[at]! ^= 0x01;
				const bad: EncryptedKey = field === 'salt' ? { ...record, kdf: { ...record.kdf, salt: changed } } : { ...record, [field]: changed };
				expect(await refusal(decryptIdentity(bad, 'correct horse battery', { purpose: 'stored' })), `${field}[${at}]`).toBe(
					'WRONG_PASSPHRASE'
				);
			}
		}
	});

	it('refuses a malformed record without deriving anything', async () => {
		const record = await encryptIdentity(keyPair(), 'correct horse battery', { purpose: 'stored', params: CHEAP });
		const cases: unknown[] = [
			null,
			{ ...record, version: 3 },
			{ ...record, ciphertext: record.ciphertext.subarray(0, 47) },
			{ ...record, nonce: new Uint8Array(12) },
			{ ...record, kdf: { ...record.kdf, N: 3000 } },
			{ ...record, kdf: { ...record.kdf, N: 2 ** 22 } },
			{ ...record, kdf: { ...record.kdf, p: 0 } },
			{ ...record, cipher: 'aes-gcm' }
		];
		for (const bad of cases)
			expect(await refusal(decryptIdentity(bad as EncryptedKey, 'correct horse battery', { purpose: 'stored' }))).toBe('DAMAGED_RECORD');
	});

	it('checks passphrases a person chooses', () => {
		expect(passphraseProblem('short')).toMatch(/at least 8/);
		expect(passphraseProblem('        ')).toMatch(/only spaces/);
		expect(passphraseProblem('long enough', 'long enougH')).toMatch(/differ/);
		expect(passphraseProblem('long enough', 'long enough')).toBeNull();
	});
});
