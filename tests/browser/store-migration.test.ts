import { expect, it } from 'vitest';
import { checkMigration, checkMigrationFrom4 } from './fixtures/migration-check.js';

// Real IndexedDB in real Chromium: a database written by the released schema-2 code.
it('opens a schema-2 database written by the released store and answers every read as it did', async () => {
	await checkMigration(`migration-${Date.now()}`);
});

it('opens a schema-4 database: every read as before, an id already stored refused by the store itself; byId unique only where it held blocks', async () => {
	const { blocks } = await checkMigrationFrom4(`migration-4-${Date.now()}`);
	expect(blocks).toBe(1_302);
});
