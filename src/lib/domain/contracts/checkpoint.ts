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
 * does not know. Decoding reads the head only. The head's coverages and authorizations are
 * rows with their keys numbered (head-packing.ts); a checkpoint from before holds them as
 * objects and decodes to the same state.
 * `unpack(pack(s))` encodes to the same bytes as `s`.
 */
import { CodedError, type CborValue } from '$lib/core/index.js';
import { emptyClaimsState, knownKey, Pages, PAGES_PER_ROW, type ClaimsState } from './claims-state.js';
import { packPayers, unpackPayers, type PackedPayers, type Payers } from './head-packing.js';
import { pageCodec } from './page-bytes.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * `pageKeys`: every patient with a page, `inlineKeys` those whose bytes follow the head
 * (all of `pageKeys` when absent: the layout before pages were rows), `sizes` each page's
 * claims as [key, count] pairs (absent before pages were rows: counted from the pages),
 * `perRow` the pages per row of the store (absent: one).
 */
type Head = Omit<ClaimsState, 'pages' | keyof Payers> &
	Partial<Payers> & {
		keyList: string[];
		pageKeys: number[];
		inlineKeys?: number[];
		sizes?: number[];
		perRow?: number;
		/** The coverages and authorizations as rows (head-packing.ts); absent in checkpoints written before, which hold them as objects. */
		payers?: PackedPayers;
	};

/** The checkpoint form of a claims state: the head's bytes, and each page in memory's. */
export function packState(state: ClaimsState): CborValue {
	const { pages, coverages, coverageHistory, auths, ...rest } = state;
	// The key list's places from the state's own index of it (claims-state.ts `knownKey`), not a new one.
	const payers = packPayers({ coverages, coverageHistory, auths }, pages.keyList, (key) => knownKey(state, key));
	const inline = pages.inline().sort((a, b) => Number(a[0]) - Number(b[0]));
	const sizes = [...pages.sizes].sort((a, b) => a[0] - b[0]).flat();
	const head: Head = {
		...rest,
		...(payers ? {} : { coverages, coverageHistory, auths }),
		keyList: pages.keyList,
		pageKeys: pages
			.keys()
			.map(Number)
			.sort((a, b) => a - b),
		inlineKeys: inline.map(([key]) => Number(key)),
		sizes,
		perRow: PAGES_PER_ROW,
		...(payers ? { payers } : {})
	};
	return { head: utf8.encode(JSON.stringify(head)), pages: inline.map(([, bytes]) => bytes) };
}

/** The claims state of its checkpoint form: the head decoded, the pages inline kept as bytes until used, the others left in the store. */
export function unpackState(value: CborValue): ClaimsState {
	const v = value as { head: Uint8Array; pages: Uint8Array[] };
	const { pageKeys, inlineKeys, sizes, keyList, perRow, payers, ...head } = JSON.parse(text.decode(v.head)) as Head;
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
	return { ...emptyClaimsState(), ...head, ...(payers ? unpackPayers(payers, keyList) : {}), pages };
}
