/**
 * The supply fold's pages (supply-state.ts `SupplyPage`) in its checkpoints and for
 * readers. Under a ledger the fold engine keeps them as rows of the store
 * (core/ledger/page-rows.ts), read when a batch names them and written beside each
 * checkpoint when changed; a checkpoint holds the part in memory and the keys of the pages.
 * Readers gather the pages they show into the view the screens read ({@link readSupply}).
 */
import type { CborValue, Ledger } from '$lib/core/index.js';
import { SupplyPages, type SupplyPage, type SupplyState, type SupplyView } from './supply-state.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The checkpoint form: the part in memory and the page keys as JSON, and the pages no row holds yet (under a ledger none). */
interface Shared extends Omit<SupplyState, 'pages'> {
	pageKeys: string[];
	inlineKeys: string[];
}

export function encodeSupply(state: SupplyState): CborValue {
	const { pages, ...shared } = state;
	const inline = pages.inline().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	const json: Shared = { ...shared, pageKeys: pages.keys().sort(), inlineKeys: inline.map(([key]) => key) };
	return { json: utf8.encode(JSON.stringify(json)), pages: inline.map(([, bytes]) => bytes) };
}

export function decodeSupply(value: CborValue): SupplyState {
	const v = value as { json: Uint8Array; pages: Uint8Array[] };
	const { pageKeys, inlineKeys, ...shared } = JSON.parse(text.decode(v.json)) as Shared;
	const pages = new SupplyPages();
	const inline = new Set(inlineKeys);
	pages.add(
		pageKeys.filter((key) => !inline.has(key)),
		inlineKeys.map((key, i): [string, Uint8Array] => [key, v.pages[i]!])
	);
	return { ...shared, pages };
}

/** The view of the part in memory and of `pages`. */
function viewOf(state: SupplyState, pages: Iterable<SupplyPage>): SupplyView {
	const view: SupplyView = {
		clinics: state.clinics,
		policy: state.policy,
		items: state.items,
		reorder: state.reorder,
		open: state.open,
		lots: {},
		stock: {},
		totals: {},
		transfers: { ...state.transit },
		flags: {}
	};
	for (const page of pages) {
		if (page.lot) {
			const key = `${page.lot.gtin}|${page.lot.lot}`;
			view.lots[key] = page.lot;
			view.stock[key] = page.stock;
			view.totals[key] = page.totals;
		}
		if (page.transfer) view.transfers[page.transfer.id] = page.transfer;
		Object.assign(view.flags, page.flags);
	}
	return view;
}

type SupplyReader = Pick<Ledger, 'state' | 'readPages'>;

/**
 * The supply state as of every block folded, with the pages of `keys` (every page when
 * omitted): from the fold's memory, or the store. The view shares objects with the fold,
 * which may change them while blocks arrive; the supply fold must be registered.
 */
export async function readSupply(ledger: SupplyReader, keys?: readonly string[]): Promise<SupplyView> {
	const state = ledger.state().supply as SupplyState;
	const pages = await ledger.readPages<SupplyPage>('supply', keys ?? state.pages.keys());
	return viewOf(state, pages.values());
}

/** The view of a state that holds every page (a fold over blocks in memory); a page stored and not read throws `PAGE_NOT_READ`. */
export const supplyView = (state: SupplyState): SupplyView =>
	viewOf(
		state,
		state.pages.keys().map((key) => state.pages.view(key)!)
	);
