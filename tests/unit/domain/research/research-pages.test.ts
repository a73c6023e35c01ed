// The research fold's pages as rows of the memory store: tests/research-pages-scenario.ts
// (the same in Chromium's IndexedDB: tests/browser/research-pages.test.ts).
import { describe, expect, it } from 'vitest';
import { KeptStore } from '../../support/kept-store.js';
import { checkResearchPages } from '../../../research-pages-scenario.js';

describe('research pages in the store', () => {
	it('every arrival order and batching, and a reopen with no page in memory, read back the studies the writing nodes folded', async () => {
		// Three studies (one has only its registration), each a row after the reopen.
		expect(
			await checkResearchPages(
				8,
				async () => new KeptStore(),
				async (_trial, store) => store
			)
		).toBe(8 * 3);
	}, 120_000);
});
