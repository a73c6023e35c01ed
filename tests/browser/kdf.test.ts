// The key derivation in its worker (src/lib/domain/kdf.ts, kdf-worker.ts) against scrypt on
// this thread: the same keys for random passphrases, salts and parameters, derivations at
// once answered each with its own key, progress up to the end, the caller's bytes untouched.
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { describe, expect, it } from 'vitest';
import { derivesInWorker, scrypt } from '../../src/lib/domain/kdf.js';
import { decryptIdentity, encryptIdentity } from '../../src/lib/domain/keystore.js';
import { generateKeyPair, toHex } from '../../src/lib/core/index.js';

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const MAXMEM = 256 * 1024 * 1024 + 4096;

describe('key derivation in a worker', () => {
	it('derives what scrypt on this thread derives, each of several at once its own, with progress', async () => {
		const cases = Array.from({ length: 6 }, (_, i) => ({
			password: random(i * 7),
			salt: random(16),
			work: { N: 2 ** (10 + (i % 3)), r: 1 + (i % 8), p: 1 + (i % 2), maxmem: MAXMEM }
		}));
		const progress = cases.map(() => [] as number[]);
		const copies = cases.map((c) => c.password.slice());
		const inWorker = await Promise.all(cases.map((c, i) => scrypt(c.password, c.salt, c.work, (f) => progress[i]!.push(f))));
		for (const [i, c] of cases.entries()) {
			const here = await scryptAsync(c.password, c.salt, { N: c.work.N, r: c.work.r, p: c.work.p, dkLen: 32 });
			expect(toHex(inWorker[i]!)).toBe(toHex(here));
			// The caller's bytes as they were (the worker had a copy, zeroed there).
			expect(toHex(c.password)).toBe(toHex(copies[i]!));
			expect(progress[i]!.length).toBeGreaterThan(0);
			expect(Math.max(...progress[i]!)).toBeGreaterThan(0.9);
		}
		expect(new Set(inWorker.map(toHex)).size).toBe(cases.length);
		// Answered by the worker, not by the fallback on this thread.
		expect(derivesInWorker()).toBe(true);
	});

	it('a key encrypted and opened through the worker opens, and a wrong passphrase is refused', async () => {
		const pair = generateKeyPair();
		const record = await encryptIdentity({ ...pair, createdAt: 1 }, 'a passphrase typed twice', {
			purpose: 'stored',
			params: { N: 2 ** 12, r: 8, p: 1 }
		});
		const opened = await decryptIdentity(record, 'a passphrase typed twice', { purpose: 'stored' });
		expect(toHex(opened.secretKey)).toBe(toHex(pair.secretKey));
		await expect(decryptIdentity(record, 'another passphrase', { purpose: 'stored' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
	});
});
