/**
 * The claims fold's state: a head, and a page per patient (`Pages`), each of plain objects
 * and arrays of integers and text, so a checkpoint encodes each as JSON (checkpoint.ts).
 * Money is in cents, dates are day numbers.
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

/**
 * What the fold keeps of one patient: the patient's claims and the adjudication
 * accumulators they feed. Nothing in it is read for another patient's claim (a line's
 * duplicate key, frequency and same-day codes are the patient's own; a paid line's
 * deductible and out-of-pocket go to a coverage of the patient), so a checkpoint keeps
 * each page as its own packed bytes, decoded when first used (`Pages`).
 */
export interface PatientPage {
	/** The patient's claims by id, in the order the fold recorded them (ledger order). */
	claims: Record<string, ClaimRecord>;
	/** clinic#|code|date|modifiers → the claim (n) that billed it first. */
	lineKeys: Record<string, number>;
	/** code → [date of service, claim n] of lines served (not denied). */
	served: Record<string, [number, number][]>;
	/** coverage|year → [deductible met, out-of-pocket spent], cents. */
	accum: Record<string, [number, number]>;
	/** clinic#|date → [code, claim n] of every line billed, for unbundling across claims. */
	sameDay: Record<string, [string, number][]>;
}

export const emptyPage = (): PatientPage => ({ claims: {}, lineKeys: {}, served: {}, accum: {}, sameDay: {} });

/**
 * The patients' pages by short key: decoded ones, and packed ones (from a checkpoint) not
 * yet used. A start decodes none; a block decodes the pages of the patients it bills, and
 * a view of every claim all of them. As JSON (tests compare states so) every page decoded,
 * by patient key.
 */
export class Pages {
	readonly #decoded = new Map<number, PatientPage>();
	readonly #packed: Map<number, Uint8Array>;
	readonly #unpack: (bytes: Uint8Array) => PatientPage;
	readonly #keyList: () => readonly string[];

	constructor(keyList: () => readonly string[], unpack: (bytes: Uint8Array) => PatientPage, packed = new Map<number, Uint8Array>()) {
		this.#keyList = keyList;
		this.#unpack = unpack;
		this.#packed = packed;
	}

	/** The page of patient `key` (short), made empty when the patient has none. */
	get(key: number): PatientPage {
		return this.find(key) ?? this.#set(key, emptyPage());
	}

	/** The page of patient `key` (short), if the patient has one. */
	find(key: number): PatientPage | undefined {
		const page = this.#decoded.get(key);
		if (page) return page;
		const bytes = this.#packed.get(key);
		if (!bytes) return undefined;
		this.#packed.delete(key);
		return this.#set(key, this.#unpack(bytes));
	}

	/**
	 * The page of patient `key` (short) without keeping it decoded: the decoded page when
	 * the fold uses it, else a copy unpacked for the caller alone (a view of every claim
	 * reads the pages one by one and holds none of them; the fold's state, its memory and
	 * its next checkpoint stay as they were).
	 */
	peek(key: number): PatientPage | undefined {
		const page = this.#decoded.get(key);
		if (page) return page;
		const bytes = this.#packed.get(key);
		return bytes ? this.#unpack(bytes) : undefined;
	}

	#set(key: number, page: PatientPage): PatientPage {
		this.#decoded.set(key, page);
		return page;
	}

	/** Every patient with a page (short keys), in no particular order. */
	keys(): number[] {
		return [...this.#decoded.keys(), ...this.#packed.keys()];
	}

	/** Each page's packed form: `pack` for decoded pages (they may have changed), the bytes as they were for the others. */
	packAll(pack: (page: PatientPage) => Uint8Array): [number, Uint8Array][] {
		const out: [number, Uint8Array][] = [...this.#packed];
		for (const [key, page] of this.#decoded) out.push([key, pack(page)]);
		return out.sort((a, b) => a[0] - b[0]);
	}

	/** Packed pages not yet decoded (what a start holds as bytes instead of objects). */
	get packedCount(): number {
		return this.#packed.size;
	}

	toJSON(): Record<string, PatientPage> {
		const keys = this.#keyList();
		return Object.fromEntries(this.keys().map((k) => [keys[k]!, this.find(k)!]));
	}
}

export interface ClaimsState {
	contracts: Record<string, Contract>;
	coverages: Record<string, Coverage>;
	auths: Record<string, Authorization>;
	/** Device key → clinic key (`member.add` with `clinic`). */
	clinics: Record<string, string>;
	deaths: Record<string, { day: number; block: string }>;
	/** Claims recorded: the next claim's `n`. */
	count: number;
	/** Member and patient keys (hex) in order of first use: pages and keys name them by position. */
	keyList: string[];
	/** Each patient's claims and accumulators (`pageOf`). */
	pages: Pages;
	flags: Flag[];
	payments: Payment[];
	remittances: Remittance[];
	ignored: Ignored[];
}

export function emptyClaimsState(): ClaimsState {
	const state: ClaimsState = {
		contracts: {},
		coverages: {},
		auths: {},
		clinics: {},
		deaths: {},
		count: 0,
		keyList: [],
		pages: undefined as unknown as Pages,
		flags: [],
		payments: [],
		remittances: [],
		ignored: []
	};
	// A state made empty has no packed pages to unpack (a decoded checkpoint brings its own: checkpoint.ts).
	state.pages = new Pages(
		() => state.keyList,
		() => emptyPage()
	);
	return state;
}

/** The page of patient `hex` (made when the patient has none: only the fold calls it for a new patient). */
export const pageOf = (state: ClaimsState, hex: string): PatientPage => state.pages.get(shortKey(state, hex));

/** Claim `id`, if the fold recorded it (looks through every page: the fold finds a claim through the claim index, claim-index.ts). */
export function claimById(state: ClaimsState, id: string): ClaimRecord | undefined {
	return allClaims(state).find((c) => c.id === id);
}

/** Every claim, in ledger order (decodes every page). */
export function allClaims(state: ClaimsState): ClaimRecord[] {
	const out: ClaimRecord[] = [];
	for (const key of state.pages.keys()) for (const rec of Object.values(state.pages.find(key)!.claims)) out.push(rec);
	return out.sort((a, b) => a.n - b.n);
}

/** Claim `id` of `patient`, read without keeping the patient's page decoded ({@link Pages.peek}). */
export function peekClaim(state: ClaimsState, patient: string, id: string): ClaimRecord | undefined {
	const key = knownKey(state, patient);
	const page = key === undefined ? undefined : state.pages.peek(key);
	return page && Object.hasOwn(page.claims, id) ? page.claims[id] : undefined;
}

/** The page of patient `hex`, if the state has one (reads never make one). */
export function findPage(state: ClaimsState, hex: string): PatientPage | undefined {
	const key = knownKey(state, hex);
	return key === undefined ? undefined : state.pages.find(key);
}

/** `patient`'s claims in ledger order; none for a patient the state has not seen. */
export function claimsOfPatient(state: ClaimsState, patient: string): ClaimRecord[] {
	const page = findPage(state, patient);
	return page ? Object.values(page.claims) : [];
}

/** The deductible met and out-of-pocket spent under `coverage` in `year` (cents), if any line counted. */
export function accumOf(state: ClaimsState, coverage: string, year: number): readonly [number, number] | undefined {
	const patient = state.coverages[coverage]?.patient;
	return patient === undefined ? undefined : findPage(state, patient)?.accum[`${coverage}|${year}`];
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
