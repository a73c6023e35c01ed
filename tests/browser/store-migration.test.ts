import { it } from 'vitest';
import { checkMigration } from './fixtures/migration-check.js';

// Real IndexedDB in real Chromium: a database written by the released schema-2 code.
it('opens a schema-2 database written by the released store and answers every read as it did', async () => {
	await checkMigration(`migration-${Date.now()}`);
});
