// The research fold keyed by study (research/fold.ts `keyed`): study blocks that land late
// re-apply only their studies, and after every late batch the state equals a fold in ledger
// order: approvals before or after the study, queries spending the budget in ledger order
// (over budget, before approval, after the end), query ids reused across studies (the first
// in ledger order wins: a late query re-applies the studies of the queries filed under its
// id, never rewinding the fold), results of queries before or after them.
// Driven by hand as the fold engine does (support/keyed-by-hand.ts).
import { describe, expect, it } from 'vitest';
import { toHex, type Block, type Tx } from '$lib/core/index.js';
import { prng } from '$lib/core/testing/prng.js';
import { researchFold } from '$lib/domain/research/fold.js';
import { researchView } from '$lib/domain/research/pages.js';
import { approveStudyTx, registerStudyTx, studyQueryTx, studyResultTx } from '$lib/domain/research/study.js';
import { folded, inOrder, lateArrivals, unsignedBlock } from '../../support/keyed-by-hand.js';

const NOW = 1_720_000_000_000;
const bytes = (n: number, length: number) => new Uint8Array(length).fill(n);
// Enough studies that a late batch leaves some alone: a late query must reach the study that held its id.
const STUDIES = 12;
const SPEC = JSON.stringify({ cohort: {}, measure: { kind: 'count' } });

function studyLedger(seed: number): Block[] {
	const random = prng(seed);
	const researcher = 'aa'.repeat(32);
	const admins = ['bb'.repeat(32), 'cc'.repeat(32)];
	const blocks: Block[] = [];
	const issued = new Map<number, Uint8Array[]>();
	for (let n = 0; n < 90; n++) {
		const study = Math.floor(random() * STUDIES);
		const roll = random();
		let author = researcher;
		let tx: Tx;
		if (roll < 0.15)
			tx = registerStudyTx(
				{
					title: `study ${study}`,
					protocol: 'p',
					ethics: 'e',
					categories: ['labs'],
					criteria: 'all',
					ends: NOW + (study + 2) * 15_000,
					budget: study % 2 === 0 ? 1_000 : 0,
					k: 5,
					rows: false
				},
				bytes(study + 1, 16)
			);
		else if (roll < 0.3) {
			author = admins[Math.floor(random() * 2)]!;
			tx = approveStudyTx(toHex(bytes(study + 1, 16)));
		} else if (roll < 0.8 || !(issued.get(study)?.length ?? 0)) {
			const id = bytes(Math.floor(random() * 10) + 50, 16);
			(issued.get(study) ?? issued.set(study, []).get(study)!).push(id);
			tx = studyQueryTx(toHex(bytes(study + 1, 16)), SPEC, study % 2 === 0 ? 300 : 0, id);
		} else {
			const queries = issued.get(study)!;
			tx = studyResultTx(toHex(bytes(study + 1, 16)), toHex(queries[Math.floor(random() * queries.length)]!), {
				eph: bytes(1, 32),
				knonce: bytes(2, 24),
				wrapped: bytes(3, 48),
				nonce: bytes(4, 24),
				ct: bytes(5, 40)
			});
		}
		if (tx.t === 'study.result') author = admins[Math.floor(random() * 2)]!;
		blocks.push(
			unsignedBlock(`study/${seed}/${n}`, {
				author,
				seq: n,
				// Most studies are registered early; queries and results then fall before or after approvals and each other.
				clock: tx.t === 'study.register' && random() < 0.8 ? 1 + Math.floor(random() * 4) : 1 + Math.floor(random() * 40),
				time: NOW + Math.floor(random() * 40_000),
				txs: [tx]
			})
		);
	}
	return inOrder(blocks);
}

describe('the research fold keyed by study', () => {
	it('re-applying the late batches’ studies gives, after every batch, the state of a fold in ledger order', () => {
		let reapplied = 0;
		let rewound = 0;
		for (let seed = 1; seed <= 8; seed++) {
			const counts = lateArrivals(researchFold, studyLedger(seed), prng(200 + seed), 6, 0.3);
			reapplied += counts.reapplied;
			rewound += counts.rewound;
		}
		expect(reapplied).toBeGreaterThan(10);
		expect(rewound).toBe(0);
		// The ledgers hold what order decides: accepted and refused queries, results.
		const states = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => folded(researchFold, studyLedger(seed)));
		const queries = states.flatMap((state) => Object.values(researchView(state).queries));
		expect(new Set(queries.map((q) => q.status))).toEqual(new Set(['accepted', 'refused']));
		expect(queries.some((q) => Object.keys(q.results).length > 0)).toBe(true);
		// Ids asked under two studies, and results naming a study whose query lost its id: what the query index decides.
		const asked = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((seed) =>
			studyLedger(seed).flatMap((b) =>
				b.txs.filter((tx) => tx.t === 'study.query').map((tx) => [toHex(tx.id as Uint8Array), toHex(tx.study as Uint8Array)])
			)
		);
		const studiesOf = new Map<string, Set<string>>();
		for (const [id, s] of asked) (studiesOf.get(id!) ?? studiesOf.set(id!, new Set()).get(id!)!).add(s!);
		expect([...studiesOf.values()].some((set) => set.size > 1)).toBe(true);
	});
});
