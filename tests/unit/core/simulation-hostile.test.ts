// The lossy-mesh simulation with an equivocating member and a revocation during the
// partition (tests/unit/support/seeded-mesh.ts).
import { describe, expect, it } from 'vitest';
import { createNodeVerifier } from '../../../src/lib/core/crypto/node-verifier.js';
import { HOSTILE_SEEDS, simulate } from '../support/seeded-mesh.js';

describe('seeded simulation: an equivocating member and a revocation during a partition', () => {
	it(`all ${HOSTILE_SEEDS} seeds converge on the stored set, heads, void set and evidence, not only on the fold`, async () => {
		const verifier = await createNodeVerifier();
		const failures: string[] = [];
		for (let seed = 1; seed <= HOSTILE_SEEDS; seed++) {
			const problem = await simulate(seed, verifier, true);
			if (problem) failures.push(`seed ${seed}: ${problem}`);
		}
		expect(failures).toEqual([]);
	}, 600_000);
});
