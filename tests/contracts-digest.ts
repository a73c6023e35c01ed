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
import { allFlags, claimsFold, reconcile } from '../src/lib/domain/contracts/index.js';
import { syntheticClaims } from './synthetic/claims.js';

export const EXPECTED_OUTCOME_DIGEST = 'fb4154d6dcb8e82211fe4502edf5afe99a7f3d7adb0d61d617b27d32761e206b';

/** Digest of the claims state, the flags and the reconciliation after folding the seeded ledger. */
export function outcomeDigest(): string {
	const { blocks } = syntheticClaims({ seed: 42, claims: 300, fraud: true });
	const state = foldBlocks(claimsFold, blocks);
	return toHex(sha256(encodeCanonical({ state, flags: allFlags(state), reconcile: reconcile(state) } as unknown as CborValue)));
}
