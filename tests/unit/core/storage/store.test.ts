import 'fake-indexeddb/auto';
import { IndexedDBStore } from '../../../../src/lib/core/storage/indexeddb.js';
import { MemoryStore } from '../../../../src/lib/core/storage/memory.js';
import { runStoreAcceptance } from '../../../../src/lib/core/testing/store-acceptance.js';
import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileStore } from '../../../../src/lib/core/storage/file.js';
import { row } from '../../../../src/lib/core/testing/store-acceptance.js';
runStoreAcceptance('memory', { create: async () => new MemoryStore() });

// fake-indexeddb runs the same IndexedDB code in Node; the real browser run is tests/browser/store.test.ts.
let n = 0;
runStoreAcceptance('indexeddb (fake-indexeddb, Node)', {
	create: () => IndexedDBStore.open(`node-acceptance-${n++}`),
	reopen: async (store) => {
		await store.close();
		return IndexedDBStore.open(`node-acceptance-${n - 1}`);
	}
});

const dir = mkdtempSync(join(tmpdir(), 'ledger-file-store-'));
let f = 0;
runStoreAcceptance('file (Node headless peer)', {
	create: () => FileStore.open(join(dir, `store-${f++}.log`)),
	reopen: async (store) => {
		await store.close();
		return FileStore.open((store as FileStore).path);
	}
});

it('file store drops a torn record at the tail and keeps everything acknowledged', async () => {
	const path = join(dir, 'torn.log');
	const store = await FileStore.open(path);
	await store.append([row(1, 0, 0), row(1, 1, 1)]);
	await store.close();
	const size = statSync(path).size;
	appendFileSync(path, new Uint8Array([0, 0, 1, 0, 0xa1, 0x61])); // a record cut short
	const again = await FileStore.open(path);
	expect(await again.count()).toBe(2);
	await again.append([row(1, 2, 2)]);
	await again.close();
	expect(statSync(path).size).toBeGreaterThan(size);
	const third = await FileStore.open(path);
	expect((await third.heads())[0]?.seq).toBe(2);
	await third.close();
});
