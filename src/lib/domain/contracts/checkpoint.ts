/**
 * The claims fold's checkpoint form: the head (contracts, coverages, keys, flags:
 * everything but the pages) as one JSON byte string, the patients with pages, and the pages
 * held in memory as bytes of their own (page-bytes.ts). Under a ledger the fold engine has
 * stored every page as a row beside the checkpoint before encoding it (core/ledger/fold-pages.ts),
 * so none is inline; a state folded without a store keeps them all inline. A checkpoint
 * written before pages were rows (every page inline) decodes the same way: its pages count
 * as changed, and the next checkpoint stores them as rows. One whose stored pages sit in
 * rows of another grouping (one page per row, before {@link PAGES_PER_ROW}) does not decode:
 * the ledger starts from an older checkpoint or folds the claims again, never reads rows it
 * does not know. Decoding reads the head only. Coverages, authorizations and orphans (what
 * names a claim not made yet) are pages too (payer-pages.ts), in their own page sets'
 * checkpoint form beside the head; a checkpoint from before holds the orphans in the head. A checkpoint
 * from before holds them in the head, as rows with their keys numbered (head-packing.ts) or
 * as objects: it decodes to the same state, each coverage's and authorization's page in
 * memory and changed, stored as rows at the next checkpoint (no refold).
 * `unpack(pack(s))` encodes to the same bytes as `s`.
 */
import { CodedError, type CborValue, type PagesCheckpointForm } from '$lib/core/index.js';
import { emptyClaimsState, Pages, PAGES_PER_ROW, type ClaimsState } from './claims-state.js';
import { unpackPayers, type PackedPayers, type Payers } from './head-packing.js';
import { pageCodec } from './page-bytes.js';
import { authKey, coverageKey, orphanKey } from './payer-pages.js';
import type { Ignored } from './claims-types.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * `pageKeys`: every patient with a page, `inlineKeys` those whose bytes follow the head
 * (all of `pageKeys` when absent: the layout before pages were rows), `sizes` each page's
 * claims as [key, count] pairs (absent before pages were rows: counted from the pages),
 * `perRow` the pages per row of the store (absent: one).
 */
type Head = Omit<ClaimsState, 'pages' | 'coverages' | 'auths' | 'orphans'> &
	Partial<Payers> & {
		keyList: string[];
		pageKeys: number[];
		inlineKeys?: number[];
		sizes?: number[];
		perRow?: number;
		/** Checkpoints written before coverages and authorizations were pages: them as rows (head-packing.ts), or as objects (`Payers`). */
		payers?: PackedPayers;
		/** Checkpoints written before the orphans were pages: them by claim id. */
		orphans?: Record<string, Ignored[]>;
	};

/** The checkpoint form beside the head. `coverages` and `auths` are absent in checkpoints written before they were pages. */
interface Packed {
	head: Uint8Array;
	pages: Uint8Array[];
	coverages?: PagesCheckpointForm;
	auths?: PagesCheckpointForm;
	orphans?: PagesCheckpointForm;
}

/** The checkpoint form of a claims state: the head's bytes, and each page in memory's. */
export function packState(state: ClaimsState): CborValue {
	const { pages, coverages, auths, orphans, ...rest } = state;
	const inline = pages.inline().sort((a, b) => Number(a[0]) - Number(b[0]));
	const sizes = [...pages.sizes].sort((a, b) => a[0] - b[0]).flat();
	const head: Head = {
		...rest,
		keyList: pages.keyList,
		pageKeys: pages
			.keys()
			.map(Number)
			.sort((a, b) => a - b),
		inlineKeys: inline.map(([key]) => Number(key)),
		sizes,
		perRow: PAGES_PER_ROW
	};
	const packed: Packed = {
		head: utf8.encode(JSON.stringify(head)),
		pages: inline.map(([, bytes]) => bytes),
		coverages: coverages.checkpointForm(),
		auths: auths.checkpointForm(),
		orphans: orphans.checkpointForm()
	};
	return packed as unknown as CborValue;
}

/** The coverages and authorizations of a checkpoint written before they were pages, as pages in memory, changed (stored at the next checkpoint). */
function payersAsPages(payers: Payers, state: ClaimsState): void {
	for (const [id, current] of Object.entries(payers.coverages))
		state.coverages.page(coverageKey(id), () => [...(payers.coverageHistory[id] ?? []), current]);
	for (const [id, auth] of Object.entries(payers.auths)) state.auths.page(authKey(id), () => auth);
}

/** The claims state of its checkpoint form: the head decoded, the pages inline kept as bytes until used, the others left in the store. */
export function unpackState(value: CborValue): ClaimsState {
	const v = value as unknown as Packed;
	const { pageKeys, inlineKeys, sizes, keyList, perRow, payers, coverages, coverageHistory, auths, orphans, ...head } = JSON.parse(
		text.decode(v.head)
	) as Head;
	const inline = inlineKeys ?? pageKeys;
	if (inline.length < pageKeys.length && perRow !== PAGES_PER_ROW)
		throw new CodedError(
			'CLAIMS_ROWS_LAYOUT',
			`claims pages stored ${perRow ?? 1} per row, read ${PAGES_PER_ROW} per row: not this checkpoint`
		);
	const counts = new Map<number, number>();
	if (sizes) for (let i = 0; i < sizes.length; i += 2) counts.set(sizes[i]!, sizes[i + 1]!);
	else inline.forEach((key, i) => counts.set(key, Object.keys(pageCodec.unpack(v.pages[i]!, keyList).claims).length));
	const pages = new Pages(keyList, pageCodec, counts);
	const held = new Set(inline);
	pages.add(
		pageKeys.filter((key) => !held.has(key)).map(String),
		inline.map((key, i): [string, Uint8Array] => [String(key), v.pages[i]!])
	);
	const state: ClaimsState = { ...emptyClaimsState(), ...head, pages };
	if (v.orphans) state.orphans.addCheckpointForm(v.orphans);
	else for (const [id, list] of Object.entries(orphans ?? {})) state.orphans.page(orphanKey(id), () => list);
	if (v.coverages && v.auths) {
		state.coverages.addCheckpointForm(v.coverages);
		state.auths.addCheckpointForm(v.auths);
	} else if (payers) payersAsPages(unpackPayers(payers, keyList), state);
	else if (coverages && auths) payersAsPages({ coverages, coverageHistory: coverageHistory ?? {}, auths }, state);
	return state;
}
