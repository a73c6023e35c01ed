/**
 * The claims fold's pages as rows of real IndexedDB in Chromium (core/ledger/fold-pages.ts):
 * tests/claims-pages-scenario.ts, each observer on its own database, reopened from it.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../src/lib/core/index.js';
import { checkClaimsPages } from '../claims-pages-scenario.js';

const run = `${Date.now()}`;

describe('claims pages in IndexedDB', () => {
	it('every arrival order and batching, and a reopen, read back the claims the writing nodes folded', async () => {
		const { stored, pages } = await checkClaimsPages(
			4,
			(trial) => IndexedDBStore.open(`claims-pages-${run}-${trial}`),
			(trial) => IndexedDBStore.open(`claims-pages-${run}-${trial}`)
		);
		expect(stored).toBe(4 * pages);
	}, 240_000);
});
