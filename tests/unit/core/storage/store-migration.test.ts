import 'fake-indexeddb/auto';
import { expect, it, vi } from 'vitest';
import { IndexedDBStore } from '../../../../src/lib/core/storage/indexeddb.js';
import { row } from '../../../../src/lib/core/testing/store-acceptance.js';
import { checkMigration, checkMigrationFrom4 } from '../../../browser/fixtures/migration-check.js';
import { IndexedDBStoreV2 } from '../../../browser/fixtures/indexeddb-v2.js';

// fake-indexeddb in Node; the real browser run is tests/browser/store-migration.test.ts.
it('opens a schema-2 database written by the released store and answers every read as it did', async () => {
	await checkMigration('node-migration');
});

it('opens a schema-4 database: every read as before, an id already stored refused by the store itself; byId rebuilt not unique only in a small database', async () => {
	expect(await checkMigrationFrom4('node-migration-4', false)).toEqual({ blocks: 1_302, unique: false });
	expect(await checkMigrationFrom4('node-migration-4-per-block', true)).toEqual({ blocks: 1_302, unique: true });
});

it('a migration that fails halfway refuses to open and leaves the schema-2 database whole', async () => {
	const name = 'node-migration-fails';
	const rows = Array.from({ length: 1_200 }, (_, i) => row(1 + (i % 4), Math.floor(i / 4), i));
	const old = await IndexedDBStoreV2.open(name);
	await old.append(rows.slice(0, 700), { net: 'n1' });
	await old.append(rows.slice(700));
	await old.putCheckpoint({ position: [5, rows[5]!.id], count: 6, state: new Uint8Array([6]) });
	await old.close();
	// The third segment's add fails: two are already written inside the upgrade transaction.
	const add = IDBObjectStore.prototype.add;
	let segments = 0;
	const spy = vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(function (this: IDBObjectStore, ...args) {
		if (this.name === 'segments' && ++segments === 3) throw new DOMException('disk full', 'QuotaExceededError');
		return add.apply(this, args);
	});
	try {
		await expect(IndexedDBStore.open(name)).rejects.toMatchObject({ code: 'STORE_MIGRATION_FAILED' });
	} finally {
		spy.mockRestore();
	}
	const again = await IndexedDBStoreV2.open(name);
	expect(await again.count()).toBe(rows.length);
	expect((await again.ordered(null, 2_000)).map((b) => b.id)).toEqual(rows.map((b) => b.id));
	expect(await again.getMeta('net')).toBe('n1');
	expect((await again.checkpointAtOrBefore(null))?.count).toBe(6);
	await again.close();
	// And the next open migrates it.
	const store = await IndexedDBStore.open(name);
	expect(await store.count()).toBe(rows.length);
	expect((await store.ordered(null, 2_000)).map((b) => b.id)).toEqual(rows.map((b) => b.id));
	await store.close();
});
