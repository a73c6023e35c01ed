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
import { claimResource } from '$lib/domain/contracts/claim.js';
import { dateOfDay, dayOf } from '$lib/domain/contracts/dates.js';
import { samplePolicy } from '$lib/domain/contracts/sample.js';
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
	const add = (author: string, clock: number, txs: Tx[], deps: BlockId[], time = data.blocks[0]!.time) =>
		extra.push(unsignedBlock(`extra/${seed}/${extra.length}`, { author, seq: 1000 + extra.length, clock, time, txs, deps }));
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
	const patientKey = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
	// Mid-ledger changes of the head the pages read as of each transaction: coverages
	// re-enrolled ending early, and a device of one clinic named another's.
	const middle = Math.floor(data.blocks[data.blocks.length - 1]!.clock / 2);
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
	// Prior-authorized MRIs, each granted before or after its claim (denied until the grant
	// sorts before it), one grant id granted twice, and a coverage another payer tries to
	// take over: a late one rebuilds the payers' part of the head (claims-head.ts).
	const lastClock = data.blocks[data.blocks.length - 1]!.clock;
	// Claims are decided under the contract versions in their causal past. A version 2 with a
	// copay, which the MRIs after it have seen; the same version deployed again, and the plan
	// deployed by a clinic (both refused).
	const deployed = data.blocks.find((b) => b.txs.some((tx) => tx.t === 'contract.deploy'))!.id;
	const v2Clock = Math.floor(lastClock / 3);
	const v2 = unsignedBlock(`extra/${seed}/v2`, {
		author: data.payer,
		seq: 999,
		clock: v2Clock,
		time: data.blocks[0]!.time,
		txs: [{ t: 'contract.deploy', plan: 'sample-ppo', version: 2, policy: samplePolicy({ copay: 2_000 }) }],
		deps: [deployed]
	});
	extra.push(v2);
	add(data.payer, v2Clock + 40, [{ t: 'contract.deploy', plan: 'sample-ppo', version: 2, policy: samplePolicy() }], [v2.id]);
	add(data.clinics[2]!, v2Clock + 9, [{ t: 'contract.deploy', plan: 'sample-ppo', version: 9, policy: samplePolicy() }], []);
	for (let n = 0; n < 8; n++) {
		const patient = n % data.patients.length;
		const clinic = n % data.clinics.length;
		const clock = 5 + Math.floor(random() * (lastClock - 10));
		const day = dateOfDay(dayOf('2025-01-20')! + n);
		const form = {
			patient: data.patients[patient]!,
			provider: data.clinics[clinic]!,
			coverage: `cov-${patient}`,
			preAuth: [`auth-${n % 6}`],
			diagnoses: ['M25.561'],
			created: day,
			lines: [{ code: '73721', units: 1, unitPrice: 30_000, date: day, encounter: { block: 'ab'.repeat(32), rid: 'cd'.repeat(16) } }]
		};
		// Filed on 2025-02-01: the service is neither in the future nor too old.
		add(
			data.clinics[clinic]!,
			clock,
			[{ t: 'claim.submit', claim: JSON.stringify(claimResource(form)) }],
			clock > v2Clock ? [deployed, v2.id] : [deployed],
			Date.UTC(2025, 1, 1)
		);
		const grant = {
			t: 'auth.grant',
			id: `auth-${n % 6}`,
			coverage: `cov-${patient}`,
			code: '73721',
			start: '2025-01-01',
			end: '2025-12-31'
		};
		add(data.payer, clock + (random() < 0.5 ? -2 : 2), [grant], []);
	}
	add(
		data.clinics[0]!,
		middle + 1,
		[{ t: 'coverage.enroll', id: 'cov-7', plan: 'sample-ppo', patient: patientKey(data.patients[7]!), start: '2025-01-01' }],
		[]
	);
	// A remittance of a claim that never exists.
	add(data.payer, 3, [{ t: 'remittance.record', claim: `${'ab'.repeat(32)}-0`, amount: 1 }], []);
	return inOrder([...data.blocks, ...extra]);
}

describe('the claims fold keyed by patient', () => {
	it('re-applying the late batches’ patients gives, after every batch, the state of a fold in ledger order', () => {
		let reapplied = 0;
		let rebuilt = 0;
		let rewound = 0;
		for (let seed = 1; seed <= 6; seed++) {
			const counts = lateArrivals(claimsFold, ledger(seed), prng(seed), 4);
			reapplied += counts.reapplied;
			rebuilt += counts.rebuilt;
			rewound += counts.rewound;
		}
		expect(reapplied).toBeGreaterThan(100);
		// Late coverages and authorizations rebuilt those instead of rewinding; a late clinic mapping or contract still rewinds.
		expect(rebuilt).toBeGreaterThan(20);
		expect(rewound).toBeGreaterThan(0);
		// The head changes mid-ledger did change outcomes: pages must read it as of each transaction.
		const state = folded(claimsFold, ledger(1));
		expect(ignoredOf(state).some((i) => i.reason === 'provider is not the submitting clinic')).toBe(true);
		expect(allClaims(state).some((c) => c.decisions.some((d) => d.lines.some((l) => l.adjustments[0]?.carc === CARC.afterCoverage)))).toBe(
			true
		);
		// So did the authorizations: some MRIs authorized, some denied for want of one, a grant id refused as taken, a coverage as another payer's.
		const mri = allClaims(state).filter((c) => c.lines.some((l) => l.code === '73721'));
		const carcs = new Set(mri.map((c) => c.decisions.at(-1)!.lines[0]!.adjustments[0]?.carc ?? 'paid'));
		expect(carcs.has(CARC.noAuthorization)).toBe(true);
		expect(carcs.size).toBeGreaterThan(1);
		expect(ignoredOf(state).some((i) => i.reason.startsWith('authorization auth-'))).toBe(true);
		expect(ignoredOf(state).some((i) => i.reason === 'coverage cov-7 belongs to another payer')).toBe(true);
		// And the contract versions: MRIs decided under version 2 and under version 1, the second deploy of 2 and a clinic's refused.
		expect(new Set(mri.map((c) => c.decisions.at(-1)!.version))).toEqual(new Set([1, 2]));
		expect(ignoredOf(state).some((i) => i.reason === 'version 2 is not after version 2')).toBe(true);
		expect(ignoredOf(state).some((i) => i.reason === 'plan sample-ppo belongs to another payer')).toBe(true);
	});
});
