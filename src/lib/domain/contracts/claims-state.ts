/**
 * The claims fold's state: plain objects and arrays of integers and text, so a
 * checkpoint encodes it as it is. Money is in cents, dates are day numbers.
 */
import type { ClaimLine } from './claim.js';
import type { Policy } from './policy.js';

export interface ContractVersion {
	readonly plan: string;
	readonly version: number;
	readonly payer: string;
	/** The deploying block, its seq in the payer's chain and its claimed time (ms). */
	readonly block: string;
	readonly seq: number;
	readonly time: number;
	readonly policy: Policy;
}

export interface Contract {
	readonly plan: string;
	readonly payer: string;
	/** In the order they took effect; the last one decides new claims. */
	readonly versions: ContractVersion[];
}

export interface Coverage {
	readonly id: string;
	readonly payer: string;
	readonly plan: string;
	readonly patient: string;
	readonly start: number;
	readonly end: number | null;
	readonly block: string;
}

export interface Authorization {
	readonly id: string;
	readonly payer: string;
	readonly coverage: string;
	readonly code: string;
	readonly start: number;
	readonly end: number;
	readonly block: string;
}

/** X12 claim adjustment group: CO contractual (the provider writes it off), PR patient responsibility. */
export type AdjustmentGroup = 'CO' | 'PR';

export interface Adjustment {
	readonly group: AdjustmentGroup;
	/** Claim adjustment reason code (CARC). */
	readonly carc: string;
	readonly amount: number;
}

export interface LineOutcome {
	readonly seq: number;
	readonly code: string;
	readonly units: number;
	readonly billed: number;
	readonly allowed: number;
	readonly payer: number;
	/** Sum of the PR adjustments. */
	readonly patient: number;
	readonly adjustments: Adjustment[];
	readonly denied: boolean;
	/** The payer edit that denied the line, when one did. */
	readonly edit: string | null;
}

export type DecisionKind = 'original' | 'correction' | 'appeal';

/** One adjudication of a claim: what, under which contract version, caused by which block. */
export interface Decision {
	readonly block: string;
	readonly kind: DecisionKind;
	readonly plan: string | null;
	readonly version: number | null;
	readonly coverage: string;
	readonly lines: LineOutcome[];
	readonly billed: number;
	readonly payer: number;
	readonly patient: number;
	/** CO adjustments: billed = payer + patient + adjusted. */
	readonly adjusted: number;
	readonly status: 'paid' | 'partial' | 'denied';
}

export interface ClaimRecord {
	readonly id: string;
	/** Position in `order`: indexes refer to claims by it. */
	readonly n: number;
	readonly block: string;
	readonly author: string;
	readonly clinic: string;
	/** Claimed time (ms) of the submitting block. */
	readonly submitted: number;
	readonly patient: string;
	readonly coverage: string;
	readonly payer: string | null;
	readonly billed: number;
	readonly diagnoses: readonly string[];
	/** The lines as billed (encounter references are checked on arrival and not kept). */
	readonly lines: readonly Omit<ClaimLine, 'encounters'>[];
	preAuth: string[];
	/** Every decision, oldest first: the last is the claim's current outcome. */
	readonly decisions: Decision[];
	readonly replaces: string | null;
	replacedBy: string | null;
}

export type FlagKind =
	'duplicate' | 'unbundling' | 'excessive-units' | 'after-death' | 'encounter-missing' | 'encounter-other-clinic' | 'provider-outlier';

/** A fraud check's finding: evidence for a person to judge, never a denial by itself. */
export interface Flag {
	readonly kind: FlagKind;
	/** The claim concerned (for provider-outlier: the provider's key). */
	readonly claim: string;
	readonly detail: string;
	/** The blocks the finding rests on. */
	readonly blocks: string[];
}

export interface Payment {
	readonly block: string;
	readonly clinic: string;
	readonly patient: string;
	readonly amount: number;
	readonly claim: string | null;
}

export interface Remittance {
	readonly block: string;
	readonly payer: string;
	readonly clinic: string;
	readonly claim: string;
	readonly amount: number;
}

/** A transaction the fold could not apply (e.g. a claim naming an unknown coverage is still decided; a correction of an unknown claim is not). */
export interface Ignored {
	readonly block: string;
	readonly tx: number;
	readonly reason: string;
}

export interface ClaimsState {
	contracts: Record<string, Contract>;
	coverages: Record<string, Coverage>;
	auths: Record<string, Authorization>;
	/** Device key → clinic key (`member.add` with `clinic`). */
	clinics: Record<string, string>;
	deaths: Record<string, { day: number; block: string }>;
	claims: Record<string, ClaimRecord>;
	/** Claim ids in ledger order. */
	order: string[];
	/** Member and patient keys (hex) in order of first use: index keys name them by position. */
	keyList: string[];
	/** patient#|clinic#|code|date|modifiers → the claim (n) that billed it first. */
	lineKeys: Record<string, number>;
	/** patient#|code → [date of service, claim n] of lines served (not denied). */
	served: Record<string, [number, number][]>;
	/** coverage|year → [deductible met, out-of-pocket spent], cents. */
	accum: Record<string, [number, number]>;
	/** patient#|clinic#|date → [code, claim n] of every line billed, for unbundling across claims. */
	sameDay: Record<string, [string, number][]>;
	/** patient# → claims (n) of the patient. */
	byPatient: Record<string, number[]>;
	flags: Flag[];
	payments: Payment[];
	remittances: Remittance[];
	ignored: Ignored[];
}

export function emptyClaimsState(): ClaimsState {
	return {
		contracts: {},
		coverages: {},
		auths: {},
		clinics: {},
		deaths: {},
		claims: {},
		order: [],
		keyList: [],
		lineKeys: {},
		served: {},
		accum: {},
		sameDay: {},
		byPatient: {},
		flags: [],
		payments: [],
		remittances: [],
		ignored: []
	};
}

const shortKeys = new WeakMap<ClaimsState, Map<string, number>>();

function keyMap(state: ClaimsState): Map<string, number> {
	let map = shortKeys.get(state);
	if (!map) {
		map = new Map(state.keyList.map((k, i) => [k, i]));
		shortKeys.set(state, map);
	}
	return map;
}

/** The short number of a hex key, if the state has seen it (reads never add one). */
export const knownKey = (state: ClaimsState, hex: string): number | undefined => keyMap(state).get(hex);

/** The short number of a hex key in this state's key list (added on first use: only the fold calls it). */
export function shortKey(state: ClaimsState, hex: string): number {
	const map = keyMap(state);
	let n = map.get(hex);
	if (n === undefined) {
		n = state.keyList.length;
		state.keyList.push(hex);
		map.set(hex, n);
	}
	return n;
}
