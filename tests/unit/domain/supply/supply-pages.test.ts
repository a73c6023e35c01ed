// The supply fold's pages as rows of the memory store: tests/supply-pages-scenario.ts
// (the same in Chromium's IndexedDB: tests/browser/supply-pages.test.ts).
import { describe, expect, it } from 'vitest';
import { KeptStore } from '../../support/kept-store.js';
import { checkSupplyPages } from '../../../supply-pages-scenario.js';

describe('supply pages in the store', () => {
	it('every arrival order and batching, and a reopen with no page in memory, read back the supply state the writing nodes folded', async () => {
		// Three lots, three transfers received, four transfers' flags (one never sent), one serial: eleven rows after each reopen.
		expect(
			await checkSupplyPages(
				8,
				async () => new KeptStore(),
				async (_trial, store) => store
			)
		).toBe(8 * 11);
	}, 120_000);
});
