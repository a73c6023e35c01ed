// The records fold is commutative (fold.ts `commutative`): applying the same blocks in any
// order gives the state folding them in ledger order gives, so the fold engine applies a
// late block in place instead of rewinding. Checked on generated blocks full of the cases
// where order used to matter: a record id claimed for several patients and categories,
// committed (salted) and uncommitted versions, late earlier versions, repeated request ids,
// wraps of one key in several blocks, ties of clock.
import { describe, expect, it } from 'vitest';
import { compareOrder, orderKey, type Block, type BlockId, type Tx } from '$lib/core/index.js';
import { prng } from '$lib/core/testing/prng.js';
import { recordsFold } from '$lib/domain/records/fold.js';
import { canonicalState } from '../../support/canonical-state.js';

const bytes = (n: number, length: number) => Uint8Array.from({ length }, (_, i) => (n * 31 + i) & 255);
const hexId = (n: number) => n.toString(16).padStart(64, '0') as BlockId;

function generate(seed: number): Block[] {
	const rand = prng(seed);
	const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
	const patients = [1, 2, 3].map((n) => bytes(n, 32));
	const categories = ['labs', 'encounters', 'demographics'];
	// Each record id is committed to one owner: a salted version always names it (the rule checks the commitment).
	const rids = [1, 2, 3, 4, 5].map((n) => ({
		rid: bytes(100 + n, 16),
		// Some ids are never committed: written before ids were commitments, contested between patients.
		salt: n % 2 === 0 ? bytes(200 + n, 16) : null,
		patient: pick(patients),
		category: pick(categories)
	}));
	const blocks: Block[] = [];
	for (let i = 0; i < 40; i++) {
		const txs: Tx[] = [];
		for (let t = 0; t < 1 + Math.floor(rand() * 3); t++) {
			const kind = rand();
			if (kind < 0.55) {
				const r = pick(rids);
				const salted = r.salt !== null && rand() < 0.4;
				const owner = salted || rand() < 0.5;
				txs.push({
					t: 'record.put',
					rid: r.rid,
					patient: owner ? r.patient : pick(patients),
					category: owner ? r.category : pick(categories),
					epoch: Math.floor(rand() * 2),
					kid: bytes(Math.floor(rand() * 3), 16),
					...(salted ? { salt: r.salt! } : {}),
					...(rand() < 0.3 ? { prev: bytes(7, 32) } : {}),
					nonce: bytes(i, 24),
					ct: bytes(i, 10 + Math.floor(rand() * 20))
				});
			} else if (kind < 0.8) {
				txs.push({
					t: 'key.wrap',
					kid: bytes(Math.floor(rand() * 3), 16),
					patient: pick(patients),
					category: pick(categories),
					epoch: 0,
					wraps: [{ reader: pick(patients), eph: bytes(i, 32), nonce: bytes(i + 1, 24), wrapped: bytes(i + 2, 48) }]
				});
			} else {
				txs.push({
					t: rand() < 0.5 ? 'access.request' : 'access.breakglass',
					id: bytes(300 + Math.floor(rand() * 3), 16),
					patient: pick(patients),
					categories: [pick(categories)],
					reason: `reason ${i}`,
					purpose: 'treatment'
				});
			}
		}
		blocks.push({
			id: hexId(1 + Math.floor(rand() * 1e9)),
			author: hexId(1 + (i % 3)),
			seq: i,
			clock: Math.floor(rand() * 12),
			time: i,
			txs
		} as unknown as Block);
	}
	return blocks;
}

const fold = (blocks: readonly Block[]) => canonicalState(blocks.reduce((s, b) => recordsFold.apply(s, b), recordsFold.init()));

describe('records fold: commutative', () => {
	it('reaches the in-order state from 50 arrival orders of each of 30 generated ledgers', () => {
		let contested = 0;
		for (let seed = 1; seed <= 30; seed++) {
			const blocks = generate(seed);
			const inOrder = [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
			const expected = fold(inOrder);
			if (expected.includes('"contested"')) contested++;
			const rand = prng(seed * 7);
			for (let run = 0; run < 50; run++) {
				const order = [...blocks];
				for (let i = order.length - 1; i > 0; i--) {
					const j = Math.floor(rand() * (i + 1));
					[order[i], order[j]] = [order[j]!, order[i]!];
				}
				expect(fold(order)).toBe(expected);
			}
			// And through a checkpoint in the middle, as the engine does.
			const half = recordsFold.decode(
				recordsFold.encode(inOrder.slice(0, 20).reduce((s, b) => recordsFold.apply(s, b), recordsFold.init()))
			);
			expect(canonicalState(inOrder.slice(20).reduce((s, b) => recordsFold.apply(s, b), half))).toBe(expected);
		}
		// The generator reaches the contested cases (uncommitted claims for other patients).
		expect(contested).toBeGreaterThan(5);
	});
});
