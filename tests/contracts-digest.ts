/**
 * Outcomes of the claims fold over the seeded synthetic ledger, as a digest, shared by the
 * Node test (tests/unit/contracts-digest.test.ts) and the Chromium test
 * (tests/browser/contracts.test.ts): both runtimes must compute this same value from the
 * same blocks. A change to the fold's meaning changes it: recompute with
 * `npx vitest run --project unit tests/unit/contracts-digest.test.ts` (it prints the value).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCanonical, toHex, type CborValue } from '../src/lib/core/index.js';
import { allFlags, claimsFold, reconcile } from '../src/lib/domain/contracts/index.js';
import { syntheticClaims } from '../src/lib/domain/contracts/synthetic.js';

export const EXPECTED_OUTCOME_DIGEST = '9708b7ff6c00ead7e5bccf25f768e9e6614038aa29b5bd1f8f1146e9cce02d8f';

/** Digest of the claims state, the flags and the reconciliation after folding the seeded ledger. */
export function outcomeDigest(): string {
	const { blocks } = syntheticClaims({ seed: 42, claims: 300, fraud: true });
	let state = claimsFold.init();
	for (const b of blocks) state = claimsFold.apply(state, b);
	return toHex(sha256(encodeCanonical({ state, flags: allFlags(state), reconcile: reconcile(state) } as unknown as CborValue)));
}
