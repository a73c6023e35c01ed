/**
 * Outcomes of the claims fold over the seeded synthetic ledger, as a digest, shared by the
 * Node test (tests/unit/domain/contracts/contracts-digest.test.ts) and the Chromium test
 * (tests/browser/contracts.test.ts): both runtimes must compute this same value from the
 * same blocks. A change to the fold's meaning changes it: recompute with
 * `npx vitest run --project unit tests/unit/domain/contracts/contracts-digest.test.ts` (it prints the value).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCanonical, toHex, type CborValue } from '../src/lib/core/index.js';
import { foldBlocks } from '../src/lib/core/testing/fold-contexts.js';
import {
	accountsOf,
	allClaims,
	allFlags,
	claimsFold,
	deathsOf,
	ignoredOf,
	paymentsOf,
	reconcile,
	remittancesOf,
	type ClaimsState
} from '../src/lib/domain/contracts/index.js';
import { syntheticClaims } from './synthetic/claims.js';

export const EXPECTED_OUTCOME_DIGEST = '0982e24ae2b7592d0f3765f0a4eb9d4c70283b364c3057678f50ae6201825f40';

/**
 * What the claims fold decided, whatever layout its state has: every claim with its
 * decisions (ledger order), the flags, the reconciliation and accounts, payments,
 * remittances, what was ignored, and the contracts, coverages, authorizations, clinics and
 * deaths they rest on.
 */
export function claimsOutcome(state: ClaimsState): CborValue {
	const { contracts, clinics } = state;
	// Each coverage as last enrolled, and each authorization, by id (as the head held them before they were pages).
	const coverages = Object.fromEntries(Object.entries(state.coverages.toJSON()).map(([id, versions]) => [id, versions.at(-1)!]));
	const auths = state.auths.toJSON();
	return {
		claims: allClaims(state),
		flags: allFlags(state),
		reconcile: reconcile(state),
		accounts: accountsOf(state),
		payments: paymentsOf(state),
		remittances: remittancesOf(state),
		ignored: ignoredOf(state),
		contracts,
		coverages,
		auths,
		clinics,
		deaths: deathsOf(state)
	} as unknown as CborValue;
}

/** Digest of what the claims fold decided over the seeded ledger ({@link claimsOutcome}). */
export function outcomeDigest(seed = 42): string {
	const { blocks } = syntheticClaims({ seed, claims: 300, fraud: true });
	return toHex(sha256(encodeCanonical(claimsOutcome(foldBlocks(claimsFold, blocks)))));
}
