// The claims fold keyed by patient (claims-fold.ts `keyed`): when blocks land before blocks
// already folded, re-applying only the pages of the patients (and orphaned claim ids) they
// touch gives the state a fold of every block in order gives, after every batch, whatever
// blocks arrive late and in what batches: corrections, appeals and remittances naming
// claims made before or after them, payments, deaths recorded after the claims they flag,
// all seven fraud patterns. This is the engine's re-apply (core/ledger/key-reapply.ts)
// done by hand over unsigned synthetic blocks (support/keyed-by-hand.ts); tests/unit/core/ledger/key-reapply.test.ts and
// the 1,000 arrival orders of contracts-ledger.test.ts run it in a ledger.
import { describe, expect, it } from 'vitest';
import { type Block, type BlockId, type Tx } from '$lib/core/index.js';
import { prng } from '$lib/core/testing/prng.js';
import { allClaims, CARC, claimsFold, ignoredOf } from '$lib/domain/contracts/index.js';
import { inOrder, folded, lateArrivals, unsignedBlock } from '../../support/keyed-by-hand.js';
import { syntheticClaims } from '../../../synthetic/claims.js';

/** A synthetic claims ledger with corrections, appeals, remittances and payments added, some naming claims that sort after them. */
function ledger(seed: number) {
	const data = syntheticClaims({ seed, claims: 120, patients: 12, fraud: true });
	const random = prng(seed * 7919);
	const extra: Block[] = [];
	const claims = data.blocks.flatMap((block) =>
		block.txs.flatMap((tx, i) => (tx.t === 'claim.submit' ? [{ block, tx, id: `${block.id}-${i}` }] : []))
	);
	const add = (author: string, clock: number, txs: Tx[], deps: BlockId[]) =>
		extra.push(
			unsignedBlock(`extra/${seed}/${extra.length}`, { author, seq: 1000 + extra.length, clock, time: data.blocks[0]!.time, txs, deps })
		);
	for (let n = 0; n < 24; n++) {
		const c = claims[Math.floor(random() * claims.length)]!;
		const roll = random();
		// Before the claim (an orphan until the claim counts) or after it.
		const clock = c.block.clock + (random() < 0.3 ? -1 : 1 + Math.floor(random() * 5));
		const deps = clock > c.block.clock ? [c.block.id] : [];
		if (roll < 0.3) add(c.block.author, clock, [{ t: 'claim.correct', original: c.id, claim: c.tx.claim! }], deps);
		else if (roll < 0.6) add(c.block.author, clock, [{ t: 'claim.appeal', original: c.id, reason: 'r', preAuthRef: [] }], deps);
		else if (roll < 0.8) add(data.payer, clock, [{ t: 'remittance.record', claim: c.id, amount: 100 + n }], deps);
		else {
			const other = data.patients[Math.floor(random() * data.patients.length)]!;
			const patient = Uint8Array.from(Buffer.from(other, 'hex'));
			add(c.block.author, clock, [{ t: 'payment.record', patient, amount: 50 + n, claim: c.id }], deps);
		}
	}
	// Mid-ledger changes of the head the pages read as of each transaction: coverages
	// re-enrolled ending early, and a device of one clinic named another's.
	const middle = Math.floor(data.blocks[data.blocks.length - 1]!.clock / 2);
	const patientKey = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
	const covered = data.patients.slice(0, 6).map((patient, i) => ({
		t: 'coverage.enroll',
		id: `cov-${i}`,
		plan: 'sample-ppo',
		patient: patientKey(patient),
		start: '2025-01-01',
		end: '2025-02-15'
	}));
	add(data.payer, middle, covered, []);
	add(
		data.payer,
		middle + 3,
		[{ t: 'member.add', key: patientKey(data.clinics[1]!), role: 'billing', clinic: patientKey(data.clinics[0]!) }],
		[]
	);
	// A remittance of a claim that never exists.
	add(data.payer, 3, [{ t: 'remittance.record', claim: `${'ab'.repeat(32)}-0`, amount: 1 }], []);
	return inOrder([...data.blocks, ...extra]);
}

describe('the claims fold keyed by patient', () => {
	it('re-applying the late batches’ patients gives, after every batch, the state of a fold in ledger order', () => {
		let reapplied = 0;
		let rewound = 0;
		for (let seed = 1; seed <= 6; seed++) {
			const counts = lateArrivals(claimsFold, ledger(seed), prng(seed), 4);
			reapplied += counts.reapplied;
			rewound += counts.rewound;
		}
		expect(reapplied).toBeGreaterThan(100);
		expect(rewound).toBeGreaterThan(0);
		// The head changes mid-ledger did change outcomes: pages must read it as of each transaction.
		const state = folded(claimsFold, ledger(1));
		expect(ignoredOf(state).some((i) => i.reason === 'provider is not the submitting clinic')).toBe(true);
		expect(allClaims(state).some((c) => c.decisions.some((d) => d.lines.some((l) => l.adjustments[0]?.carc === CARC.afterCoverage)))).toBe(
			true
		);
	});
});
