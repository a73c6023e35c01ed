// idb needs the IndexedDB globals (IDBRequest, ...); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { bytesEqual, generateKeyPair, publicKeyOf } from '$lib/core/index.js';
import { authorIdOf, createIdentity, readStoredKey, unlockIdentity } from '$lib/domain/identity.js';

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
		const created = await createIdentity('correct horse battery', { indexedDB });
		expect(created.secretKey).toHaveLength(32);
		expect(bytesEqual(publicKeyOf(created.secretKey), created.publicKey)).toBe(true);
		const stored = await readStoredKey({ indexedDB });
		expect(stored.kind).toBe('encrypted');
		expect(stored.kind !== 'none' && authorIdOf(stored)).toBe(authorIdOf(created));
		expect(stored.kind !== 'none' && stored.createdAt).toBe(created.createdAt);
		expect(authorIdOf(created)).toMatch(/^[0-9a-f]{64}$/);
		const again = await unlockIdentity('correct horse battery', { indexedDB });
		expect(bytesEqual(again.secretKey, created.secretKey)).toBe(true);
	}, 30_000);

	it('refuses a damaged unencrypted (version 1) record instead of replacing it', async () => {
		const indexedDB = new IDBFactory();
		await overwrite(indexedDB, () => ({ ...generateKeyPair(), publicKey: new Uint8Array(32), createdAt: 1 }));
		await expect(readStoredKey({ indexedDB })).rejects.toThrow(/damaged; it was not replaced/);
		await expect(createIdentity('correct horse battery', { indexedDB })).rejects.toThrow(/damaged; it was not replaced/);
	}, 30_000);

	it('refuses a damaged encrypted record instead of replacing it', async () => {
		const indexedDB = new IDBFactory();
		await createIdentity('correct horse battery', { indexedDB });
		await overwrite(indexedDB, (record) => ({ ...record, nonce: new Uint8Array(3) }));
		await expect(readStoredKey({ indexedDB })).rejects.toThrow(/encrypted key stored in this browser is damaged \(the nonce is not 24 bytes\); it was not changed/);
	}, 30_000);
});
