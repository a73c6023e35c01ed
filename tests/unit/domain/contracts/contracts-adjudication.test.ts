/** The contract engine's checks: JsonLogic rules at deploy, policies, FHIR claims, and adjudication (the worked example and every denial by its CARC). */
import { describe, expect, it } from 'vitest';
import type { CborValue } from '$lib/core/index.js';
import {
	accumOf,
	claimById,
	type ClaimForm,
	claimResource,
	claimResponseOf,
	compileRule,
	dayOf,
	parseClaim,
	parsePolicy,
	RuleError,
	ruleHolds,
	ruleText,
	samplePolicy
} from '$lib/domain/contracts/index.js';
import {
	carcs,
	chain,
	CLINIC,
	decisionOf,
	ENC,
	expectBalanced,
	fold,
	form,
	PATIENT,
	PAYER,
	scenario,
	submitTx,
	type Line
} from './contracts-support.js';

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
		expect(accumOf(state, 'cov-1', 2025)).toEqual([10_000, 20_000]);
		expectBalanced(state);
		const response = claimResponseOf(claimById(state, `${a.id}-0`)!);
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
