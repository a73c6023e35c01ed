// idb needs the IndexedDB globals (IDBRequest, ...); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { bytesEqual, generateKeyPair, publicKeyOf } from '$lib/core/index.js';
import { authorIdOf, createIdentity, exportIdentityBackup, readStoredKey, restoreIdentity, unlockIdentity } from '$lib/domain/identity.js';
import { CHEAP } from './keystore-support.js';

function overwrite(indexedDB: IDBFactory, change: (record: Record<string, unknown>) => unknown): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		const open = indexedDB.open('clinic-ledger-identity', 1);
		open.onupgradeneeded = () => open.result.createObjectStore('keys');
		open.onsuccess = () => {
			const store = open.result.transaction('keys', 'readwrite').objectStore('keys');
			const get = store.get('node');
			get.onsuccess = () => {
				store.put(change(get.result as Record<string, unknown>), 'node');
				store.transaction.oncomplete = () => {
					open.result.close();
					resolve();
				};
			};
			store.transaction.onerror = () => reject(store.transaction.error);
		};
	});
}

describe('the stored identity', () => {
	it('holds nothing on first open, then the encrypted key pair made there', async () => {
		const indexedDB = new IDBFactory();
		expect(await readStoredKey({ indexedDB })).toEqual({ kind: 'none' });
		const created = await createIdentity('correct horse battery', { indexedDB, kdf: CHEAP });
		expect(created.secretKey).toHaveLength(32);
		expect(bytesEqual(publicKeyOf(created.secretKey), created.publicKey)).toBe(true);
		const stored = await readStoredKey({ indexedDB });
		expect(stored.kind).toBe('encrypted');
		expect(stored.kind === 'encrypted' && authorIdOf(stored)).toBe(authorIdOf(created));
		expect(stored.kind === 'encrypted' && stored.createdAt).toBe(created.createdAt);
		expect(authorIdOf(created)).toMatch(/^[0-9a-f]{64}$/);
		const again = await unlockIdentity('correct horse battery', { indexedDB });
		expect(bytesEqual(again.secretKey, created.secretKey)).toBe(true);
	}, 30_000);

	it('refuses a damaged unencrypted (version 1) record instead of replacing it', async () => {
		const indexedDB = new IDBFactory();
		await overwrite(indexedDB, () => ({ ...generateKeyPair(), publicKey: new Uint8Array(32), createdAt: 1 }));
		const stored = await readStoredKey({ indexedDB });
		expect(stored.kind === 'damaged' && stored.error.message).toMatch(/damaged; it was not replaced/);
		await expect(createIdentity('correct horse battery', { indexedDB, kdf: CHEAP })).rejects.toThrow(/damaged; it was not replaced/);
		await expect(unlockIdentity('correct horse battery', { indexedDB })).rejects.toThrow(/damaged; it was not replaced/);
	}, 30_000);

	it('refuses a damaged encrypted record; only a backup of its key replaces it', async () => {
		const indexedDB = new IDBFactory();
		const created = await createIdentity('correct horse battery', { indexedDB, kdf: CHEAP });
		const { text } = await exportIdentityBackup('correct horse battery', { indexedDB });
		const elsewhere = new IDBFactory();
		await createIdentity('other passphrase', { indexedDB: elsewhere, kdf: CHEAP });
		const foreign = await exportIdentityBackup('other passphrase', { indexedDB: elsewhere });
		await overwrite(indexedDB, (record) => ({ ...record, nonce: new Uint8Array(3) }));
		const stored = await readStoredKey({ indexedDB });
		expect(stored.kind).toBe('damaged');
		expect(stored.kind === 'damaged' && stored.error.message).toMatch(
			/encrypted key stored in this browser is damaged \(the nonce is not 24 bytes\); it was not changed/
		);
		expect(stored.kind === 'damaged' && authorIdOf({ publicKey: stored.publicKey! })).toBe(authorIdOf(created));
		await expect(unlockIdentity('correct horse battery', { indexedDB })).rejects.toThrow(/damaged/);
		await expect(restoreIdentity(foreign.text, 'other passphrase', { indexedDB, kdf: CHEAP })).rejects.toThrow(/another node's key/);
		const restored = await restoreIdentity(text, 'correct horse battery', { indexedDB, kdf: CHEAP });
		expect(bytesEqual(restored.secretKey, created.secretKey)).toBe(true);
		expect((await readStoredKey({ indexedDB })).kind).toBe('encrypted');
	}, 60_000);
});
