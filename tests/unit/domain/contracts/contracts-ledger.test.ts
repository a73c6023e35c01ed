import { describe, expect, it } from 'vitest';
import { detectVerifier, LedgerError, toHex, type CborValue, type Ledger } from '$lib/core/index.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { prng } from '$lib/core/testing/prng.js';
import { publicKeyOf } from '$lib/core/crypto/ed25519.js';
import {
	allClaims,
	claimById,
	type ClaimForm,
	claimResource,
	type ClaimsState,
	currentDecision,
	reconcile,
	recordedFlags,
	samplePolicy
} from '$lib/domain/contracts/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { shuffled } from '../../support/arrival-orders.js';
import { canonicalState } from '../../support/canonical-state.js';

const DAY = 86_400_000;
const PATIENT = publicKeyOf(testSecret('patient'));
const ENC = { block: 'e1'.repeat(32), rid: 'f2'.repeat(16) };

/** A network with a payer, a billing clinic and a clinician; every node's clock is `time.now`. */
async function network() {
	const time = { now: Date.UTC(2025, 2, 5) };
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, now: () => time.now, verifier: await detectVerifier() };
	const founder = await foundNetwork({ ...options, members: { payer: 'payer', clinic: 'billing', doctor: 'clinician' } });
	const nodes: Record<string, Ledger> = { founder };
	for (const label of ['payer', 'clinic', 'doctor']) {
		nodes[label] = await joinNetwork(founder.net, label, options);
		await syncInto(nodes[label]!, founder);
	}
	return { time, nodes, options, founder };
}

function claimTx(clinic: Ledger, lines: { code: string; price: number; date?: string; units?: number }[], extra: Partial<ClaimForm> = {}) {
	const form: ClaimForm = {
		patient: toHex(PATIENT),
		provider: clinic.author!,
		coverage: 'cov-1',
		diagnoses: ['E11.9', 'I10'],
		created: '2025-03-05',
		lines: lines.map((l) => ({ code: l.code, units: l.units ?? 1, unitPrice: l.price, date: l.date ?? '2025-03-03', encounter: ENC })),
		...extra
	};
	return { t: 'claim.submit', claim: JSON.stringify(claimResource(form)) };
}

const refusal = async (ledger: Ledger, txs: CborValue[]) => {
	try {
		await ledger.append(txs as never);
		return null;
	} catch (error) {
		expect(error).toBeInstanceOf(LedgerError);
		return error as LedgerError;
	}
};

describe('claims contracts on a real ledger', () => {
	it('only a payer deploys a policy; a rule set that loops, nests too deep or exceeds the budget is refused at deploy', async () => {
		const { nodes } = await network();
		const deploy = (policy: CborValue) => ({ t: 'contract.deploy', plan: 'ppo', version: 1, policy });
		const byClinic = await refusal(nodes.clinic!, [deploy(samplePolicy())]);
		expect(byClinic?.code).toBe('NOT_AUTHORIZED');
		expect(byClinic?.detail).toMatch(/role "billing" may not sign it \(allowed: payer\)/);
		const withEdit = (when: CborValue) => ({
			...(samplePolicy() as Record<string, CborValue>),
			defs: { a: { ref: 'b' }, b: { '!': { ref: 'a' } } },
			edits: [{ id: 'e', text: 'e', carc: '16', when }]
		});
		let deep: CborValue = true;
		for (let i = 0; i < 25; i++) deep = { '!': deep }; // past the rule limit (24), within the block codec's nesting limit
		const over: CborValue = { all: [{ var: 'claim.codes' }, { all: [{ var: 'claim.codes' }, { all: [{ var: 'claim.codes' }, true] }] }] };
		for (const [when, code] of [
			[{ ref: 'a' }, 'RULE_LOOP'],
			[deep, 'RULE_TOO_DEEP'],
			[over, 'RULE_OVER_BUDGET'],
			[{ method: [{ var: 'line' }, 'constructor'] }, 'RULE_UNKNOWN_OP']
		] as [CborValue, string][]) {
			const error = await refusal(nodes.payer!, [deploy(withEdit(when))]);
			expect(error?.code).toBe('TX_INVALID');
			expect(error?.detail).toContain(code);
		}
		expect(await refusal(nodes.payer!, [deploy(samplePolicy())])).toBeNull();
		expect((nodes.payer!.state().claims as ClaimsState).contracts.ppo!.versions).toHaveLength(1);
	});

	it('refuses a malformed claim with the JSON path of each error, and records nothing of its block', async () => {
		const { nodes } = await network();
		const good = claimTx(nodes.clinic!, [{ code: '99213', price: 9_200 }]);
		const broken = JSON.parse(good.claim);
		broken.item[0].quantity.value = 0;
		broken.patient.reference = 'Patient/jane-doe';
		const error = await refusal(nodes.clinic!, [good, { t: 'claim.submit', claim: JSON.stringify(broken) }]);
		expect(error?.code).toBe('TX_INVALID');
		expect(error?.detail).toBe(
			'txs[1] (claim.submit): claim.patient.reference: expected Patient/<patient key, 64 hex>; claim.item[0].quantity.value: expected whole units from 1 to 999; claim.item[0].net.value: is not unitPrice × quantity'
		);
		const state = nodes.clinic!.state().claims as ClaimsState;
		expect(allClaims(state)).toEqual([]);
		expect(nodes.clinic!.size).toBe(2);
	});

	it('1,000 random arrival orders of the same blocks give identical outcomes', async () => {
		const { time, nodes, options, founder } = await network();
		const [payer, clinic, doctor] = [nodes.payer!, nodes.clinic!, nodes.doctor!];
		await payer.append([{ t: 'contract.deploy', plan: 'ppo', version: 1, policy: samplePolicy() }]);
		await payer.append([{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: PATIENT, start: '2025-01-01' }]);
		await syncInto(clinic, payer);
		const a = await clinic.append([
			claimTx(clinic, [
				{ code: '99214', price: 15_000 },
				{ code: '36415', price: 500 },
				{ code: '80053', price: 1_500 }
			])
		]);
		time.now += DAY;
		await syncInto(payer, clinic);
		// Concurrent: the payer deploys version 2 while the clinic, not yet seeing it, bills again.
		await payer.append([{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 4_000 }) }]);
		const b = await clinic.append([
			claimTx(clinic, [
				{ code: '99213', price: 9_200, date: '2025-03-04' },
				{ code: '73721', price: 30_000, date: '2025-03-04' }
			])
		]);
		await clinic.append([claimTx(clinic, [{ code: '99213', price: 9_200, date: '2025-03-04' }])]); // a duplicate
		await syncInto(payer, clinic);
		await payer.append([
			{ t: 'auth.grant', id: 'pa-1', coverage: 'cov-1', code: '73721', start: '2025-03-01', end: '2025-03-31' },
			{ t: 'remittance.record', claim: `${a.id}-0`, amount: 1_000 }
		]);
		await syncInto(clinic, payer);
		await clinic.append([{ t: 'claim.appeal', original: `${b.id}-0`, reason: 'authorized', preAuthRef: ['pa-1'] }]);
		await clinic.append([{ t: 'payment.record', patient: PATIENT, amount: 2_500, claim: `${a.id}-0` }]);
		await doctor.append([{ t: 'patient.deceased', patient: PATIENT, date: '2025-03-03' }]);
		for (const node of [founder, payer, clinic, doctor])
			for (const other of [founder, payer, clinic, doctor]) if (node !== other) await syncInto(node, other);

		const digest = (ledger: Ledger) => canonicalState(ledger.state().claims);
		const expected = digest(founder);
		for (const node of [payer, clinic, doctor]) expect(digest(node)).toBe(expected);
		const state = founder.state().claims as ClaimsState;
		expect(state.count).toBe(3);
		// Claim a keeps version 1. Claim b was written without seeing version 2 (concurrent), so
		// version 1 decides it wherever version 2 sorts; its appeal, after the clinic saw
		// version 2, is decided under version 2.
		expect(claimById(state, `${a.id}-0`)!.decisions.map((d) => [d.kind, d.version])).toEqual([['original', 1]]);
		expect(claimById(state, `${b.id}-0`)!.decisions.map((d) => [d.kind, d.version])).toEqual([
			['original', 1],
			['appeal', 2]
		]);
		expect(
			recordedFlags(state)
				.map((f) => f.kind)
				.sort()
		).toEqual([
			'after-death',
			'after-death',
			'after-death',
			'duplicate',
			'encounter-missing',
			'encounter-missing',
			'encounter-missing',
			'encounter-missing',
			'encounter-missing',
			'encounter-missing'
		]);
		expect(reconcile(state).unbalanced).toEqual([]);
		expect(currentDecision(claimById(state, `${a.id}-0`)!)!.status).toBe('paid');

		const blocks: Uint8Array[] = [];
		for await (const bytes of founder.blocksSince({})) blocks.push(bytes);
		const random = prng(20251126);
		let reapplied = 0;
		let rebuilt = 0;
		for (let trial = 0; trial < 1000; trial++) {
			const order = shuffled(blocks, random);
			const node = await joinNetwork(founder.net, 'observer', options);
			for (let i = 0; i < order.length;) {
				const n = 1 + Math.floor(random() * 6);
				await node.receive(order.slice(i, i + n));
				i += n;
			}
			expect(node.size).toBe(blocks.length);
			expect(digest(node)).toBe(expected);
			reapplied += node.reapplied.keys;
			rebuilt += node.reapplied.shared;
		}
		// Some late batches (claims, appeals, payments, deaths, no head change) re-applied their patients’ pages instead of rewinding;
		// some late contracts, coverages and authorizations rebuilt those and re-applied the pages reading them (claims-head.ts).
		expect(reapplied).toBeGreaterThan(20);
		expect(rebuilt).toBeGreaterThan(5);
	}, 240_000);
});
