import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, type AuthorId, type Block, type BlockId, type CborValue, type Tx } from '$lib/core/index.js';
import {
	accountsOf,
	allFlags,
	claimResource,
	claimResponseOf,
	claimsFold,
	compileRule,
	currentDecision,
	dayOf,
	parseClaim,
	parsePolicy,
	reconcile,
	RuleError,
	ruleHolds,
	ruleText,
	samplePolicy,
	statementOf,
	type ClaimForm,
	type ClaimsState,
	type Decision
} from '$lib/domain/contracts/index.js';
import { syntheticClaims } from '../../../synthetic/claims.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import { CONTRACT_RULES } from '$lib/domain/contracts/transactions.js';

const DAY = 86_400_000;
const te = new TextEncoder();
const key = (label: string) => sha256(te.encode(`contracts-test/${label}`));
const hex = (label: string) => toHex(key(label));
const PAYER = hex('payer');
const CLINIC = hex('clinic');
const PATIENT = hex('patient');
const ENC = { block: 'e1'.repeat(32), rid: 'f2'.repeat(16) };

/** Hand-made decoded blocks, one per call, in order, each with the one before as its dependency (each has seen all earlier ones). */
function chain() {
	let clock = 0;
	const blocks: Block[] = [];
	return {
		blocks,
		/** `deps`: the block's dependencies when not just the block before it. */
		add(author: string, date: string, txs: Tx[], deps?: BlockId[]): Block {
			clock++;
			const id = toHex(sha256(te.encode(`${author}/${clock}`))) as BlockId;
			const b: Block = {
				id,
				net: '00'.repeat(32) as BlockId,
				author: author as AuthorId,
				seq: clock,
				prev: null,
				deps: deps ?? (blocks.length > 0 ? [blocks[blocks.length - 1]!.id] : []),
				clock,
				time: dayOf(date)! * DAY + 3_600_000,
				txs,
				body: new Uint8Array(),
				signature: new Uint8Array(),
				bytes: new Uint8Array()
			};
			blocks.push(b);
			return b;
		}
	};
}

function fold(blocks: readonly Block[]): ClaimsState {
	let state = claimsFold.init();
	for (const b of blocks) state = claimsFold.apply(state, b);
	return state;
}

type Line = { code: string; units?: number; price: number; date?: string; modifiers?: string[] };
function form(lines: Line[], extra: Partial<ClaimForm> = {}): ClaimForm {
	return {
		patient: PATIENT,
		provider: CLINIC,
		coverage: 'cov-1',
		diagnoses: ['E11.9', 'I10'],
		created: '2025-03-05',
		lines: lines.map((l) => ({
			code: l.code,
			units: l.units ?? 1,
			unitPrice: l.price,
			date: l.date ?? '2025-03-03',
			modifiers: l.modifiers,
			encounter: ENC
		})),
		...extra
	};
}
const submitTx = (f: ClaimForm): Tx => ({ t: 'claim.submit', claim: JSON.stringify(claimResource(f)) });

/** A payer on the sample policy (or `policy`), coverage cov-1 for the patient from 2025-01-01, then `steps`. */
function scenario(policy: CborValue = samplePolicy(), coverage: Partial<Record<'start' | 'end', string>> = {}) {
	const c = chain();
	c.add(PAYER, '2024-12-01', [{ t: 'contract.deploy', plan: 'ppo', version: 1, policy }]);
	c.add(PAYER, '2024-12-02', [
		{
			t: 'coverage.enroll',
			id: 'cov-1',
			plan: 'ppo',
			patient: key('patient'),
			start: coverage.start ?? '2025-01-01',
			...(coverage.end ? { end: coverage.end } : {})
		}
	]);
	return c;
}

/** The decision of the claim in block `b` (tx 0). */
const decisionOf = (state: ClaimsState, b: Block): Decision => currentDecision(state.claims[`${b.id}-0`]!)!;
const carcs = (d: Decision) => d.lines.map((l) => (l.denied ? l.adjustments[0]!.carc : null));

function expectBalanced(state: ClaimsState) {
	for (const id of state.order) {
		for (const d of state.claims[id]!.decisions) {
			expect(d.payer + d.patient + d.adjusted).toBe(d.billed);
			for (const l of d.lines) expect(l.payer + l.adjustments.reduce((s, a) => s + a.amount, 0)).toBe(l.billed);
		}
	}
	const r = reconcile(state);
	expect(r.unbalanced).toEqual([]);
	expect(r.balancesMatch).toBe(true);
	expect(r.payer + r.patient + r.adjusted).toBe(r.billed);
}

describe('rule expressions (JsonLogic) checked at deploy', () => {
	it('accepts the sample edits and evaluates them', () => {
		const { logic, cost } = compileRule({ and: [{ '==': [{ var: 'line.code' }, '99215'] }, { '<': [{ ref: 'n' }, 2] }] }, 'r', {
			n: { reduce: [{ var: 'claim.diagnoses' }, { '+': [{ var: 'accumulator' }, 1] }, 0] }
		});
		expect(cost).toBeGreaterThan(64);
		expect(ruleHolds(logic, { line: { code: '99215' }, claim: { diagnoses: ['E11.9'] } })).toBe(true);
		expect(ruleHolds(logic, { line: { code: '99215' }, claim: { diagnoses: ['E11.9', 'I10'] } })).toBe(false);
		expect(ruleHolds(logic, { line: { code: '99214' }, claim: { diagnoses: [] } })).toBe(false);
		expect(ruleText(logic)).toContain('line.code = "99215"');
	});

	const refused = (rule: CborValue, defs: Record<string, CborValue> = {}) => {
		try {
			compileRule(rule, 'when', defs);
		} catch (error) {
			expect(error).toBeInstanceOf(RuleError);
			return (error as RuleError).code;
		}
		return null;
	};

	it('refuses operators that reach outside the data, and unsafe paths', () => {
		expect(refused({ method: [{ var: 'line.code' }, 'toUpperCase'] })).toBe('RULE_UNKNOWN_OP');
		expect(refused({ log: 'x' })).toBe('RULE_UNKNOWN_OP');
		expect(refused({ var: 'line.constructor' })).toBe('RULE_BAD_PATH');
		expect(refused({ var: '__proto__' })).toBe('RULE_BAD_PATH');
		expect(refused({ var: { cat: ['line.', 'code'] } })).toBe('RULE_BAD_PATH');
		expect(refused({ '==': 1, '!=': 2 })).toBe('RULE_MALFORMED');
		expect(refused({ map: [[1, 2, 3], { var: '' }] })).toBe('RULE_MALFORMED');
		expect(refused({ var: 'line.code' })).toBeNull();
	});

	it('refuses a rule that loops, nests too deep, is too large or exceeds the step budget', () => {
		expect(refused({ ref: 'a' }, { a: { '!': { ref: 'b' } }, b: { ref: 'a' } })).toBe('RULE_LOOP');
		expect(refused({ ref: 'missing' })).toBe('RULE_UNKNOWN_REF');
		let deep: CborValue = true;
		for (let i = 0; i < 30; i++) deep = { '!': deep };
		expect(refused(deep)).toBe('RULE_TOO_DEEP');
		expect(refused({ or: Array.from({ length: 1200 }, (_, i) => ({ '==': [{ var: 'line.units' }, i] })) })).toBe('RULE_TOO_LARGE');
		// Three nested iterations over claim data: 64^3 steps in the worst case.
		const nested: CborValue = {
			some: [{ var: 'claim.codes' }, { some: [{ var: 'claim.codes' }, { some: [{ var: 'claim.codes' }, { '==': [1, 1] }] }] }]
		};
		expect(refused(nested)).toBe('RULE_OVER_BUDGET');
		expect(refused({ some: [{ var: 'claim.codes' }, { '==': [{ var: '' }, '99215'] }] })).toBeNull();
	});
});

describe('policies', () => {
	it('parses the sample policy with its tables and edits', () => {
		const p = parsePolicy(samplePolicy());
		expect(p.services['99213']).toEqual({ fee: 9200, maxUnits: 1, priorAuth: false, frequency: null });
		expect(p.services['73721']!.priorAuth).toBe(true);
		expect(p.edits.map((e) => e.id)).toEqual(['high-level-visit-needs-two-diagnoses', 'preventive-visit-needs-z-code']);
	});

	it('names the faulty field with a reason code', () => {
		const bad = (patch: Record<string, CborValue>) => {
			try {
				parsePolicy({ ...(samplePolicy() as Record<string, CborValue>), ...patch });
				return null;
			} catch (error) {
				return (error as Error).message;
			}
		};
		expect(bad({ deductible: -1 })).toMatch(/^policy\.deductible: POLICY_MALFORMED/);
		expect(bad({ start: '2025-02-30' })).toMatch(/^policy\.start: POLICY_MALFORMED/);
		expect(bad({ services: { '9921': { fee: 1, maxUnits: 1 } } })).toMatch(/^policy\.services\.9921: POLICY_MALFORMED/);
		expect(bad({ codePairs: [['80053', '80053', 0]] })).toMatch(/^policy\.codePairs\[0\]/);
		expect(bad({ edits: [{ id: 'x', text: 'x', carc: '16', when: { method: [] } }] })).toMatch(
			/^policy\.edits\[0\]\.when\.method: RULE_UNKNOWN_OP/
		);
		expect(bad({ edits: [{ id: 'x', text: 'x', carc: 'sixteen', when: true }] })).toMatch(/edits\[0\]\.carc/);
		expect(bad({})).toBeNull();
	});
});

describe('claims as FHIR R4 Claim', () => {
	it('parses a claim made from a form, money in cents', () => {
		const { claim, errors } = parseClaim(
			JSON.stringify(
				claimResource(
					form([
						{ code: '99214', price: 15_000 },
						{ code: '36415', price: 500 }
					])
				)
			)
		);
		expect(errors).toEqual([]);
		expect(claim).toMatchObject({ patient: PATIENT, provider: CLINIC, coverage: 'cov-1', billed: 15_500, diagnoses: ['E11.9', 'I10'] });
		expect(claim!.lines[0]).toMatchObject({ seq: 1, code: '99214', units: 1, charge: 15_000, dos: dayOf('2025-03-03'), encounters: [ENC] });
	});

	it('lists the JSON path of every fault, and refuses names', () => {
		const c = claimResource(
			form([
				{ code: '99214', price: 15_000 },
				{ code: '36415', price: 500 }
			])
			// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test breaks fields anywhere in the resource
		) as unknown as Record<string, any>;
		c.patient.display = 'Jane Doe';
		c.item[1].quantity.value = 1.5;
		c.item[1].net.value = 5.001;
		c.item[0].servicedDate = '2025-13-01';
		c.item[0].encounter = [{ reference: 'Encounter/123' }];
		c.diagnosis[1].diagnosisCodeableConcept.coding[0].code = 'diabetes';
		const { claim, errors } = parseClaim(JSON.stringify(c));
		expect(claim).toBeNull();
		expect(errors).toEqual([
			'patient.display: names are not allowed on claims',
			'diagnosis[1].diagnosisCodeableConcept.coding[0].code: expected an ICD-10 code such as E11.9',
			'item[0].servicedDate: expected a date YYYY-MM-DD',
			'item[0].diagnosisSequence[1]: no diagnosis with this sequence',
			'item[0].encounter[0].reference: expected Encounter/<block id hex>-<record id hex>',
			'item[1].quantity.value: expected whole units from 1 to 999',
			'item[1].net.value: expected an amount with at most 2 decimals',
			'item[1].diagnosisSequence[1]: no diagnosis with this sequence'
		]);
		expect(parseClaim('{').errors).toEqual(['$: not JSON']);
		const withTotal = claimResource(form([{ code: '99214', price: 15_000 }]));
		withTotal.total = { value: 149, currency: 'USD' };
		expect(parseClaim(JSON.stringify(withTotal)).errors).toEqual(["total.value: 149 is not the sum of the lines' net (150)"]);
	});
});

describe('adjudication: a worked example whose money adds up', () => {
	it('prices lines on the fee schedule, then copay, deductible, coinsurance and the out-of-pocket maximum', () => {
		const c = scenario(samplePolicy({ deductible: 10_000, copay: 2_500, coinsuranceBps: 2_000, oopMax: 20_000 }));
		const a = c.add(CLINIC, '2025-03-05', [
			submitTx(
				form([
					{ code: '99214', price: 15_000 },
					{ code: '36415', price: 500 },
					{ code: '80053', price: 1_500 }
				])
			)
		]);
		const b = c.add(CLINIC, '2025-04-02', [submitTx(form([{ code: '99215', price: 20_000, date: '2025-04-01' }]))]);
		const d = c.add(CLINIC, '2025-05-02', [submitTx(form([{ code: '99214', price: 13_000, date: '2025-05-01' }]))]);
		const state = fold(c.blocks);
		const A = decisionOf(state, a);
		expect(A.lines.map((l) => [l.billed, l.allowed, l.payer, l.patient])).toEqual([
			[15_000, 13_000, 400, 12_600], // copay 25.00, deductible 100.00, coinsurance 20% of 5.00
			[500, 300, 240, 60],
			[1_500, 1_056, 845, 211] // 20% of 10.56 = 2.112, rounded down to whole cents
		]);
		expect(A.lines[0]!.adjustments).toEqual([
			{ group: 'CO', carc: '45', amount: 2_000 },
			{ group: 'PR', carc: '3', amount: 2_500 },
			{ group: 'PR', carc: '1', amount: 10_000 },
			{ group: 'PR', carc: '2', amount: 100 }
		]);
		expect([A.billed, A.payer, A.patient, A.adjusted, A.status]).toEqual([17_000, 1_485, 12_871, 2_644, 'paid']);
		const B = decisionOf(state, b);
		expect([B.payer, B.patient, B.adjusted]).toEqual([12_720, 5_680, 1_600]);
		// Out-of-pocket left: 200.00 − 128.71 − 56.80 = 14.49; the copay is cut to it, no coinsurance.
		const D = decisionOf(state, d);
		expect(D.lines[0]!.adjustments).toEqual([{ group: 'PR', carc: '3', amount: 1_449 }]);
		expect([D.payer, D.patient]).toEqual([11_551, 1_449]);
		expect(state.accum['cov-1|2025']).toEqual([10_000, 20_000]);
		expectBalanced(state);
		const response = claimResponseOf(state.claims[`${a.id}-0`]!);
		expect(response.resourceType).toBe('ClaimResponse');
		expect(response.item![0]!.adjudication.find((x) => x.reason?.coding?.[0]?.code === '45')?.amount?.value).toBe(20);
		expect(response.payment?.amount?.value).toBe(14.85);
	});
});

describe('adjudication: every check denies with its CARC, and passes when met', () => {
	const one = (
		lines: Line[],
		opts: {
			filed?: string;
			policy?: CborValue;
			coverage?: Partial<Record<'start' | 'end', string>>;
			extra?: Partial<ClaimForm>;
			before?: (c: ReturnType<typeof chain>) => void;
		} = {}
	) => {
		const c = scenario(opts.policy, opts.coverage);
		opts.before?.(c);
		const b = c.add(CLINIC, opts.filed ?? '2025-03-05', [submitTx(form(lines, opts.extra))]);
		const state = fold(c.blocks);
		expectBalanced(state);
		return carcs(decisionOf(state, b));
	};

	it('eligibility on the date of service: 31, 26, 27', () => {
		expect(one([{ code: '99213', price: 9_200 }], { extra: { coverage: 'cov-unknown' } })).toEqual(['31']);
		expect(one([{ code: '99213', price: 9_200 }], { coverage: { start: '2025-04-01' } })).toEqual(['26']);
		expect(one([{ code: '99213', price: 9_200 }], { coverage: { end: '2025-03-02' } })).toEqual(['27']);
		expect(one([{ code: '99213', price: 9_200 }], { coverage: { end: '2025-03-03' } })).toEqual([null]);
		expect(one([{ code: '99213', price: 9_200 }], { policy: samplePolicy({ start: '2025-06-01' }) })).toEqual(['26']);
	});

	it('timely filing: 29 after the limit, paid on its last day', () => {
		expect(one([{ code: '99213', price: 9_200 }], { filed: '2025-06-01' })).toEqual([null]); // 90 days after 2025-03-03
		expect(one([{ code: '99213', price: 9_200 }], { filed: '2025-06-02' })).toEqual(['29']);
	});

	it('covered service: 96 for a code outside the fee schedule', () => {
		expect(
			one([
				{ code: '99213', price: 9_200 },
				{ code: 'J1100', price: 1_000 }
			])
		).toEqual([null, '96']);
	});

	it('unit limits: 151 above the limit, paid at it', () => {
		expect(one([{ code: '97110', units: 7, price: 2_900 }])).toEqual(['151']);
		expect(one([{ code: '97110', units: 6, price: 2_900 }])).toEqual([null]);
	});

	it('code-pair edits: 236 for the column-2 code, bypassed by 59 only where the pair allows a modifier', () => {
		expect(
			one([
				{ code: '80053', price: 1_500 },
				{ code: '82947', price: 500 }
			])
		).toEqual([null, '236']);
		expect(
			one([
				{ code: '80053', price: 1_500 },
				{ code: '82947', price: 500, modifiers: ['59'] }
			])
		).toEqual([null, '236']);
		expect(
			one([
				{ code: '20610', price: 6_600 },
				{ code: '20605', price: 5_500 }
			])
		).toEqual([null, '236']);
		expect(
			one([
				{ code: '20610', price: 6_600 },
				{ code: '20605', price: 5_500, modifiers: ['59'] }
			])
		).toEqual([null, null]);
		expect(one([{ code: '82947', price: 500 }])).toEqual([null]);
	});

	it('prior authorization: 197 without one, paid with a matching authorization', () => {
		expect(one([{ code: '73721', price: 30_000 }])).toEqual(['197']);
		const grant = (c: ReturnType<typeof chain>) =>
			c.add(PAYER, '2025-02-20', [
				{ t: 'auth.grant', id: 'pa-1', coverage: 'cov-1', code: '73721', start: '2025-03-01', end: '2025-03-31' }
			]);
		expect(one([{ code: '73721', price: 30_000 }], { before: grant, extra: { preAuth: ['pa-1'] } })).toEqual([null]);
		expect(
			one([{ code: '73721', price: 30_000, date: '2025-04-02' }], { before: grant, extra: { preAuth: ['pa-1'] }, filed: '2025-04-03' })
		).toEqual(['197']);
	});

	it('frequency limits: 119 for a second preventive visit within 365 days', () => {
		const z = { extra: { diagnoses: ['Z00.00'] } };
		const first = (date: string) => (c: ReturnType<typeof chain>) =>
			c.add(CLINIC, '2025-01-10', [submitTx(form([{ code: '99396', price: 15_500, date }], { diagnoses: ['Z00.00'] }))]);
		expect(one([{ code: '99396', price: 15_500 }], { ...z, before: first('2025-01-08') })).toEqual(['119']);
		expect(one([{ code: '99396', price: 15_500, date: '2026-02-10' }], { ...z, before: first('2025-01-08'), filed: '2026-02-11' })).toEqual(
			[null]
		);
	});

	it('duplicates: 18 for a line already billed, on another claim or the same one', () => {
		const earlier = (c: ReturnType<typeof chain>) => c.add(CLINIC, '2025-03-04', [submitTx(form([{ code: '99213', price: 9_200 }]))]);
		expect(one([{ code: '99213', price: 9_200 }], { before: earlier })).toEqual(['18']);
		expect(one([{ code: '99213', price: 9_200, date: '2025-03-04' }], { before: earlier })).toEqual([null]);
		expect(
			one([
				{ code: '36415', price: 300 },
				{ code: '36415', price: 300 }
			])
		).toEqual([null, '18']);
	});

	it("payer edits: the policy's JsonLogic rules deny with their own CARC", () => {
		expect(one([{ code: '99215', price: 18_400 }], { extra: { diagnoses: ['E11.9'] } })).toEqual(['150']);
		expect(one([{ code: '99215', price: 18_400 }])).toEqual([null]);
		expect(one([{ code: '99396', price: 15_500 }])).toEqual(['11']);
		expect(one([{ code: '99396', price: 15_500 }], { extra: { diagnoses: ['Z00.01'] } })).toEqual([null]);
	});
});

describe('contract versions, corrections and appeals', () => {
	it('a new version decides claims from its position; earlier outcomes keep their version', () => {
		const c = scenario(samplePolicy({ copay: 2_500 }));
		const a = c.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))]);
		c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 4_000 }) }]);
		c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 1 }) }]);
		c.add(CLINIC, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 3, policy: samplePolicy({ copay: 1 }) }]);
		const b = c.add(CLINIC, '2025-03-07', [submitTx(form([{ code: '99213', price: 9_200, date: '2025-03-04' }]))]);
		const state = fold(c.blocks);
		expect([decisionOf(state, a).version, decisionOf(state, a).lines[0]!.adjustments[0]]).toEqual([
			1,
			{ group: 'PR', carc: '3', amount: 2_500 }
		]);
		expect([decisionOf(state, b).version, decisionOf(state, b).lines[0]!.adjustments[0]]).toEqual([
			2,
			{ group: 'PR', carc: '3', amount: 4_000 }
		]);
		expect(state.ignored.map((i) => i.reason)).toEqual(['version 2 is not after version 2', 'plan ppo belongs to another payer']);
		expect(state.contracts.ppo!.versions.map((v) => v.version)).toEqual([1, 2]);
	});

	it('a version applies from its causal position: a claim that did not see it keeps the version it saw', () => {
		const c = scenario(samplePolicy({ copay: 2_500 }));
		const before = c.blocks[c.blocks.length - 1]!;
		const v2 = c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 4_000 }) }]);
		// Written concurrently with version 2 (its only dependency is the enrolment), though it sorts after it.
		const concurrent = c.add(CLINIC, '2025-03-07', [submitTx(form([{ code: '99213', price: 9_200 }]))], [before.id]);
		// The clinic has now seen version 2.
		const after = c.add(
			CLINIC,
			'2025-03-08',
			[submitTx(form([{ code: '99213', price: 9_200, date: '2025-03-04' }]))],
			[concurrent.id, v2.id]
		);
		const state = fold(c.blocks);
		expect(decisionOf(state, concurrent).version).toBe(1);
		expect(decisionOf(state, after).version).toBe(2);
		// A claim whose past holds no contract at all is not covered.
		const blind = chain();
		blind.add(PAYER, '2024-12-01', [{ t: 'contract.deploy', plan: 'ppo', version: 1, policy: samplePolicy() }]);
		blind.add(PAYER, '2024-12-02', [{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: key('patient'), start: '2025-01-01' }]);
		const unseen = blind.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))], []);
		expect(carcs(decisionOf(fold(blind.blocks), unseen))).toEqual(['31']);
	});

	it('a corrected claim replaces the original and re-adjudicates; an appeal re-decides and links to the claim', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [
			submitTx(
				form([
					{ code: '99213', price: 9_200 },
					{ code: '73721', price: 30_000 }
				])
			)
		]);
		const fix = c.add(CLINIC, '2025-03-06', [
			{
				t: 'claim.correct',
				original: `${a.id}-0`,
				claim: JSON.stringify(
					claimResource(
						form([
							{ code: '99214', price: 13_000 },
							{ code: '73721', price: 30_000 }
						])
					)
				)
			}
		]);
		c.add(PAYER, '2025-03-07', [{ t: 'auth.grant', id: 'pa-9', coverage: 'cov-1', code: '73721', start: '2025-03-01', end: '2025-03-31' }]);
		c.add(CLINIC, '2025-03-08', [
			{ t: 'claim.appeal', original: `${fix.id}-0`, reason: 'authorization was granted by phone', preAuthRef: ['pa-9'] }
		]);
		c.add(CLINIC, '2025-03-08', [{ t: 'claim.appeal', original: `${a.id}-0`, reason: 'wrong claim' }]);
		const state = fold(c.blocks);
		const original = state.claims[`${a.id}-0`]!;
		const corrected = state.claims[`${fix.id}-0`]!;
		expect(original.replacedBy).toBe(corrected.id);
		expect(corrected.replaces).toBe(original.id);
		expect(currentDecision(original)).toBeNull();
		expect(claimResponseOf(corrected).disposition).toBe(`appeal decision under ppo v1: paid; corrects Claim/${original.id}`);
		expect(claimResponseOf(original).disposition).toContain(`replaced by Claim/${corrected.id}`);
		expect(corrected.decisions.map((d) => [d.kind, carcs(d)])).toEqual([
			['correction', [null, '197']],
			['appeal', [null, null]]
		]);
		expect(state.ignored.map((i) => i.reason)).toEqual(['the claim was corrected; appeal the correction']);
		// Deductible booked once, for the claim as it stands now.
		const now = currentDecision(corrected)!;
		expect(state.accum['cov-1|2025']![0]).toBe(now.lines.reduce((s, l) => s + (l.adjustments.find((x) => x.carc === '1')?.amount ?? 0), 0));
		expect(state.accum['cov-1|2025']![1]).toBe(now.patient);
		expectBalanced(state);
	});
});

describe('billing', () => {
	it('patient and payer accounts, statements and remittances always reconcile', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [
			submitTx(
				form([
					{ code: '99214', price: 15_000 },
					{ code: '85025', price: 1_000 }
				])
			)
		]);
		c.add(CLINIC, '2025-03-10', [{ t: 'payment.record', patient: key('patient'), amount: 5_000, claim: `${a.id}-0` }]);
		c.add(PAYER, '2025-03-20', [{ t: 'remittance.record', claim: `${a.id}-0`, amount: 100 }]);
		c.add(CLINIC, '2025-03-20', [{ t: 'remittance.record', claim: `${a.id}-0`, amount: 100 }]);
		const state = fold(c.blocks);
		const d = decisionOf(state, a);
		const accounts = accountsOf(state);
		expect(accounts.patients[`${CLINIC}|${PATIENT}`]).toEqual({
			key: `${CLINIC}|${PATIENT}`,
			charged: d.patient,
			paid: 5_000,
			balance: d.patient - 5_000
		});
		expect(accounts.payers[`${PAYER}|${CLINIC}`]).toMatchObject({ charged: d.payer, paid: 100 });
		expect(state.ignored.map((i) => i.reason)).toEqual(['the claim is not this payer’s']);
		const statement = statementOf(state, CLINIC, PATIENT);
		expect(statement.lines.map((l) => [l.code, l.billed, l.insurancePaid + l.adjusted + l.youOwe])).toEqual([
			['99214', 15_000, 15_000],
			['85025', 1_000, 1_000]
		]);
		expect([statement.owed, statement.paid, statement.balance]).toEqual([d.patient, 5_000, d.patient - 5_000]);
		expectBalanced(state);
	});

	it('a synthetic ledger of 300 claims balances claim by claim and in the accounts', () => {
		const state = fold(syntheticClaims({ seed: 7, claims: 300, fraud: true }).blocks);
		expect(state.order.length).toBeGreaterThan(300);
		expectBalanced(state);
	});
});

describe('fraud checks', () => {
	it('flags each seeded pattern with the blocks it rests on', () => {
		const data = syntheticClaims({ seed: 3, claims: 200, fraud: true });
		const state = fold(data.blocks);
		const flags = allFlags(state);
		const ids = new Set(data.blocks.map((b) => b.id as string));
		for (const [kind, claims] of Object.entries(data.seeded)) {
			for (const claim of claims) {
				const found = flags.filter((f) => f.kind === kind && f.claim === claim);
				expect(found.length, `${kind} ${claim}`).toBeGreaterThan(0);
				for (const f of found) {
					expect(f.blocks.length).toBeGreaterThan(0);
					if (kind !== 'encounter-missing') for (const b of f.blocks) expect(ids.has(b), `${kind} rests on ${b}`).toBe(true);
				}
			}
		}
		expect(new Set(flags.map((f) => f.kind))).toEqual(
			new Set([
				'duplicate',
				'unbundling',
				'excessive-units',
				'after-death',
				'encounter-missing',
				'encounter-other-clinic',
				'provider-outlier'
			])
		);
		// Flags are evidence, not denials: the unbundled component on its own claim was decided on its own terms.
		expect(currentDecision(state.claims[data.seeded.unbundling![0]!]!)!.status).toBe('paid');
	});

	it('raises no flag on clean data', () => {
		for (const seed of [1, 2, 3]) expect(allFlags(fold(syntheticClaims({ seed, claims: 200 }).blocks))).toEqual([]);
	});

	it('flags claims already recorded when a death is recorded later', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))]);
		const death = c.add(CLINIC, '2025-03-09', [{ t: 'patient.deceased', patient: fromHex(PATIENT), date: '2025-03-01' }]);
		const state = fold(c.blocks);
		expect(state.flags.filter((f) => f.kind === 'after-death')).toEqual([
			{ kind: 'after-death', claim: `${a.id}-0`, detail: expect.stringContaining('2025-03-03'), blocks: [a.id, death.id] }
		]);
	});
});

describe('the fold checkpoints exactly', () => {
	it('encodes and decodes to the same state, and folds on from it identically', async () => {
		const { encodeCanonical, decodeCanonical } = await import('$lib/core/index.js');
		const { blocks } = syntheticClaims({ seed: 5, claims: 120, fraud: true });
		const half = Math.floor(blocks.length / 2);
		const whole = fold(blocks);
		// Decoding gives back the very same state (compared field by field through canonical CBOR).
		const again = claimsFold.decode(decodeCanonical(encodeCanonical(claimsFold.encode(whole))));
		expect(toHex(encodeCanonical(again as unknown as CborValue))).toBe(toHex(encodeCanonical(whole as unknown as CborValue)));
		let resumed = claimsFold.decode(decodeCanonical(encodeCanonical(claimsFold.encode(fold(blocks.slice(0, half))))));
		for (const b of blocks.slice(half)) resumed = claimsFold.apply(resumed, b);
		expect(toHex(encodeCanonical(claimsFold.encode(resumed)))).toBe(toHex(encodeCanonical(claimsFold.encode(whole))));
	});
});

describe('contract transactions in words', () => {
	it('every contract transaction type has its own summary', () => {
		for (const rule of CONTRACT_RULES) expect(summarizeTx({ t: rule.type }).text).not.toBe(`Transaction of type ${rule.type}`);
		expect(summarizeTx({ t: 'payment.record', patient: key('patient'), amount: 2_550 }).text).toBe(
			`Payment of $25.50 from patient ${PATIENT.slice(0, 8)}`
		);
	});
});
