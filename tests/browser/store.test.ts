import { IndexedDBStore } from '../../src/lib/core/storage/indexeddb.js';
import { runStoreAcceptance } from '../../src/lib/core/testing/store-acceptance.js';
import { expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/lib/core/storage/indexeddb.js';
// Real IndexedDB in real Chromium.
const run = `${Date.now()}`;
let n = 0;
runStoreAcceptance('indexeddb (Chromium)', {
	create: () => IndexedDBStore.open(`acceptance-${run}-${n++}`),
	reopen: async (store) => {
		await store.close();
		return IndexedDBStore.open(`acceptance-${run}-${n - 1}`);
	}
});

it('refuses, with a message to act on, a database written by a newer app version', async () => {
	const name = `newer-${run}`;
	await new Promise<void>((resolve, reject) => {
		const request = indexedDB.open(name, SCHEMA_VERSION + 1);
		request.onsuccess = () => {
			request.result.close();
			resolve();
		};
		request.onerror = () => reject(request.error);
	});
	await expect(IndexedDBStore.open(name)).rejects.toThrow(/newer version of the app/);
});

it('a tab holding an older schema steps aside when a newer version upgrades', async () => {
	const name = `upgrade-${run}`;
	const store = await IndexedDBStore.open(name);
	const upgraded = await new Promise<number>((resolve, reject) => {
		const request = indexedDB.open(name, SCHEMA_VERSION + 1);
		request.onsuccess = () => {
			const version = request.result.version;
			request.result.close();
			resolve(version);
		};
		request.onerror = () => reject(request.error);
		request.onblocked = () => reject(new Error('blocked by the open store'));
	});
	expect(upgraded).toBe(SCHEMA_VERSION + 1);
	await store.close();
});
