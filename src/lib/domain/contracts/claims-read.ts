/**
 * Reading the claims fold's pages as of every block folded: from the fold's memory, or from
 * the store where the fold engine keeps them as rows (core/ledger/fold-pages.ts). Views read
 * through here; the fold's own reads go through its state (claims-state.ts).
 */
import type { Ledger } from '$lib/core/index.js';
import { knownKey, Pages, type ClaimsState, type PatientPage } from './claims-state.js';
import { pageCodec } from './page-bytes.js';

type PageReader = Pick<Ledger, 'readPages'>;

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
	return { ...state, pages: copy };
}
