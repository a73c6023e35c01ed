// The claims fold's pages as rows of the store (core/ledger/fold-pages.ts) on the memory
// store: tests/claims-pages-scenario.ts (the same in Chromium: tests/browser/claims-pages.test.ts),
// and a checkpoint written before pages were rows, every page in it, opened by this release.
import { describe, expect, it } from 'vitest';
import { MemoryStore, type LedgerStore } from '$lib/core/index.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { claimsFold, type ClaimsState } from '$lib/domain/contracts/index.js';
import { checkClaimsPages } from '../../../claims-pages-scenario.js';
import { syntheticClaims } from '../../../synthetic/claims.js';
import { canonicalState } from '../../support/canonical-state.js';

/** A store a ledger's close leaves open, to reopen it. */
class KeptStore extends MemoryStore {
	override async close() {}
}

describe('claims pages in the store', () => {
	it('every arrival order and batching, and a reopen, read back the claims the writing nodes folded', async () => {
		const { stored, pages } = await checkClaimsPages(
			8,
			async () => new KeptStore(),
			async (_trial, store: LedgerStore) => store
		);
		expect(stored).toBe(8 * pages);
	}, 180_000);

	it('a checkpoint of the layout before pages were rows (every page in it) decodes to the same state, its pages counting as changed', () => {
		const state = foldBlocks(claimsFold, syntheticClaims({ seed: 3, claims: 80, fraud: true }).blocks);
		const value = claimsFold.encode(state) as { head: Uint8Array; pages: Uint8Array[] };
		// The old head: no `inlineKeys` (every page inline), no `sizes`.
		const { inlineKeys, sizes, ...old } = JSON.parse(new TextDecoder().decode(value.head)) as Record<string, unknown>;
		expect(inlineKeys).toEqual(old.pageKeys);
		expect(sizes).toBeDefined();
		const decoded = claimsFold.decode({ head: new TextEncoder().encode(JSON.stringify(old)), pages: value.pages });
		expect(canonicalState(decoded)).toBe(canonicalState(state));
		const pages = (decoded as ClaimsState).pages;
		// None is stored: the next checkpoint writes them all as rows.
		expect(
			pages
				.changed()
				.map(([key]) => key)
				.sort()
		).toEqual(pages.keys().sort());
		expect([...pages.sizes].sort()).toEqual([...state.pages.sizes].sort());
	});
});
