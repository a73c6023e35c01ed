import { expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/lib/core/storage/indexeddb.js';
import { REBUILD_BY_ID } from '../../src/lib/core/storage/indexeddb-schema.js';
import { row } from '../../src/lib/core/testing/store-acceptance.js';
import { checkMigration, checkMigrationFrom4, uniqueById, writeSchema4 } from './fixtures/migration-check.js';

// Real IndexedDB in real Chromium: a database written by the released schema-2 code.
it('opens a schema-2 database written by the released store and answers every read as it did', async () => {
	await checkMigration(`migration-${Date.now()}`);
});

it('opens a schema-4 database: every read as before, an id already stored refused by the store itself; byId rebuilt not unique only in a small database', async () => {
	const name = `migration-4-${Date.now()}`;
	expect(await checkMigrationFrom4(name, false)).toEqual({ blocks: 1_302, unique: false });
	expect(await checkMigrationFrom4(`${name}-per-block`, true)).toEqual({ blocks: 1_302, unique: true });
});

it('keeps the unique byId of a schema-4 database holding more blocks than it rebuilds, in few segments', async () => {
	const name = `migration-4-large-${Date.now()}`;
	const blocks = Array.from({ length: REBUILD_BY_ID.blocks + 1 }, (_, i) => row(1 + (i % 5), Math.floor(i / 5), i));
	const batches = Array.from({ length: Math.ceil(blocks.length / 500) }, (_, i) => blocks.slice(i * 500, i * 500 + 500));
	expect(batches.length).toBeLessThanOrEqual(REBUILD_BY_ID.segments);
	(await writeSchema4(name, batches, false)).close();
	const store = await IndexedDBStore.open(name);
	expect((await uniqueById(name))[1]).toBe(true);
	expect(await store.count()).toBe(blocks.length);
	await expect(store.append([blocks[12_345]!])).rejects.toMatchObject({ code: 'STORE_DUPLICATE_BLOCK' });
	await store.close();
});
