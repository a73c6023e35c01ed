// Every page a block reads or changes is one the fold names for it (core/fold.ts
// `FoldPages.keysOf`, `moreKeysOf`): each paged fold of the app, folded by hand with every
// page stored and let go before each block (support/pages-by-hand.ts), reaches the state of
// a fold that keeps every page in memory. A page left unnamed throws `PAGE_NOT_READ`.
import { describe, expect, it } from 'vitest';
import { decodeBlock, type Block, type Fold } from '$lib/core/index.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { claimsFold } from '$lib/domain/contracts/index.js';
import { researchFold } from '$lib/domain/research/fold.js';
import { supplyFold } from '$lib/domain/supply/fold.js';
import { claimsNetwork } from '../../claims-pages-scenario.js';
import { researchNetwork } from '../../research-pages-scenario.js';
import { supplyNetwork } from '../../supply-pages-scenario.js';
import { syntheticClaims } from '../../synthetic/claims.js';
import { inOrder } from '../support/keyed-by-hand.js';
import { canonicalState } from '../support/canonical-state.js';
import { foldNamingPages } from '../support/pages-by-hand.js';

function namesEveryPage<S>(fold: Fold<S>, blocks: readonly Block[]): void {
	expect(canonicalState(foldNamingPages(fold, blocks))).toBe(canonicalState(foldBlocks(fold, inOrder(blocks))));
}

const decoded = (wire: readonly Uint8Array[]) => wire.map((bytes) => decodeBlock(bytes));

describe('every page a block touches is named for it', () => {
	it('claims: claims, appeals and grants naming coverages and authorizations, re-enrolments, deaths, payments', async () => {
		namesEveryPage(claimsFold, decoded((await claimsNetwork()).wire));
		for (const seed of [1, 2]) namesEveryPage(claimsFold, syntheticClaims({ seed, claims: 120, fraud: true }).blocks);
	}, 60_000);

	it('research: studies, approvals, consents, queries reusing ids, results', async () => {
		namesEveryPage(researchFold, decoded((await researchNetwork()).wire));
	});

	it('supply: lots, transfers received, sent twice, never sent, serials reused, recalls', async () => {
		namesEveryPage(supplyFold, decoded((await supplyNetwork()).wire));
	});
});
