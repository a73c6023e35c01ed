import 'fake-indexeddb/auto';
import { IndexedDBStore } from '../../src/lib/core/storage/indexeddb.js';
import { MemoryStore } from '../../src/lib/core/storage/memory.js';
import { runStoreAcceptance } from '../../src/lib/core/testing/store-acceptance.js';

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
