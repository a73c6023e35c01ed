// The Billing screen adds claims one patient's page at a time, in no particular order:
// accounts, the reconciliation (its unbalanced claims in ledger order) and the provider
// outliers (their blocks in ledger order) come out the same whatever order the claims are
// added in, on seeded ledgers with fraud patterns, corrections, appeals and remittances.
import { describe, expect, it } from 'vitest';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { prng } from '$lib/core/testing/prng.js';
import { allClaims, BillingTally, claimsFold, paymentsOf, remittancesOf, VisitLevels } from '$lib/domain/contracts/index.js';
import { shuffled } from '../../support/arrival-orders.js';
import { syntheticClaims } from '../../../synthetic/claims.js';

describe('billing totals in any order', () => {
	it('accounts, reconciliation and provider outliers do not depend on the order claims are added in', () => {
		const random = prng(20261204);
		let outliers = 0;
		for (let seed = 1; seed <= 12; seed++) {
			const state = foldBlocks(claimsFold, syntheticClaims({ seed, claims: 300, fraud: true }).blocks);
			const inOrder = allClaims(state);
			const totals = (claims: typeof inOrder, pages: number[]) => {
				const tally = new BillingTally();
				const levels = new VisitLevels();
				for (const rec of claims) {
					tally.add(rec);
					levels.add(rec);
				}
				for (const key of pages) tally.addPaid(state.pages.view(String(key))!);
				return { accounts: tally.accounts(), reconciliation: tally.reconciliation(), outliers: levels.flags() };
			};
			const expected = totals(inOrder, state.pages.shorts());
			// What was paid is in the totals: a remittance or payment left out would show.
			expect(paymentsOf(state).length + remittancesOf(state).length).toBeGreaterThan(0);
			expect(expected.reconciliation.balancesMatch).toBe(true);
			outliers += expected.outliers.length;
			for (let trial = 0; trial < 5; trial++)
				expect(totals(shuffled(inOrder, random), shuffled(state.pages.shorts(), random))).toEqual(expected);
		}
		// The ledgers do raise provider outliers, so the order of their blocks was checked.
		expect(outliers).toBeGreaterThan(0);
	});
});
