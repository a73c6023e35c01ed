// The payers' part of the claims fold's head rebuilt by itself (claims-head.ts): what the
// rebuild names for re-applying, and when it gives up so that the fold rewinds instead.
import { describe, expect, it } from 'vitest';
import { type Block, type Tx } from '$lib/core/index.js';
import { foldBlocks, foldContexts } from '$lib/core/testing/fold-contexts.js';
import { claimsFold, type ClaimsState } from '$lib/domain/contracts/index.js';
import { samplePolicy } from '$lib/domain/contracts/sample.js';
import { canonicalState } from '../../support/canonical-state.js';
import { inOrder, unsignedBlock } from '../../support/keyed-by-hand.js';
import { syntheticClaims } from '../../../synthetic/claims.js';

const piece = claimsFold.keyed!.shared!;
const payerBlocks = (blocks: readonly Block[]) => blocks.filter((b) => piece.touches(b));

/** The rebuild over the payer blocks of `folded` (what `state` holds) and `late`, as the engine hands them (ledger order, with contexts), against `state`. */
function rebuild(state: ClaimsState, folded: readonly Block[], late: readonly Block[] = []) {
	const contexts = foldContexts(claimsFold.reads);
	const all = inOrder([...folded, ...late]);
	const context = new Map(all.map((b) => [b.id, contexts(b)]));
	return piece.rebuild(
		state,
		payerBlocks(all).map((block) => ({ block, context: context.get(block.id)! })),
		new Set(late.map((b) => b.id))
	);
}

describe('the payers’ part of the claims head, rebuilt', () => {
	const data = syntheticClaims({ seed: 3, claims: 60, patients: 8 });
	const late = (txs: Tx[], label: string, clock = 2) =>
		unsignedBlock(`claims-head/${label}`, { author: data.payer, seq: 500, clock, time: data.blocks[0]!.time, txs });

	it('names nothing and changes nothing when the piece is as the state has it', () => {
		const state = foldBlocks(claimsFold, data.blocks);
		const before = canonicalState(state);
		const rebuilt = rebuild(state, data.blocks)!;
		expect(rebuilt.rows).toEqual([]);
		rebuilt.commit();
		expect(canonicalState(state)).toBe(before);
	});

	it('names the claims of a coverage whose entries changed, and of every coverage of a plan whose contract changed', () => {
		const state = foldBlocks(claimsFold, data.blocks);
		const coverage = late(
			[{ t: 'coverage.enroll', id: 'cov-2', plan: 'sample-ppo', patient: new Uint8Array(32), start: '2025-01-01' }],
			'cov'
		);
		expect(rebuild(state, data.blocks, [coverage])!.rows).toEqual(['v/cov-2']);
		const version = late([{ t: 'contract.deploy', plan: 'sample-ppo', version: 5, policy: samplePolicy() }], 'v5', 0);
		const rows = rebuild(state, data.blocks, [version])!.rows;
		// Version 5 sorts first, so the original version 1 is refused after it: every coverage of the plan.
		expect([...rows].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `v/cov-${i}`).sort());
	});

	it('gives up (the fold rewinds) when a changed id cannot be an index key, leaving the state as it was', () => {
		const state = foldBlocks(claimsFold, data.blocks);
		const before = canonicalState(state);
		for (const id of ['x'.repeat(300), 'nul\u0000id']) {
			const coverage = late(
				[{ t: 'coverage.enroll', id, plan: 'sample-ppo', patient: new Uint8Array(32), start: '2025-01-01' }],
				id.slice(0, 8)
			);
			expect(rebuild(state, data.blocks, [coverage])).toBeNull();
			const auth = late(
				[{ t: 'auth.grant', id, coverage: 'cov-1', code: '73721', start: '2025-01-01', end: '2025-12-31' }],
				`a${id.slice(0, 8)}`
			);
			expect(rebuild(state, data.blocks, [auth])).toBeNull();
		}
		expect(canonicalState(state)).toBe(before);
	});
});
