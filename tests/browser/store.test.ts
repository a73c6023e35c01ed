import { IndexedDBStore } from '../../src/lib/core/storage/indexeddb.js';
import { runStoreAcceptance } from '../../src/lib/core/testing/store-acceptance.js';

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
