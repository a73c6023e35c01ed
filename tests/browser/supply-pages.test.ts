/**
 * The supply fold's pages as rows of real IndexedDB in Chromium (core/ledger/fold-pages.ts):
 * tests/supply-pages-scenario.ts, each observer on its own database, reopened from it.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/lib/core/index.js';
import { checkSupplyPages } from '../supply-pages-scenario.js';

const run = `${Date.now()}`;

describe('supply pages in IndexedDB', () => {
	it('every arrival order and batching, and a reopen with no page in memory, read back the supply state the writing nodes folded', async () => {
		expect(
			await checkSupplyPages(
				4,
				(trial) => IndexedDBStore.open(`supply-pages-${run}-${trial}`),
				(trial) => IndexedDBStore.open(`supply-pages-${run}-${trial}`)
			)
		).toBe(4 * 11);
	}, 240_000);
});
