/**
 * Reading the claims fold's pages as of every block folded: from the fold's memory, or from
 * the store where the fold engine keeps them as rows (core/ledger/fold-pages.ts). Views read
 * through here; the fold's own reads go through its state (claims-state.ts).
 */
import type { Ledger } from '$lib/core/index.js';
import { claimBlocksIndex, patientCoveragesRow } from './claim-index.js';
import { knownKey, Pages, type ClaimsState, type Coverage, type PatientPage } from './claims-state.js';
import { pageCodec } from './page-bytes.js';
import { authPages, coverageKey, coveragePages, orphanPages, type JsonPages } from './payer-pages.js';

type PageReader = Pick<Ledger, 'readPages'>;

/**
 * The coverages enrolled for `patient` (hex), each as last enrolled, by id: those whose
 * current version is another patient's too (a re-enrolment may name another; callers check
 * `patient`). Found through the claim-blocks index (`pv/` rows), read from the pages.
 */
export async function readCoveragesOf(ledger: PageReader & Pick<Ledger, 'facts'>, patient: string): Promise<Record<string, Coverage>> {
	const rows = await ledger.facts(claimBlocksIndex.name, patientCoveragesRow(patient));
	const ids = [...new Set(rows.map((row) => row.value as string))];
	const pages = await ledger.readPages<Coverage[]>('claims', ids.map(coverageKey));
	const out: Record<string, Coverage> = {};
	for (const id of ids) {
		const current = pages.get(coverageKey(id))?.at(-1);
		if (current) out[id] = current;
	}
	return out;
}

/** Every page of `set` read into a copy that holds them all (what a test compares). */
async function readAll<P>(ledger: PageReader, set: JsonPages<P>, copy: JsonPages<P>): Promise<JsonPages<P>> {
	const keys = set.keys();
	const pages = await ledger.readPages<P>('claims', keys);
	for (const key of keys) {
		const page = pages.get(key);
		if (page !== undefined) copy.page(key, () => page);
	}
	return copy;
}

/** The pages of the patients at short keys `keys`, by short key; patients without a page left out. */
export async function readPagesByKey(ledger: PageReader, keys: readonly number[]): Promise<Map<number, PatientPage>> {
	const found = await ledger.readPages<PatientPage>('claims', keys.map(String));
	return new Map([...found].map(([key, page]) => [Number(key), page]));
}

/** The pages of `patients` (hex) by patient; patients without a page (or unknown to `state`) left out. */
export async function readPatientPages(
	ledger: PageReader,
	state: ClaimsState,
	patients: readonly string[]
): Promise<Map<string, PatientPage>> {
	const keys = patients.flatMap((hex) => {
		const key = knownKey(state, hex);
		return key === undefined ? [] : [key];
	});
	const found = await readPagesByKey(ledger, keys);
	return new Map([...found].map(([key, page]) => [state.pages.keyList[key]!, page]));
}

/**
 * The claims state with every page read and held decoded, apart from the fold's (what a
 * test compares, or a view of every claim at once computes from; it holds every claim).
 */
export async function readClaimsState(ledger: PageReader & Pick<Ledger, 'state'>): Promise<ClaimsState> {
	const state = ledger.state().claims as ClaimsState;
	const pages = await readPagesByKey(ledger, state.pages.shorts());
	const copy = new Pages(state.pages.keyList, pageCodec, new Map(state.pages.sizes));
	copy.add(
		[],
		[...pages].map(([key, page]): [string, Uint8Array] => [String(key), pageCodec.pack(page, state.pages.keyList)])
	);
	const [coverages, auths] = [await readAll(ledger, state.coverages, coveragePages()), await readAll(ledger, state.auths, authPages())];
	const orphans = await readAll(ledger, state.orphans, orphanPages());
	return { ...state, pages: copy, coverages, auths, orphans };
}
