/**
 * A payer's coverage policy: the data of a `contract.deploy` transaction. Tables (fee
 * schedule with unit limits, prior-authorization and frequency limits per service code;
 * code-pair edits), cost sharing, timely filing, and the payer's own line edits as
 * JsonLogic rules. Checked completely at deploy: a policy that is malformed or whose rules
 * exceed the step budget is refused with a reason code and the path of the fault.
 */
import type { CborValue } from '$lib/core/index.js';
import { dayOf } from './dates.js';
import { compileRule, RuleError, STEP_BUDGET, type Logic } from './rule-logic.js';

/** Terms of one covered service code. */
export interface ServiceTerms {
	/** Fee schedule amount per unit, cents. */
	readonly fee: number;
	/** Most units on one line (a medically unlikely edit above it). */
	readonly maxUnits: number;
	readonly priorAuth: boolean;
	/** At most `count` served lines of this code per patient within `days` days. */
	readonly frequency: { readonly count: number; readonly days: number } | null;
}

/** A payer's line edit: when `when` holds for a line, the line is denied with `carc`. */
export interface Edit {
	readonly id: string;
	readonly text: string;
	readonly carc: string;
	/** The rule with references inlined. */
	readonly when: Logic;
	/** Its worst-case evaluation steps. */
	readonly cost: number;
	/**
	 * The service code the rule is guarded by, when it has the form
	 * `{"and": [{"==": [{"var": "line.code"}, code]}, ...]}`: lines of other codes skip it
	 * (same outcome as evaluating it, without the cost).
	 */
	readonly code: string | null;
}

export interface Policy {
	readonly name: string;
	/** Day numbers (see dates.ts); `end` null when open-ended. */
	readonly start: number;
	readonly end: number | null;
	readonly services: Record<string, ServiceTerms>;
	/** NCCI-style pairs: column-1 code, column-2 code, 1 when a modifier may bypass the edit. */
	readonly codePairs: readonly (readonly [string, string, number])[];
	/** Cents per benefit (calendar) year. */
	readonly deductible: number;
	/** Cents per claim. */
	readonly copay: number;
	/** Patient's share after the deductible, in basis points (2000 = 20 %). */
	readonly coinsuranceBps: number;
	/** Cents per benefit year: the patient's share stops there. */
	readonly oopMax: number;
	readonly timelyFilingDays: number;
	readonly edits: readonly Edit[];
}

export const PLAN_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const SERVICE_CODE = /^[0-9A-Z]{5}$/;
const CARC = /^[A-Z]?\d{1,3}$/;
const EDIT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_SERVICES = 2_000;
const MAX_PAIRS = 5_000;
const MAX_EDITS = 64;
/** Worst-case steps of all edits together on one line. */
export const POLICY_STEP_BUDGET = 5 * STEP_BUDGET;
/** Largest money amount a policy or claim may state: $10 million, in cents. */
export const MAX_CENTS = 1_000_000_000;

/** The code in a rule of the form `and(line.code == "X", ...)`, else null. */
function guardCode(logic: Logic): string | null {
	const and = isMap(logic) ? logic.and : undefined;
	const first = Array.isArray(and) ? and[0] : undefined;
	const eq = isMap(first) ? (first['=='] ?? first['===']) : undefined;
	if (!Array.isArray(eq) || eq.length !== 2) return null;
	const [a, b] = eq;
	const isCodeVar = (v: CborValue | undefined) =>
		isMap(v) &&
		Object.keys(v).length === 1 &&
		(v.var === 'line.code' || (Array.isArray(v.var) && v.var.length === 1 && v.var[0] === 'line.code'));
	if (isCodeVar(a) && typeof b === 'string') return b;
	if (isCodeVar(b) && typeof a === 'string') return a;
	return null;
}

const bad = (path: string, detail: string) => new RuleError('POLICY_MALFORMED', path, detail);

function isMap(v: CborValue | undefined): v is { [k: string]: CborValue } {
	return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function int(v: CborValue | undefined, path: string, min: number, max: number): number {
	if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(path, `expected an integer from ${min} to ${max}`);
	return v;
}

function text(v: CborValue | undefined, path: string, max: number): string {
	if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw bad(path, `expected 1-${max} characters`);
	return v;
}

const POLICY_FIELDS = [
	'name',
	'start',
	'end',
	'services',
	'codePairs',
	'deductible',
	'copay',
	'coinsuranceBps',
	'oopMax',
	'timelyFilingDays',
	'defs',
	'edits'
];

/** The policy in a deploy transaction, checked; throws {@link RuleError} naming the field. */
export function parsePolicy(raw: CborValue | undefined, path = 'policy'): Policy {
	if (!isMap(raw)) throw bad(path, 'expected a map');
	for (const key of Object.keys(raw)) if (!POLICY_FIELDS.includes(key)) throw bad(`${path}.${key}`, 'unexpected field');
	const name = text(raw.name, `${path}.name`, 200);
	const start = dayOf(raw.start);
	if (start === null) throw bad(`${path}.start`, 'expected a date YYYY-MM-DD');
	let end: number | null = null;
	if (raw.end !== undefined && raw.end !== null) {
		end = dayOf(raw.end);
		if (end === null || end < start) throw bad(`${path}.end`, 'expected a date YYYY-MM-DD on or after start');
	}
	if (!isMap(raw.services)) throw bad(`${path}.services`, 'expected a map of service codes');
	const codes = Object.keys(raw.services);
	if (codes.length === 0 || codes.length > MAX_SERVICES) throw bad(`${path}.services`, `expected 1-${MAX_SERVICES} service codes`);
	const services: Record<string, ServiceTerms> = {};
	for (const code of codes.sort()) {
		const at = `${path}.services.${code}`;
		if (!SERVICE_CODE.test(code)) throw bad(at, 'a service code is 5 letters or digits (CPT/HCPCS)');
		const s = raw.services[code];
		if (!isMap(s)) throw bad(at, 'expected a map');
		for (const key of Object.keys(s))
			if (!['fee', 'maxUnits', 'priorAuth', 'frequency'].includes(key)) throw bad(`${at}.${key}`, 'unexpected field');
		let frequency: ServiceTerms['frequency'] = null;
		if (s.frequency !== undefined && s.frequency !== null) {
			const f = s.frequency;
			if (!isMap(f)) throw bad(`${at}.frequency`, 'expected {count, days}');
			frequency = { count: int(f.count, `${at}.frequency.count`, 1, 1000), days: int(f.days, `${at}.frequency.days`, 1, 3660) };
		}
		if (s.priorAuth !== undefined && typeof s.priorAuth !== 'boolean') throw bad(`${at}.priorAuth`, 'expected true or false');
		services[code] = {
			fee: int(s.fee, `${at}.fee`, 0, MAX_CENTS),
			maxUnits: int(s.maxUnits, `${at}.maxUnits`, 1, 999),
			priorAuth: s.priorAuth === true,
			frequency
		};
	}
	const pairsRaw = raw.codePairs ?? [];
	if (!Array.isArray(pairsRaw) || pairsRaw.length > MAX_PAIRS)
		throw bad(`${path}.codePairs`, `expected a list of at most ${MAX_PAIRS} pairs`);
	const codePairs = pairsRaw.map((p, i) => {
		const at = `${path}.codePairs[${i}]`;
		if (
			!Array.isArray(p) ||
			p.length !== 3 ||
			typeof p[0] !== 'string' ||
			typeof p[1] !== 'string' ||
			!SERVICE_CODE.test(p[0]) ||
			!SERVICE_CODE.test(p[1]) ||
			p[0] === p[1]
		) {
			throw bad(at, 'expected [column-1 code, column-2 code, 0 or 1]');
		}
		return [p[0], p[1], int(p[2], `${at}[2]`, 0, 1)] as const;
	});
	const defsRaw = raw.defs ?? {};
	if (!isMap(defsRaw)) throw bad(`${path}.defs`, 'expected a map of named rules');
	for (const key of Object.keys(defsRaw))
		if (!EDIT_ID.test(key)) throw bad(`${path}.defs.${key}`, 'a definition name is 1-64 letters, digits, . _ -');
	const editsRaw = raw.edits ?? [];
	if (!Array.isArray(editsRaw) || editsRaw.length > MAX_EDITS) throw bad(`${path}.edits`, `expected a list of at most ${MAX_EDITS} edits`);
	let total = 0;
	const ids = new Set<string>();
	const edits = editsRaw.map((e, i): Edit => {
		const at = `${path}.edits[${i}]`;
		if (!isMap(e)) throw bad(at, 'expected {id, text, carc, when}');
		for (const key of Object.keys(e)) if (!['id', 'text', 'carc', 'when'].includes(key)) throw bad(`${at}.${key}`, 'unexpected field');
		if (typeof e.id !== 'string' || !EDIT_ID.test(e.id) || ids.has(e.id))
			throw bad(`${at}.id`, 'expected a unique id of 1-64 letters, digits, . _ -');
		ids.add(e.id);
		if (typeof e.carc !== 'string' || !CARC.test(e.carc)) throw bad(`${at}.carc`, 'expected a claim adjustment reason code such as "16"');
		if (e.when === undefined) throw new RuleError('RULE_MALFORMED', `${at}.when`, 'missing');
		const { logic, cost } = compileRule(e.when, `${at}.when`, defsRaw);
		total += cost;
		if (total > POLICY_STEP_BUDGET)
			throw new RuleError(
				'RULE_OVER_BUDGET',
				`${path}.edits`,
				`the edits together need up to ${total} steps per line, over the budget of ${POLICY_STEP_BUDGET}`
			);
		return { id: e.id, text: text(e.text, `${at}.text`, 500), carc: e.carc, when: logic, cost, code: guardCode(logic) };
	});
	return {
		name,
		start,
		end,
		services,
		codePairs,
		deductible: int(raw.deductible, `${path}.deductible`, 0, MAX_CENTS),
		copay: int(raw.copay, `${path}.copay`, 0, MAX_CENTS),
		coinsuranceBps: int(raw.coinsuranceBps, `${path}.coinsuranceBps`, 0, 10_000),
		oopMax: int(raw.oopMax, `${path}.oopMax`, 0, MAX_CENTS),
		timelyFilingDays: int(raw.timelyFilingDays, `${path}.timelyFilingDays`, 1, 3660),
		edits
	};
}
