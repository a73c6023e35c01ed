/** The key in files and at rest: the backup file format and its refusals, and the identity record in IndexedDB (storage, migration, races, export and restore). */
// idb needs the IndexedDB globals (IDBRequest, ...); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { bytesEqual, generateKeyPair, toHex } from '$lib/core/index.js';
import { BACKUP_FORMAT, encodeBackup, parseBackup } from '$lib/domain/key-backup.js';
import {
	MIN_COST_MS,
	KeystoreError,
	decryptIdentity,
	encryptIdentity,
	type EncryptedKey,
	type KeystoreErrorCode
} from '$lib/domain/keystore.js';
import {
	createIdentity,
	exportIdentityBackup,
	protectStoredIdentity,
	readStoredKey,
	restoreIdentity,
	unlockIdentity
} from '$lib/domain/identity.js';
import { CHEAP, SLOW, keyPair, refusal, syncRefusal } from './keystore-support.js';

describe('backup file', () => {
	async function backupText(passphrase = 'backup passphrase') {
		const key = keyPair();
		const encrypted = await encryptIdentity(key, passphrase, { purpose: 'backup', params: CHEAP });
		return {
			key,
			text: encodeBackup({ key: encrypted, exportedAt: 1_700_000_100_000, network: { id: 'ab'.repeat(32), name: 'Lakeside clinic' } })
		};
	}

	it('encodes to versioned JSON and parses back', async () => {
		const { key, text } = await backupText();
		const json = JSON.parse(text);
		expect(json).toMatchObject({
			format: BACKUP_FORMAT,
			version: 1,
			publicKey: toHex(key.publicKey),
			keyCreatedAt: key.createdAt,
			network: { name: 'Lakeside clinic' }
		});
		expect(json.kdf).toMatchObject({ name: 'scrypt', N: 1024, r: 8, p: 1 });
		expect(json.cipher.name).toBe('xchacha20-poly1305');
		expect(text).not.toContain(toHex(key.secretKey));
		const parsed = parseBackup(text);
		const back = await decryptIdentity(parsed.key, 'backup passphrase', { purpose: 'backup' });
		expect(bytesEqual(back.secretKey, key.secretKey)).toBe(true);
		expect(parsed.network).toEqual({ id: 'ab'.repeat(32), name: 'Lakeside clinic' });
	});

	it('names every kind of bad file', async () => {
		const { text } = await backupText();
		const json = JSON.parse(text);
		// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test breaks fields anywhere in the file
		const edit = (change: (j: Record<string, any>) => void) => {
			const copy = structuredClone(json);
			change(copy);
			return JSON.stringify(copy);
		};
		const flipHex = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
		const cases: [string, string, KeystoreErrorCode, RegExp][] = [
			['empty', '', 'NOT_A_BACKUP', /not JSON/],
			['not JSON', 'hello', 'NOT_A_BACKUP', /not JSON/],
			['other JSON', '{"name":"package"}', 'NOT_A_BACKUP', /no "format"/],
			['an array', '[]', 'NOT_A_BACKUP', /no "format"/],
			['cut short', text.slice(0, text.length / 2), 'DAMAGED_BACKUP', /not complete JSON/],
			['wrong format', edit((j) => (j.format = 'clinic-ledger-network')), 'NOT_A_BACKUP', /no "format"/],
			['newer version', edit((j) => (j.version = 2)), 'UNSUPPORTED_BACKUP', /version 2/],
			['truncated ciphertext', edit((j) => (j.ciphertext = j.ciphertext.slice(0, -2))), 'DAMAGED_BACKUP', /ciphertext is 47 bytes/],
			['missing ciphertext', edit((j) => delete j.ciphertext), 'DAMAGED_BACKUP', /ciphertext is not/],
			['short salt', edit((j) => (j.kdf.salt = j.kdf.salt.slice(2))), 'DAMAGED_BACKUP', /salt is 15 bytes/],
			['hostile scrypt N', edit((j) => (j.kdf.N = 2 ** 24)), 'DAMAGED_BACKUP', /MiB/],
			['unknown cipher', edit((j) => (j.cipher.name = 'aes-256-gcm')), 'DAMAGED_BACKUP', /unknown cipher/],
			['modified ciphertext byte', edit((j) => (j.ciphertext = flipHex(j.ciphertext, 10))), 'DAMAGED_BACKUP', /checksum/],
			['modified public key byte', edit((j) => (j.publicKey = flipHex(j.publicKey, 0))), 'DAMAGED_BACKUP', /checksum/],
			['modified network name', edit((j) => (j.network.name = 'Hillside clinic')), 'DAMAGED_BACKUP', /checksum/],
			['no checksum', edit((j) => delete j.checksum), 'DAMAGED_BACKUP', /checksum/]
		];
		for (const [label, bad, code, message] of cases) {
			const got = syncRefusal(() => parseBackup(bad));
			expect(got.code, label).toBe(code);
			expect(got.message, label).toMatch(message);
			expect(got.message, label).toMatch(/Nothing was changed/);
		}
	});

	it('refuses a changed byte even when the checksum was recomputed (the tag catches it)', async () => {
		const { text } = await backupText();
		const parsed = parseBackup(text);
		const ciphertext = new Uint8Array(parsed.key.ciphertext);
		ciphertext[3]! ^= 0x80;
		const forged = parseBackup(encodeBackup({ ...parsed, key: { ...parsed.key, ciphertext } }));
		expect(await refusal(decryptIdentity(forged.key, 'backup passphrase', { purpose: 'backup' }))).toBe('WRONG_PASSPHRASE');
	});
});

/** The raw stored identity record, for byte-for-byte comparisons. */
function rawRecord(indexedDB: IDBFactory): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const open = indexedDB.open('clinic-ledger-identity');
		open.onsuccess = () => {
			const get = open.result.transaction('keys').objectStore('keys').get('node');
			get.onsuccess = () => {
				open.result.close();
				resolve(get.result);
			};
			get.onerror = () => reject(get.error);
		};
		open.onerror = () => reject(open.error);
	});
}

function writeRaw(indexedDB: IDBFactory, value: unknown): Promise<void> {
	return new Promise((resolve, reject) => {
		const open = indexedDB.open('clinic-ledger-identity', 1);
		open.onupgradeneeded = () => open.result.createObjectStore('keys');
		open.onsuccess = () => {
			const tx = open.result.transaction('keys', 'readwrite');
			tx.objectStore('keys').put(value, 'node');
			tx.oncomplete = () => {
				open.result.close();
				resolve();
			};
			tx.onerror = () => reject(tx.error);
		};
		open.onerror = () => reject(open.error);
	});
}

describe('the key at rest (IndexedDB)', () => {
	it(
		'stores only ciphertext, unlocks with the passphrase, and a wrong one changes nothing',
		async () => {
			const indexedDB = new IDBFactory();
			const created = await createIdentity('correct horse battery', { indexedDB });
			const raw = (await rawRecord(indexedDB)) as EncryptedKey & { secretKey?: unknown };
			expect(raw.secretKey).toBeUndefined();
			expect(raw.version).toBe(2);
			// The one key here encrypted at a cost measured on this machine (the others take the cheap setting: `kdf: CHEAP`).
			expect(raw.kdf.costMs).toBeGreaterThanOrEqual(MIN_COST_MS);
			// No 32-byte run of the record equals the secret key.
			for (const field of [raw.publicKey, raw.nonce, raw.ciphertext, raw.kdf.salt])
				expect(toHex(field)).not.toContain(toHex(created.secretKey));
			const stored = await readStoredKey({ indexedDB });
			expect(stored.kind).toBe('encrypted');

			expect(await refusal(unlockIdentity('not the passphrase', { indexedDB }))).toBe('WRONG_PASSPHRASE');
			expect(await rawRecord(indexedDB)).toStrictEqual(raw);

			const steps = new Set<string>();
			const unlocked = await unlockIdentity('correct horse battery', { indexedDB, onProgress: (_, step) => steps.add(step) });
			expect(bytesEqual(unlocked.secretKey, created.secretKey)).toBe(true);
			expect(unlocked.createdAt).toBe(created.createdAt);
			expect([...steps]).toEqual(['unlock']);
		},
		SLOW
	);

	it(
		'encrypts an unencrypted (version 1) record in place, keeping the same key',
		async () => {
			const indexedDB = new IDBFactory();
			const legacy = { ...generateKeyPair(), createdAt: 1_600_000_000_000 };
			await writeRaw(indexedDB, legacy);
			const before = await readStoredKey({ indexedDB });
			expect(before).toMatchObject({ kind: 'plain', createdAt: legacy.createdAt });
			expect(await refusal(unlockIdentity('whatever passphrase', { indexedDB }))).toBe('NO_KEY');

			const migrated = await protectStoredIdentity('correct horse battery', { indexedDB, kdf: CHEAP });
			expect(bytesEqual(migrated.secretKey, legacy.secretKey)).toBe(true);
			const raw = (await rawRecord(indexedDB)) as Record<string, unknown>;
			expect(raw['secretKey']).toBeUndefined();
			expect(raw['version']).toBe(2);
			expect(toHex(raw['publicKey'] as Uint8Array)).toBe(toHex(legacy.publicKey));
			const unlocked = await unlockIdentity('correct horse battery', { indexedDB });
			expect(bytesEqual(unlocked.secretKey, legacy.secretKey)).toBe(true);
			expect(unlocked.createdAt).toBe(legacy.createdAt);
			// Once protected, a second migration is refused rather than re-encrypting under another passphrase.
			expect(await refusal(protectStoredIdentity('another passphrase', { indexedDB, kdf: CHEAP }))).toBe('KEY_CHANGED');
		},
		SLOW
	);

	it(
		'a first run racing another tab keeps the first key',
		async () => {
			const indexedDB = new IDBFactory();
			const results = await Promise.allSettled([
				createIdentity('passphrase one', { indexedDB, kdf: CHEAP }),
				createIdentity('passphrase two', { indexedDB, kdf: CHEAP })
			]);
			const won = results.filter((r) => r.status === 'fulfilled');
			const lost = results.filter((r) => r.status === 'rejected');
			expect(won).toHaveLength(1);
			expect(lost).toHaveLength(1);
			expect(((lost[0] as PromiseRejectedResult).reason as KeystoreError).code).toBe('KEY_CHANGED');
			const stored = await readStoredKey({ indexedDB });
			expect(stored.kind === 'encrypted' && toHex(stored.publicKey)).toBe(
				toHex((won[0] as PromiseFulfilledResult<{ publicKey: Uint8Array }>).value.publicKey)
			);
		},
		SLOW
	);

	it(
		'exports a backup and restores it in another browser, or here after a forgotten passphrase',
		async () => {
			const indexedDB = new IDBFactory();
			const created = await createIdentity('correct horse battery', { indexedDB, kdf: CHEAP });
			expect(await refusal(exportIdentityBackup('wrong passphrase', { indexedDB }))).toBe('WRONG_PASSPHRASE');
			const { text, fileName } = await exportIdentityBackup('correct horse battery', {
				indexedDB,
				backupPassphrase: 'file passphrase',
				network: { id: 'cd'.repeat(32), name: 'Lakeside' }
			});
			expect(fileName).toMatch(new RegExp(`^clinic-ledger-key-${toHex(created.publicKey).slice(0, 12)}-\\d{4}-\\d\\d-\\d\\d\\.json$`));
			expect(parseBackup(text).network?.name).toBe('Lakeside');

			const other = new IDBFactory();
			const restored = await restoreIdentity(text, 'file passphrase', { indexedDB: other, kdf: CHEAP });
			expect(bytesEqual(restored.secretKey, created.secretKey)).toBe(true);
			// Stored there under the file's passphrase (at the tests' cheap setting; the app measures the device there).
			const unlocked = await unlockIdentity('file passphrase', { indexedDB: other });
			expect(bytesEqual(unlocked.publicKey, created.publicKey)).toBe(true);
			expect(unlocked.createdAt).toBe(created.createdAt);

			// Same key, local passphrase forgotten: the backup replaces the record.
			await restoreIdentity(text, 'file passphrase', { indexedDB, kdf: CHEAP });
			expect(await refusal(unlockIdentity('correct horse battery', { indexedDB }))).toBe('WRONG_PASSPHRASE');
			await expect(unlockIdentity('file passphrase', { indexedDB })).resolves.toBeDefined();
		},
		SLOW
	);

	it(
		'refuses a wrong passphrase, a damaged, foreign or unrelated file, leaving the stored record byte-identical',
		async () => {
			const indexedDB = new IDBFactory();
			await createIdentity('correct horse battery', { indexedDB, kdf: CHEAP });
			const own = await exportIdentityBackup('correct horse battery', { indexedDB });
			const elsewhere = new IDBFactory();
			await createIdentity('other passphrase', { indexedDB: elsewhere, kdf: CHEAP });
			const foreign = await exportIdentityBackup('other passphrase', { indexedDB: elsewhere });
			const before = await rawRecord(indexedDB);
			const json = JSON.parse(own.text);
			const attempts: [string, string, string, KeystoreErrorCode][] = [
				['wrong passphrase', own.text, 'not the passphrase', 'WRONG_PASSPHRASE'],
				['bad JSON', own.text.slice(0, 100), 'correct horse battery', 'DAMAGED_BACKUP'],
				['wrong version', JSON.stringify({ ...json, version: 9 }), 'correct horse battery', 'UNSUPPORTED_BACKUP'],
				[
					'truncated ciphertext',
					JSON.stringify({ ...json, ciphertext: json.ciphertext.slice(0, 64) }),
					'correct horse battery',
					'DAMAGED_BACKUP'
				],
				[
					'modified byte',
					JSON.stringify({
						...json,
						cipher: { ...json.cipher, nonce: (json.cipher.nonce[0] === 'a' ? 'b' : 'a') + json.cipher.nonce.slice(1) }
					}),
					'correct horse battery',
					'DAMAGED_BACKUP'
				],
				['foreign key', foreign.text, 'other passphrase', 'FOREIGN_BACKUP'],
				['not a backup', '{"format":"something-else"}', 'correct horse battery', 'NOT_A_BACKUP']
			];
			for (const [label, text, passphrase, code] of attempts) {
				expect(await refusal(restoreIdentity(text, passphrase, { indexedDB, kdf: CHEAP })), label).toBe(code);
				expect(await rawRecord(indexedDB), label).toStrictEqual(before);
			}
			await expect(unlockIdentity('correct horse battery', { indexedDB })).resolves.toBeDefined();
		},
		SLOW
	);
});
