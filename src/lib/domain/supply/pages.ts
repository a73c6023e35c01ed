/**
 * The supply fold's pages (supply-state.ts `SupplyPage`) in its checkpoints and for
 * readers. Under a ledger the fold engine keeps them as rows of the store
 * (core/ledger/page-rows.ts), read when a batch names them and written beside each
 * checkpoint when changed; a checkpoint holds the part in memory and the keys of the pages.
 * Readers gather the pages they show into the view the screens read ({@link readSupply}).
 */
import type { CborValue, Ledger, PagesCheckpointForm } from '$lib/core/index.js';
import type { Flag, TransferState } from './entities.js';
import {
	emptyPage,
	LOT_PAGE,
	lotKey,
	lotPageKey,
	serialPageKey,
	SupplyPages,
	transferFlagsPageKey,
	TRANSFER_PAGE,
	transferPageKey,
	type SupplyPage,
	type SupplyState,
	type SupplyView
} from './supply-state.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The checkpoint form: the part in memory and the page keys as JSON, and the pages no row holds yet (under a ledger none). */
interface Shared extends Omit<SupplyState, 'pages'>, Omit<PagesCheckpointForm, 'pages'> {}

export function encodeSupply(state: SupplyState): CborValue {
	const { pages: set, ...shared } = state;
	const { pages, ...keys } = set.checkpointForm();
	const json: Shared = { ...shared, ...keys };
	return { json: utf8.encode(JSON.stringify(json)), pages };
}

/**
 * The page a flag of the whole state (a checkpoint written before pages) belongs on: its
 * transfer's flags page, its serial's, else its lot's (every other flag names its lot).
 */
function flagPageKey(key: string, flag: Flag): string {
	const [kind, first, second] = key.split('|');
	if (kind!.startsWith('transfer-')) return transferFlagsPageKey(first!);
	if (kind === 'serial-reused') return serialPageKey(first!, second!);
	return lotPageKey(flag.gtin!, flag.lot!);
}

/**
 * The state of a checkpoint written before the state had pages (the whole state as JSON,
 * `SupplyView`'s shape): the same state, every page in memory and changed, so the next
 * checkpoint stores them as rows (no refold). A `serials` map, older still, is left out
 * (serial-index.ts answers for every block).
 */
function fromWhole(whole: SupplyView & { serials?: unknown }): SupplyState {
	const pages = new Map<string, SupplyPage>();
	const page = (key: string) => pages.get(key) ?? pages.set(key, emptyPage()).get(key)!;
	for (const key of new Set([...Object.keys(whole.lots), ...Object.keys(whole.stock), ...Object.keys(whole.totals)])) {
		const [gtin, lot] = key.split('|') as [string, string];
		const p = page(lotPageKey(gtin, lot));
		p.lot = whole.lots[key] ?? { gtin, lot, expiry: null, recall: null };
		p.stock = whole.stock[key] ?? {};
		p.totals = whole.totals[key] ?? {};
	}
	const transit: Record<string, TransferState> = {};
	for (const [id, transfer] of Object.entries(whole.transfers))
		if (transfer.received) page(transferPageKey(id)).transfer = transfer;
		else transit[id] = transfer;
	for (const [key, flag] of Object.entries(whole.flags)) page(flagPageKey(key, flag)).flags[key] = flag;
	const state: SupplyState = {
		clinics: whole.clinics,
		policy: whole.policy,
		items: whole.items,
		reorder: whole.reorder,
		transit,
		open: whole.open,
		pages: new SupplyPages()
	};
	state.pages.add(
		[],
		[...pages].map(([key, p]): [string, Uint8Array] => [key, utf8.encode(JSON.stringify(p))])
	);
	return state;
}

export function decodeSupply(value: CborValue): SupplyState {
	const v = value as { json: Uint8Array; pages?: Uint8Array[] };
	const parsed = JSON.parse(text.decode(v.json)) as Shared | (SupplyView & { serials?: unknown });
	if (!('pageKeys' in parsed)) return fromWhole(parsed);
	const { pageKeys, inlineKeys, ...shared } = parsed;
	const pages = new SupplyPages();
	pages.addCheckpointForm({ pageKeys, inlineKeys, pages: v.pages! });
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
			const key = lotKey(page.lot.gtin, page.lot.lot);
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

/**
 * The keys of every page but the received transfers': what a screen listing stock and flags
 * reads (a transfer in transit is in memory). Received transfers grow with the years and no
 * screen lists them.
 */
export const shownPageKeys = (state: SupplyState): string[] => state.pages.keys().filter((key) => !key.startsWith(TRANSFER_PAGE));

/** The keys of every lot's page. */
export const lotPageKeys = (state: SupplyState): string[] => state.pages.keys().filter((key) => key.startsWith(LOT_PAGE));

/** The view of a state that holds every page (a fold over blocks in memory); a page stored and not read throws `PAGE_NOT_READ`. */
export const supplyView = (state: SupplyState): SupplyView => viewOf(state, state.pages.all());
