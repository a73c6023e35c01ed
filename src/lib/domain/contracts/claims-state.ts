/**
 * The claims fold's state: a head, and a page per patient (`Pages`), each of plain objects
 * and arrays of integers and text, so a checkpoint encodes each as JSON (checkpoint.ts).
 * Money is in cents, dates are day numbers.
 */
import {
	comparePlace,
	claimPlace,
	type Authorization,
	type ClaimRecord,
	type Contract,
	type Coverage,
	type Flag,
	type Ignored,
	type Payment,
	type Remittance,
	type TxPlace
} from './claims-types.js';

export * from './claims-types.js';

/**
 * What the fold keeps of one patient: the patient's claims, the adjudication accumulators
 * they feed, and everything else the patient's transactions decide (flags, payments,
 * remittances, the recorded death, what was ignored). Nothing in it is read for another
 * patient's claim (a line's duplicate key, frequency and same-day codes are the patient's
 * own; a paid line's deductible and out-of-pocket go to a coverage of the patient), so a
 * checkpoint keeps each page as its own packed bytes, decoded when first used (`Pages`),
 * and a block that lands late re-applies only its patients' pages (claims-fold.ts).
 * Nothing in it depends on the order blocks arrived in: claims are numbered within the page,
 * and clinics named by their place in the page's own list.
 */
export interface PatientPage {
	/** The patient's claims by id, in the order the fold recorded them (ledger order). */
	claims: Record<string, ClaimRecord>;
	/** Clinics (hex) in the order the page first named them: `clinic#` below is a place in this list. */
	clinics: string[];
	/** clinic#|code|date|modifiers → the claim (n) that billed it first. */
	lineKeys: Record<string, number>;
	/** code → [date of service, claim n] of lines served (not denied). */
	served: Record<string, [number, number][]>;
	/** coverage|year → [deductible met, out-of-pocket spent], cents. */
	accum: Record<string, [number, number]>;
	/** clinic#|date → [code, claim n] of every line billed, for unbundling across claims. */
	sameDay: Record<string, [string, number][]>;
	/** Fraud findings on the patient's claims, as the fold recorded them. */
	flags: Flag[];
	/** `payment.record`s of the patient, and remittances of the patient's claims, in ledger order. */
	payments: Payment[];
	remittances: Remittance[];
	/** The last death recorded for the patient. */
	death: { day: number; block: string } | null;
	/** The patient's transactions the fold could not apply, in ledger order. */
	ignored: Ignored[];
}

export const emptyPage = (): PatientPage => ({
	claims: {},
	clinics: [],
	lineKeys: {},
	served: {},
	accum: {},
	sameDay: {},
	flags: [],
	payments: [],
	remittances: [],
	death: null,
	ignored: []
});

/** The place of `clinic` (hex) in `page`'s list, added on first use. */
export function pageClinic(page: PatientPage, clinic: string): number {
	const at = page.clinics.indexOf(clinic);
	return at >= 0 ? at : page.clinics.push(clinic) - 1;
}

/**
 * The patients' pages by short key: decoded ones, and packed ones (from a checkpoint) not
 * yet used. A start decodes none; a block decodes the pages of the patients it bills, and
 * a view of every claim all of them. As JSON (tests compare states so) every page decoded,
 * by patient key.
 *
 * The pages hold the state's key list: member and patient keys (hex) in the order this
 * node first met them, which the packed pages and claims name by position. It is not
 * part of the state's JSON (it depends on arrival order once pages are re-applied), and
 * a copy of the state's head (`{ ...state }`, as a view takes) shares it with the pages.
 */
export class Pages {
	readonly #decoded = new Map<number, PatientPage>();
	readonly #packed: Map<number, Uint8Array>;
	#unpack: (bytes: Uint8Array, keys: readonly string[]) => PatientPage;
	/** Member and patient keys (hex) by short number. */
	readonly keyList: string[];

	constructor(
		keyList: string[],
		unpack: (bytes: Uint8Array, keys: readonly string[]) => PatientPage,
		packed = new Map<number, Uint8Array>()
	) {
		this.keyList = keyList;
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
		return this.#set(key, this.#unpack(bytes, this.keyList));
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
		return bytes ? this.#unpack(bytes, this.keyList) : undefined;
	}

	/** Drops the page of patient `key` (short): its blocks are applied again. */
	delete(key: number): void {
		this.#decoded.delete(key);
		this.#packed.delete(key);
	}

	#set(key: number, page: PatientPage): PatientPage {
		this.#decoded.set(key, page);
		return page;
	}

	/** Every patient with a page (short keys), in no particular order. */
	keys(): number[] {
		return [...this.#decoded.keys(), ...this.#packed.keys()];
	}

	/**
	 * Each page's packed form: `pack` for decoded pages (they may have changed), the bytes as
	 * they were for the others. The decoded pages are then kept packed, as the checkpoint
	 * holds them, and decoded again when next used: the pages held decoded are those used
	 * since the last checkpoint, not every page the fold ever touched (a node that folded a
	 * network's years held every patient's claims as objects). `unpack` decodes them then (a
	 * state made empty has none to decode until now).
	 */
	packAll(
		pack: (page: PatientPage) => Uint8Array,
		unpack: (bytes: Uint8Array, keys: readonly string[]) => PatientPage
	): [number, Uint8Array][] {
		this.#unpack = unpack;
		for (const [key, page] of this.#decoded) this.#packed.set(key, pack(page));
		this.#decoded.clear();
		return [...this.#packed].sort((a, b) => a[0] - b[0]);
	}

	/** Packed pages not yet decoded (what a start holds as bytes instead of objects). */
	get packedCount(): number {
		return this.#packed.size;
	}

	toJSON(): Record<string, PatientPage> {
		return Object.fromEntries(this.keys().map((k) => [this.keyList[k]!, this.find(k)!]));
	}
}

/**
 * The head: what every patient's claims read (contracts, coverages, authorizations,
 * clinics), changed only by transactions in ledger order (a late one rewinds the fold), and
 * the pages.
 */
export interface ClaimsState {
	contracts: Record<string, Contract>;
	/** Each coverage as last enrolled; `coverageHistory` holds the versions a re-enrolment replaced. */
	coverages: Record<string, Coverage>;
	coverageHistory: Record<string, Coverage[]>;
	auths: Record<string, Authorization>;
	/** Device key → clinic key (`member.add` with `clinic`), and every such mapping with its place. */
	clinics: Record<string, string>;
	clinicHistory: Record<string, [TxPlace, string][]>;
	/** Claims recorded, every page together. */
	count: number;
	/** Each patient's claims and accumulators (`pageOf`). */
	pages: Pages;
	/** Transactions of the head (and claims that do not parse) the fold could not apply, in ledger order. */
	ignored: Ignored[];
	/** Transactions naming a claim no claim transaction before them made, by that claim id, in ledger order. */
	orphans: Record<string, Ignored[]>;
}

export function emptyClaimsState(): ClaimsState {
	return {
		contracts: {},
		coverages: {},
		coverageHistory: {},
		auths: {},
		clinics: {},
		clinicHistory: {},
		count: 0,
		// A state made empty has no packed pages to unpack (a decoded checkpoint brings its own: checkpoint.ts).
		pages: new Pages([], () => emptyPage()),
		ignored: [],
		orphans: {}
	};
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
	return out.sort((a, b) => comparePlace(claimPlace(a), claimPlace(b)));
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

/** Coverage `id` as of `at` (as last enrolled before it), or as last enrolled when `at` is not given. */
export function coverageAt(state: ClaimsState, id: string, at?: TxPlace): Coverage | undefined {
	const current = Object.hasOwn(state.coverages, id) ? state.coverages[id] : undefined;
	if (!current || !at || comparePlace(current.at, at) < 0) return current;
	const earlier = state.coverageHistory[id] ?? [];
	for (let i = earlier.length - 1; i >= 0; i--) if (comparePlace(earlier[i]!.at, at) < 0) return earlier[i];
	return undefined;
}

/** Authorization `id` if it was granted before `at`. */
export function authAt(state: ClaimsState, id: string, at: TxPlace): Authorization | undefined {
	const auth = Object.hasOwn(state.auths, id) ? state.auths[id] : undefined;
	return auth && comparePlace(auth.at, at) < 0 ? auth : undefined;
}

/** The clinic device `key` belonged to at `at` (the key itself when none was named). */
export function clinicAt(state: ClaimsState, key: string, at: TxPlace): string {
	const history = Object.hasOwn(state.clinicHistory, key) ? state.clinicHistory[key]! : [];
	for (let i = history.length - 1; i >= 0; i--) if (comparePlace(history[i]![0], at) < 0) return history[i]![1];
	return key;
}

/** The deductible met and out-of-pocket spent under `coverage` in `year` (cents), if any line counted. */
export function accumOf(state: ClaimsState, coverage: string, year: number): readonly [number, number] | undefined {
	const patient = state.coverages[coverage]?.patient;
	return patient === undefined ? undefined : findPage(state, patient)?.accum[`${coverage}|${year}`];
}

const shortKeys = new WeakMap<Pages, Map<string, number>>();

function keyMap(state: ClaimsState): Map<string, number> {
	let map = shortKeys.get(state.pages);
	if (!map) {
		map = new Map(state.pages.keyList.map((k, i) => [k, i]));
		shortKeys.set(state.pages, map);
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
		n = state.pages.keyList.length;
		state.pages.keyList.push(hex);
		map.set(hex, n);
	}
	return n;
}

/** Each page in turn (decoded for the caller alone when packed: {@link Pages.peek}). */
export function* everyPage(state: ClaimsState): Generator<PatientPage> {
	for (const key of state.pages.keys()) yield state.pages.peek(key)!;
}

/**
 * The flags the fold recorded, gathered a page at a time in any order, listed by their
 * claims' places in the ledger (the flags of one claim in the order the fold recorded them).
 */
export class FlagList {
	readonly #entries: [TxPlace, number, Flag][] = [];

	add(page: PatientPage): void {
		page.flags.forEach((flag, i) => {
			const rec = page.claims[flag.claim];
			this.#entries.push([rec ? claimPlace(rec) : [0, flag.claim, 0], i, flag]);
		});
	}

	list(): Flag[] {
		return [...this.#entries].sort((a, b) => comparePlace(a[0], b[0]) || a[1] - b[1]).map(([, , flag]) => flag);
	}
}

/** Every flag the fold recorded ({@link FlagList}). */
export function recordedFlags(state: ClaimsState): Flag[] {
	const flags = new FlagList();
	for (const page of everyPage(state)) flags.add(page);
	return flags.list();
}

const byPlace = <T extends { readonly clock: number; readonly block: string }>(a: T, b: T) =>
	comparePlace([a.clock, a.block, 0], [b.clock, b.block, 0]);

/** Every `payment.record` the fold applied, in ledger order. */
export const paymentsOf = (state: ClaimsState): Payment[] => [...everyPage(state)].flatMap((p) => p.payments).sort(byPlace);

/** Every `remittance.record` the fold applied, in ledger order. */
export const remittancesOf = (state: ClaimsState): Remittance[] => [...everyPage(state)].flatMap((p) => p.remittances).sort(byPlace);

/** Every transaction the fold could not apply, in ledger order. */
export function ignoredOf(state: ClaimsState): Ignored[] {
	const all = [...state.ignored, ...Object.values(state.orphans).flat(), ...[...everyPage(state)].flatMap((p) => p.ignored)];
	return all.sort((a, b) => comparePlace([a.clock, a.block, a.tx], [b.clock, b.block, b.tx]));
}

/** The deaths recorded, by patient key. */
export function deathsOf(state: ClaimsState): Record<string, { day: number; block: string }> {
	const out: Record<string, { day: number; block: string }> = {};
	for (const key of state.pages.keys()) {
		const death = state.pages.peek(key)!.death;
		if (death) out[state.pages.keyList[key]!] = death;
	}
	return out;
}
