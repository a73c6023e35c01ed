import 'fake-indexeddb/auto';
import { it } from 'vitest';
import { checkMigration } from '../../../browser/fixtures/migration-check.js';

// fake-indexeddb in Node; the real browser run is tests/browser/store-migration.test.ts.
it('opens a schema-2 database written by the released store and answers every read as it did', async () => {
	await checkMigration('node-migration');
});
