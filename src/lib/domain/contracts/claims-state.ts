/**
 * The claims fold's state: a head, and a page per patient (`Pages`), each of plain objects
 * and arrays of integers and text, so a checkpoint encodes each as JSON (checkpoint.ts).
 * Money is in cents, dates are day numbers.
 */
import { StoredPages } from '$lib/core/index.js';
import { pageCodec, type PageCodec } from './page-bytes.js';
import { authKey, authPages, coverageKey, coveragePages, orphanPages, type JsonPages } from './payer-pages.js';
import {
	comparePlace,
	claimPlace,
	type Authorization,
	type ClaimRecord,
	type Contract,
	type Coverage,
	type Flag,
	type Ignored,
	type PatientPage,
	type Payment,
	type Remittance,
	type TxPlace
} from './claims-types.js';

export * from './claims-types.js';

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
 * Patients' pages per row of the store (core/fold.ts `FoldPages.rowOf`): a row of 16 pages
 * of about 6.5 KB reads as fast as one page (Billing reads every page; measured in
 * Chromium's IndexedDB, docs/benchmarks.md), and a checkpoint rewrites the rows of the
 * pages changed, 16 pages each.
 */
export const PAGES_PER_ROW = 16;

/** The row holding the page of short key `key` (decimal text): patients numbered together share one. */
export const pageRowOf = (key: string): string => (/^\d+$/.test(key) ? String(Math.floor(Number(key) / PAGES_PER_ROW)) : key);

/**
 * The patients' pages by short key (core/ledger/stored-pages.ts: in memory, or rows of the
 * store the fold engine reads before a batch that bills the patient), keys as decimal text
 * of the short number. As JSON (tests compare states so) every page, by patient key.
 *
 * The pages hold the state's key list: member and patient keys (hex) in the order this
 * node first met them, which the packed pages and claims name by position. It is not
 * part of the state's JSON (it depends on arrival order once pages are re-applied), and
 * a copy of the state's head (`{ ...state }`, as a view takes) shares it with the pages.
 */
export class Pages extends StoredPages<PatientPage> {
	/** Member and patient keys (hex) by short number. */
	readonly keyList: string[];
	/** Claims in each patient's page (a page cleared without being read takes its count with it). */
	readonly sizes: Map<number, number>;

	constructor(keyList: string[], codec: PageCodec, sizes = new Map<number, number>()) {
		super(
			{ pack: (page) => codec.pack(page, keyList), unpack: (bytes) => codec.unpack(bytes, keyList) },
			(key) => `of patient ${(keyList[Number(key)] ?? '?').slice(0, 12)}`
		);
		this.keyList = keyList;
		this.sizes = sizes;
	}

	/** Every patient with a page (short keys), in no particular order. */
	shorts(): number[] {
		return this.keys().map(Number);
	}

	toJSON(): Record<string, PatientPage> {
		return Object.fromEntries(this.keys().map((k) => [this.keyList[Number(k)]!, this.view(k)!]));
	}
}

/**
 * The head: what every patient's claims read (contracts, clinics), changed only by
 * transactions in ledger order (a late one rewinds the fold, or rebuilds: claims-head.ts),
 * and the pages: the patients', the coverages', the authorizations' and the orphans'
 * (payer-pages.ts).
 */
export interface ClaimsState {
	contracts: Record<string, Contract>;
	/** Each coverage's versions in ledger order, the last the current one (pages `v:<id>`). */
	coverages: JsonPages<Coverage[]>;
	/** Each authorization (pages `a:<id>`). */
	auths: JsonPages<Authorization>;
	/** Device key → clinic key (`member.add` with `clinic`), and every such mapping with its place. */
	clinics: Record<string, string>;
	clinicHistory: Record<string, [TxPlace, string][]>;
	/** Claims recorded, every page together. */
	count: number;
	/** Each patient's claims and accumulators (`pageOf`). */
	pages: Pages;
	/** Transactions of the head (and claims that do not parse) the fold could not apply, in ledger order. */
	ignored: Ignored[];
	/** Transactions naming a claim no claim transaction before them made, in ledger order (pages `o:<claim id>`). */
	orphans: JsonPages<Ignored[]>;
}

export function emptyClaimsState(): ClaimsState {
	return {
		contracts: {},
		coverages: coveragePages(),
		auths: authPages(),
		clinics: {},
		clinicHistory: {},
		count: 0,
		pages: new Pages([], pageCodec),
		ignored: [],
		orphans: orphanPages()
	};
}

/** The page of patient `hex` (made when the patient has none: only the fold calls it for a new patient). */
export const pageOf = (state: ClaimsState, hex: string): PatientPage => state.pages.page(String(shortKey(state, hex)), emptyPage);

/** Claim `id`, if the fold recorded it (looks through every page: the fold finds a claim through the claim index, claim-index.ts). */
export function claimById(state: ClaimsState, id: string): ClaimRecord | undefined {
	return allClaims(state).find((c) => c.id === id);
}

/** Every claim, in ledger order (unpacks every page in memory; a state with pages stored and not read throws `PAGE_NOT_READ`). */
export function allClaims(state: ClaimsState): ClaimRecord[] {
	const out: ClaimRecord[] = [];
	for (const page of everyPage(state)) for (const rec of Object.values(page.claims)) out.push(rec);
	return out.sort((a, b) => comparePlace(claimPlace(a), claimPlace(b)));
}

/** Claim `id` of `patient`, read without keeping the patient's page decoded ({@link Pages.peek}). */
export function peekClaim(state: ClaimsState, patient: string, id: string): ClaimRecord | undefined {
	const key = knownKey(state, patient);
	const page = key === undefined ? undefined : state.pages.view(String(key));
	return page && Object.hasOwn(page.claims, id) ? page.claims[id] : undefined;
}

/** The page of patient `hex`, if the state has one (never made; the fold may change it: readers use `viewPage`). */
export function findPage(state: ClaimsState, hex: string): PatientPage | undefined {
	const key = knownKey(state, hex);
	return key === undefined ? undefined : state.pages.find(String(key));
}

/** The page of patient `hex` for a reader ({@link Pages.view}), if the state has one. */
export function viewPage(state: ClaimsState, hex: string): PatientPage | undefined {
	const key = knownKey(state, hex);
	return key === undefined ? undefined : state.pages.view(String(key));
}

/** `patient`'s claims in ledger order; none for a patient the state has not seen. */
export function claimsOfPatient(state: ClaimsState, patient: string): ClaimRecord[] {
	const page = viewPage(state, patient);
	return page ? Object.values(page.claims) : [];
}

/**
 * Coverage `id` as of `at` (as last enrolled before it), or as last enrolled when `at` is
 * not given. Its page must have been read (`PAGE_NOT_READ` otherwise: never taken as absent).
 */
export function coverageAt(state: ClaimsState, id: string, at?: TxPlace): Coverage | undefined {
	const versions = state.coverages.view(coverageKey(id)) ?? [];
	for (let i = versions.length - 1; i >= 0; i--) if (!at || comparePlace(versions[i]!.at, at) < 0) return versions[i];
	return undefined;
}

/** Authorization `id` if it was granted before `at` (its page read, as for {@link coverageAt}). */
export function authAt(state: ClaimsState, id: string, at: TxPlace): Authorization | undefined {
	const auth = state.auths.view(authKey(id));
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
	const patient = coverageAt(state, coverage)?.patient;
	return patient === undefined ? undefined : viewPage(state, patient)?.accum[`${coverage}|${year}`];
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
	for (const key of state.pages.keys()) yield state.pages.view(key)!;
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
	const all = [...state.ignored, ...state.orphans.all().flat(), ...[...everyPage(state)].flatMap((p) => p.ignored)];
	return all.sort((a, b) => comparePlace([a.clock, a.block, a.tx], [b.clock, b.block, b.tx]));
}

/** The deaths recorded, by patient key. */
export function deathsOf(state: ClaimsState): Record<string, { day: number; block: string }> {
	const out: Record<string, { day: number; block: string }> = {};
	for (const key of state.pages.keys()) {
		const death = state.pages.view(key)!.death;
		if (death) out[state.pages.keyList[Number(key)]!] = death;
	}
	return out;
}
