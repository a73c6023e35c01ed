/**
 * The research fold's pages as rows of real IndexedDB in Chromium (core/ledger/fold-pages.ts):
 * tests/research-pages-scenario.ts, each observer on its own database, reopened from it.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/lib/core/index.js';
import { checkResearchPages } from '../research-pages-scenario.js';

const run = `${Date.now()}`;

describe('research pages in IndexedDB', () => {
	it('every arrival order and batching, and a reopen with no page in memory, read back the studies the writing nodes folded', async () => {
		expect(
			await checkResearchPages(
				4,
				(trial) => IndexedDBStore.open(`research-pages-${run}-${trial}`),
				(trial) => IndexedDBStore.open(`research-pages-${run}-${trial}`)
			)
		).toBe(4 * 3);
	}, 240_000);
});
