/**
 * Outcomes of the claims fold over the seeded synthetic ledger, as a digest, shared by the
 * Node test (tests/unit/domain/contracts/contracts-digest.test.ts) and the Chromium test
 * (tests/browser/contracts.test.ts): both runtimes must compute this same value from the
 * same blocks. A change to the fold's meaning changes it: recompute with
 * `npx vitest run --project unit tests/unit/domain/contracts/contracts-digest.test.ts` (it prints the value).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCanonical, toHex, type CborValue } from '../src/lib/core/index.js';
import { allFlags, claimsFold, reconcile } from '../src/lib/domain/contracts/index.js';
import { syntheticClaims } from './synthetic/claims.js';

export const EXPECTED_OUTCOME_DIGEST = '734af519b5babded5f1920c1476f680784c28a24fef3a625f2937a2c409a7747';

/** Digest of the claims state, the flags and the reconciliation after folding the seeded ledger. */
export function outcomeDigest(): string {
	const { blocks } = syntheticClaims({ seed: 42, claims: 300, fraud: true });
	let state = claimsFold.init();
	for (const b of blocks) state = claimsFold.apply(state, b);
	return toHex(sha256(encodeCanonical({ state, flags: allFlags(state), reconcile: reconcile(state) } as unknown as CborValue)));
}
