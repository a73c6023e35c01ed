/**
 * Adjudication of one claim against the contract version in force, line by line, in a
 * fixed order (docs/contracts.md): eligibility → timely filing → covered service →
 * duplicate → unit limit → code-pair edit → prior authorization → frequency → payer
 * edits; then pricing (fee schedule), copay, deductible, coinsurance and the
 * out-of-pocket maximum. The first failing check denies the line with its CARC.
 * Integer cents throughout: for every line payer + patient + CO adjustments = billed.
 */
import { yearOfDay } from './dates.js';
import type { Policy } from './policy.js';
import { ruleHolds } from './rule-logic.js';
import {
	authAt,
	coverageAt,
	pageClinic,
	pageOf,
	type Adjustment,
	type ClaimRecord,
	type Coverage,
	type ClaimsState,
	type Decision,
	type DecisionKind,
	type LineOutcome,
	type PatientPage,
	type TxPlace
} from './claims-state.js';

/** CARCs this engine assigns itself (payer edits bring their own). */
export const CARC = {
	deductible: '1',
	coinsurance: '2',
	copay: '3',
	duplicate: '18',
	lacksInformation: '16',
	beforeCoverage: '26',
	afterCoverage: '27',
	timelyFiling: '29',
	notCovered: '31',
	overFeeSchedule: '45',
	nonCovered: '96',
	frequency: '119',
	units: '151',
	noAuthorization: '197',
	codePair: '236'
} as const;

/** Modifiers that bypass a code-pair edit whose modifier indicator is 1 (NCCI). */
export const BYPASS_MODIFIERS = new Set(['59', 'XE', 'XP', 'XS', 'XU']);

const pairIndexes = new WeakMap<Policy, Map<string, [string, number][]>>();

/** Column-1 codes (with modifier indicator) that bundle each column-2 code. */
export function columnOneOf(policy: Policy): Map<string, [string, number][]> {
	let index = pairIndexes.get(policy);
	if (!index) {
		index = new Map();
		for (const [one, two, mod] of policy.codePairs) {
			const list = index.get(two) ?? [];
			list.push([one, mod]);
			index.set(two, list);
		}
		pairIndexes.set(policy, index);
	}
	return index;
}

/** The duplicate-check key of a line, in its patient's page (the clinic by its place in the page's list). */
export const lineKey = (page: PatientPage, rec: ClaimRecord, line: BilledLine) =>
	`${pageClinic(page, rec.clinic)}|${line.code}|${line.dos}|${line.modifiers.join(',')}`;

type BilledLine = ClaimRecord['lines'][number];

/** The contract versions a block has seen: plan → highest version deployed in its causal past. */
export type Known = Readonly<Record<string, number>>;

/**
 * The coverage a claim names, as enrolled before `at` (the deciding transaction's place),
 * and the contract version that decides it for a block that has seen `known`: the highest
 * version of the coverage's plan in the block's causal past.
 */
export function versionFor(state: ClaimsState, coverageId: string, known: Known, at?: TxPlace) {
	const coverage = coverageAt(state, coverageId, at);
	const contract = coverage ? state.contracts[coverage.plan] : undefined;
	const seen = coverage ? known[coverage.plan] : undefined;
	const version =
		contract && contract.payer === coverage!.payer && seen !== undefined ? contract.versions.find((v) => v.version === seen) : undefined;
	return { coverage, version };
}

/** What a line's denial reason is, before pricing; null when it may be paid. */
function denialOf(
	state: ClaimsState,
	page: PatientPage,
	rec: ClaimRecord,
	line: BilledLine,
	coverage: Coverage | undefined,
	policy: Policy | undefined,
	filedDay: number,
	ownKeys: Set<string>,
	servedHere: Map<string, number[]>,
	at: TxPlace
): { carc: string; edit: string | null } | null {
	if (!coverage || !policy || coverage.patient !== rec.patient) return { carc: CARC.notCovered, edit: null };
	if (line.dos < coverage.start || line.dos < policy.start) return { carc: CARC.beforeCoverage, edit: null };
	if ((coverage.end !== null && line.dos > coverage.end) || (policy.end !== null && line.dos > policy.end))
		return { carc: CARC.afterCoverage, edit: null };
	if (filedDay - line.dos > policy.timelyFilingDays) return { carc: CARC.timelyFiling, edit: null };
	if (line.dos > filedDay + 1) return { carc: CARC.lacksInformation, edit: null }; // a service dated in the future
	const terms = policy.services[line.code];
	if (!terms) return { carc: CARC.nonCovered, edit: null };
	const key = lineKey(page, rec, line);
	const owner = page.lineKeys[key];
	if ((owner !== undefined && owner !== rec.n) || ownKeys.has(key)) return { carc: CARC.duplicate, edit: null };
	if (line.units > terms.maxUnits) return { carc: CARC.units, edit: null };
	const bundling = columnOneOf(policy).get(line.code);
	if (bundling) {
		for (const [one, mod] of bundling) {
			const together = rec.lines.some((other) => other !== line && other.code === one && other.dos === line.dos);
			if (together && !(mod === 1 && line.modifiers.some((m) => BYPASS_MODIFIERS.has(m)))) return { carc: CARC.codePair, edit: null };
		}
	}
	if (terms.priorAuth) {
		const authorized = rec.preAuth.some((id) => {
			const a = authAt(state, id, at);
			return (
				a !== undefined &&
				a.coverage === rec.coverage &&
				a.payer === coverage.payer &&
				a.code === line.code &&
				a.start <= line.dos &&
				line.dos <= a.end
			);
		});
		if (!authorized) return { carc: CARC.noAuthorization, edit: null };
	}
	if (terms.frequency) {
		const { count, days } = terms.frequency;
		const near = (d: number) => Math.abs(d - line.dos) < days;
		const before = (page.served[line.code] ?? []).filter(([d, claim]) => claim !== rec.n && near(d)).length;
		const here = (servedHere.get(line.code) ?? []).filter(near).length;
		if (before + here >= count) return { carc: CARC.frequency, edit: null };
	}
	if (policy.edits.length > 0) {
		const data = {
			line: {
				seq: line.seq,
				code: line.code,
				units: line.units,
				charge: line.charge,
				modifiers: line.modifiers,
				diagnoses: line.diagnoses
			},
			claim: { codes: rec.lines.map((l) => l.code), diagnoses: rec.diagnoses, lines: rec.lines.length, billed: rec.billed },
			daysSinceService: filedDay - line.dos
		};
		for (const edit of policy.edits) {
			if (edit.code !== null && edit.code !== line.code) continue; // the rule's own guard, checked without evaluating it
			let holds: boolean;
			try {
				holds = ruleHolds(edit.when, data);
			} catch {
				holds = false; // a rule that fails on this data does not deny (deterministic on every node)
			}
			if (holds) return { carc: edit.carc, edit: edit.id };
		}
	}
	return null;
}

/**
 * Decides `rec` now (the head as of `at`, the deciding transaction's place), records the
 * decision, and books its effects (served lines, duplicate keys, deductible and
 * out-of-pocket accumulators).
 */
export function decide(
	state: ClaimsState,
	rec: ClaimRecord,
	block: string,
	kind: DecisionKind,
	filedDay: number,
	known: Known,
	at: TxPlace
): Decision {
	const { coverage, version } = versionFor(state, rec.coverage, known, at);
	const policy = version?.policy;
	const page = pageOf(state, rec.patient);
	let copayLeft = policy?.copay ?? 0;
	const ownKeys = new Set<string>();
	const servedHere = new Map<string, number[]>();
	const lines: LineOutcome[] = [];
	let payerTotal = 0;
	let patientTotal = 0;
	let adjusted = 0;
	for (const line of rec.lines) {
		const denial = denialOf(state, page, rec, line, coverage, policy, filedDay, ownKeys, servedHere, at);
		const key = lineKey(page, rec, line);
		if (page.lineKeys[key] === undefined) page.lineKeys[key] = rec.n;
		ownKeys.add(key);
		if (denial || !policy || !coverage) {
			const carc = denial?.carc ?? CARC.notCovered;
			lines.push({
				seq: line.seq,
				code: line.code,
				units: line.units,
				billed: line.charge,
				allowed: 0,
				payer: 0,
				patient: 0,
				adjustments: [{ group: 'CO', carc, amount: line.charge }],
				denied: true,
				edit: denial?.edit ?? null
			});
			adjusted += line.charge;
			continue;
		}
		const terms = policy.services[line.code]!;
		const allowed = Math.min(line.charge, terms.fee * line.units);
		const adjustments: Adjustment[] = [];
		if (line.charge > allowed) adjustments.push({ group: 'CO', carc: CARC.overFeeSchedule, amount: line.charge - allowed });
		const accKey = `${rec.coverage}|${yearOfDay(line.dos)}`;
		const acc = page.accum[accKey] ?? (page.accum[accKey] = [0, 0]);
		let copay = Math.min(copayLeft, allowed);
		let deductible = Math.min(Math.max(0, policy.deductible - acc[0]), allowed - copay);
		let coinsurance = Math.floor(((allowed - copay - deductible) * policy.coinsuranceBps) / 10_000);
		// The out-of-pocket maximum caps the patient's share: coinsurance gives way first, then deductible, then copay.
		let excess = copay + deductible + coinsurance - Math.max(0, policy.oopMax - acc[1]);
		if (excess > 0) {
			const cut = (amount: number) => {
				const c = Math.min(amount, excess);
				excess -= c;
				return amount - c;
			};
			coinsurance = cut(coinsurance);
			deductible = cut(deductible);
			copay = cut(copay);
		}
		copayLeft -= copay;
		acc[0] += deductible;
		acc[1] += copay + deductible + coinsurance;
		if (copay > 0) adjustments.push({ group: 'PR', carc: CARC.copay, amount: copay });
		if (deductible > 0) adjustments.push({ group: 'PR', carc: CARC.deductible, amount: deductible });
		if (coinsurance > 0) adjustments.push({ group: 'PR', carc: CARC.coinsurance, amount: coinsurance });
		const patient = copay + deductible + coinsurance;
		const payer = allowed - patient;
		lines.push({
			seq: line.seq,
			code: line.code,
			units: line.units,
			billed: line.charge,
			allowed,
			payer,
			patient,
			adjustments,
			denied: false,
			edit: null
		});
		payerTotal += payer;
		patientTotal += patient;
		adjusted += line.charge - allowed;
		const served = page.served[line.code] ?? (page.served[line.code] = []);
		served.push([line.dos, rec.n]);
		const here = servedHere.get(line.code) ?? [];
		here.push(line.dos);
		servedHere.set(line.code, here);
	}
	const deniedLines = lines.filter((l) => l.denied).length;
	const decision: Decision = {
		block,
		kind,
		plan: version?.plan ?? null,
		version: version?.version ?? null,
		coverage: rec.coverage,
		lines,
		billed: rec.billed,
		payer: payerTotal,
		patient: patientTotal,
		adjusted,
		status: deniedLines === 0 ? 'paid' : deniedLines === lines.length ? 'denied' : 'partial'
	};
	rec.decisions.push(decision);
	return decision;
}

/** Takes back the booked effects of a claim's current decision (before a correction or an appeal decides again). */
export function undo(state: ClaimsState, rec: ClaimRecord): void {
	const current = rec.decisions[rec.decisions.length - 1];
	if (!current) return;
	const page = pageOf(state, rec.patient);
	for (const [i, outcome] of current.lines.entries()) {
		const line = rec.lines[i]!;
		const key = lineKey(page, rec, line);
		if (page.lineKeys[key] === rec.n) delete page.lineKeys[key];
		if (outcome.denied) continue;
		const acc = page.accum[`${current.coverage}|${yearOfDay(line.dos)}`];
		if (acc) {
			acc[0] -= outcome.adjustments.find((a) => a.carc === CARC.deductible && a.group === 'PR')?.amount ?? 0;
			acc[1] -= outcome.patient;
		}
		const served = page.served[line.code];
		if (served) page.served[line.code] = served.filter(([, claim]) => claim !== rec.n);
	}
}
