// The research fold's pages as rows of the memory store: tests/research-pages-scenario.ts
// (the same in Chromium's IndexedDB: tests/browser/research-pages.test.ts).
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '$lib/core/index.js';
import { checkResearchPages } from '../../../research-pages-scenario.js';

/** A store a ledger's close leaves open, to reopen it. */
class KeptStore extends MemoryStore {
	override async close() {}
}

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
