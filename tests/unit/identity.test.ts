// idb needs the IndexedDB globals (IDBRequest, ...); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { bytesEqual, publicKeyOf } from '$lib/core/index.js';
import { authorIdOf, loadOrCreateIdentity } from '$lib/domain/identity.js';

describe('loadOrCreateIdentity', () => {
	it('creates a key pair on first open and returns the same one afterwards', async () => {
		const indexedDB = new IDBFactory();
		const first = await loadOrCreateIdentity({ indexedDB });
		expect(first.secretKey).toHaveLength(32);
		expect(bytesEqual(publicKeyOf(first.secretKey), first.publicKey)).toBe(true);
		const again = await loadOrCreateIdentity({ indexedDB });
		expect(bytesEqual(again.publicKey, first.publicKey)).toBe(true);
		expect(bytesEqual(again.secretKey, first.secretKey)).toBe(true);
		expect(again.createdAt).toBe(first.createdAt);
		expect(authorIdOf(again)).toMatch(/^[0-9a-f]{64}$/);
	});

	it('gives concurrent first opens one identity', async () => {
		const indexedDB = new IDBFactory();
		const all = await Promise.all([1, 2, 3].map(() => loadOrCreateIdentity({ indexedDB })));
		for (const identity of all) expect(authorIdOf(identity)).toBe(authorIdOf(all[0]!));
	});

	it('refuses a damaged stored identity instead of replacing it', async () => {
		const indexedDB = new IDBFactory();
		const real = await loadOrCreateIdentity({ indexedDB });
		await new Promise<void>((resolve, reject) => {
			const open = indexedDB.open('clinic-ledger-identity');
			open.onsuccess = () => {
				const tx = open.result.transaction('keys', 'readwrite');
				tx.objectStore('keys').put({ ...real, publicKey: new Uint8Array(32) }, 'node');
				tx.oncomplete = () => {
					open.result.close();
					resolve();
				};
				tx.onerror = () => reject(tx.error);
			};
		});
		await expect(loadOrCreateIdentity({ indexedDB })).rejects.toThrow(/damaged; it was not replaced/);
	});
});
