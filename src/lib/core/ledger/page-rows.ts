/**
 * How a fold's pages sit in the store (core/fold.ts `FoldPages`; the engine's side is
 * fold-pages.ts). Pages are grouped into rows (`FoldPages.rowOf`: a claims row holds 16
 * patients' pages): a store answers a read of one row of 100 KB about as fast as one of
 * 6 KB, so reading every page costs a sixteenth of the reads (docs/benchmarks.md). A
 * checkpoint at position P writes, in one store transaction, every row holding a page
 * changed since the checkpoint before it, whole (the row as of that checkpoint with the
 * changes laid over it), under (`<fold>:page-rows`, row, P), and a log row under
 * (`<fold>:row-log`, "log", P) naming those rows. So:
 *
 * - the pages of a row as of a checkpoint C are in the newest row at or before C (a page not
 *   in it: none). Rows sit only at checkpoints (a checkpoint whose write failed leaves rows
 *   after the newest checkpoint, which no read as of a checkpoint sees);
 * - dropping the checkpoints after X (a late block) drops their rows, found through the log;
 *   a fold that is not rewound with them first reads the pages it would have read from them
 *   and marks every page of those rows changed, so its next checkpoint writes them again
 *   ({@link keepPagesAfter});
 * - dropping an older checkpoint D (checkpoint-ladder.ts) moves its rows to the next kept
 *   checkpoint N when N has none of that row, so every checkpoint after D still reads what
 *   it read ({@link movePagesForward}).
 */
import { CodedError } from '../errors.js';
import type { CborValue } from '../cbor-value.js';
import type { FoldPages, PageSet } from '../fold.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import { compareOrder, type LedgerStore, type OrderKey } from '../storage/store.js';

/** The fact "fold" holding `fold`'s page rows, and the one holding its log. */
export const pageRows = (fold: string) => `${fold}:page-rows`;
export const pageLog = (fold: string) => `${fold}:row-log`;
/**
 * The facts of the layout before pages were grouped into rows (commits `922cacd` to
 * `6274f30`: one page per row under `<fold>:pages`, logged under `<fold>:page-log`). No
 * checkpoint of that layout decodes any more, so no read uses them: the open deletes them.
 */
export const earlierPageFacts = (fold: string) => [`${fold}:pages`, `${fold}:page-log`];
const LOG_KEY = 'log';
/** Log rows read per store call. */
const LOG_PAGE = 100;

/** A fold that keeps pages, as the rows see it: its name and which row holds a page. */
export interface PagedFold {
	readonly name: string;
	readonly rowOf: (key: string) => string;
}

export const pagedFold = (name: string, pages: Pick<FoldPages<unknown>, 'rowOf'>): PagedFold => ({
	name,
	rowOf: pages.rowOf ?? ((key) => key)
});

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A row's bytes: its page count, then each page's key and bytes (u32 lengths, keys in order). */
export function packRow(pages: ReadonlyMap<string, Uint8Array>): Uint8Array {
	const entries = [...pages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, bytes]) => [utf8.encode(key), bytes] as const);
	const out = new Uint8Array(4 + entries.reduce((n, [key, bytes]) => n + 8 + key.length + bytes.length, 0));
	const view = new DataView(out.buffer);
	view.setUint32(0, entries.length);
	let at = 4;
	for (const part of entries.flat()) {
		view.setUint32(at, part.length);
		out.set(part, at + 4);
		at += 4 + part.length;
	}
	return out;
}

/** The pages of a row's bytes (views of them, not copies); throws `PAGE_ROW_BAD` on bytes that are not a row. */
export function unpackRow(bytes: Uint8Array): Map<string, Uint8Array> {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const bad = () => new CodedError('PAGE_ROW_BAD', `a page row of ${bytes.length} bytes does not decode`);
	const part = (at: number): Uint8Array => {
		if (at + 4 > bytes.length) throw bad();
		const length = view.getUint32(at);
		if (at + 4 + length > bytes.length) throw bad();
		return bytes.subarray(at + 4, at + 4 + length);
	};
	if (bytes.length < 4) throw bad();
	const out = new Map<string, Uint8Array>();
	let at = 4;
	for (let i = view.getUint32(0); i > 0; i--) {
		const key = part(at);
		const page = part(at + 4 + key.length);
		out.set(text.decode(key), page);
		at += 8 + key.length + page.length;
	}
	if (at !== bytes.length) throw bad();
	return out;
}

const at = (position: OrderKey): FactPosition => [position[0], position[1], 0];
const samePlace = (row: FactRow, position: OrderKey) => row.clock === position[0] && row.block === position[1];
const atOrBefore = (row: FactRow, position: OrderKey) => compareOrder([row.clock, row.block], position) <= 0;
const where = (position: OrderKey) => `${position[0]}/${position[1].slice(0, 12)}`;

/** Each of `rows` as of `position` (the newest at or before it; absent: no row yet), in one store read. */
async function rowsAsOf(
	store: LedgerStore,
	fold: string,
	rows: readonly string[],
	position: OrderKey
): Promise<Map<string, Map<string, Uint8Array>>> {
	const found = await store.lastFactsOfKeys(pageRows(fold), rows, [position[0], position[1], 1]);
	const out = new Map<string, Map<string, Uint8Array>>();
	rows.forEach((row, i) => {
		const value = found[i]?.value;
		if (value) out.set(row, unpackRow(value as Uint8Array));
	});
	return out;
}

/** The page of `key` in `rows` (read as of checkpoint `base`); one the checkpoint names that its row lacks throws `PAGE_MISSING`. */
function pageIn(
	fold: PagedFold,
	rows: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>,
	key: string,
	base: OrderKey | null
): Uint8Array {
	const page = rows.get(fold.rowOf(key))?.get(key);
	if (!page)
		throw new CodedError(
			'PAGE_MISSING',
			`${fold.name}: the page ${key} is stored as of checkpoint ${base ? where(base) : 'none'} but no row holds it`
		);
	return page;
}

/** The stored page of each of `keys` as of checkpoint `base` ({@link pageIn}). */
export async function pagesAsOf(
	store: LedgerStore,
	fold: PagedFold,
	keys: readonly string[],
	base: OrderKey | null
): Promise<Map<string, Uint8Array>> {
	if (keys.length === 0) return new Map();
	const rows = base === null ? new Map() : await rowsAsOf(store, fold.name, [...new Set(keys.map(fold.rowOf))], base);
	return new Map(keys.map((key) => [key, pageIn(fold, rows, key, base)]));
}

/** Reads into `set` the stored pages of `keys` it does not hold, as of checkpoint `base`. */
export async function loadPages(store: LedgerStore, fold: PagedFold, set: PageSet<unknown>, keys: Iterable<string>, base: OrderKey | null) {
	for (const [key, bytes] of await pagesAsOf(store, fold, set.unread(keys), base)) set.put(key, bytes);
}

/** The log rows of `fold` strictly after `after`, up to and including `upTo` (every one after when null). */
async function logsBetween(store: LedgerStore, fold: string, after: OrderKey, upTo: OrderKey | null): Promise<FactRow[]> {
	const out: FactRow[] = [];
	let cursor: FactPosition = at(after);
	for (;;) {
		const page = await store.facts(pageLog(fold), LOG_KEY, cursor, LOG_PAGE);
		for (const row of page) {
			if (upTo && !atOrBefore(row, upTo)) return out;
			out.push(row);
		}
		if (page.length < LOG_PAGE) return out;
		const last = page[page.length - 1]!;
		cursor = [last.clock, last.block, last.n];
	}
}

/** The log row at exactly `position`, if any. */
async function logAt(store: LedgerStore, fold: string, position: OrderKey): Promise<FactRow | undefined> {
	const [row] = await store.facts(pageLog(fold), LOG_KEY, [position[0], position[1], -1], 1);
	return row && samePlace(row, position) ? row : undefined;
}

const rowsOfLog = (row: FactRow | undefined): string[] => (row ? (row.value as string[]) : []);

const fact = (fold: string, key: string, position: OrderKey, value: CborValue): FactRow => ({
	fold,
	key,
	clock: position[0],
	block: position[1],
	n: 0,
	value
});
const pageRow = (fold: string, row: string, position: OrderKey, bytes: Uint8Array | null) => fact(pageRows(fold), row, position, bytes);
const logRow = (fold: string, position: OrderKey, rows: readonly string[]) => fact(pageLog(fold), LOG_KEY, position, [...rows]);

/**
 * Writes, for each fold, every row holding one of its `changed` pages (null: removed) at
 * checkpoint `position`: the row as of the fold's `base` checkpoint with the changes laid
 * over it. With the logs, in one transaction.
 */
export async function writePages(
	store: LedgerStore,
	changed: readonly { fold: PagedFold; base: OrderKey | null; pages: [string, Uint8Array | null][] }[],
	position: OrderKey
): Promise<void> {
	const put: FactRow[] = [];
	for (const { fold, base, pages } of changed) {
		if (pages.length === 0) continue;
		const byRow = new Map<string, [string, Uint8Array | null][]>();
		for (const page of pages) {
			const row = fold.rowOf(page[0]);
			const changes = byRow.get(row);
			if (changes) changes.push(page);
			else byRow.set(row, [page]);
		}
		const before = base ? await rowsAsOf(store, fold.name, [...byRow.keys()], base) : new Map<string, Map<string, Uint8Array>>();
		for (const [row, changes] of byRow) {
			const content = before.get(row) ?? new Map<string, Uint8Array>();
			for (const [key, bytes] of changes) {
				if (bytes) content.set(key, bytes);
				else content.delete(key);
			}
			put.push(pageRow(fold.name, row, position, packRow(content)));
		}
		put.push(logRow(fold.name, position, [...byRow.keys()]));
	}
	if (put.length > 0) await store.writeFacts(put, []);
}

/**
 * Before the checkpoints after `after` go, for a fold whose state is not rewound with them:
 * every page of the rows written after `after` (as of `base`, or as of `after`, where the
 * fold will read them next) is read into memory and marked changed (one with no page as of
 * `base` is written as removed), so no page it holds rests on a row about to be dropped.
 */
export async function keepPagesAfter(
	store: LedgerStore,
	fold: PagedFold,
	set: PageSet<unknown>,
	after: OrderKey,
	base: OrderKey | null
): Promise<void> {
	if (base === null || compareOrder(base, after) <= 0) return;
	const rows = [...new Set((await logsBetween(store, fold.name, after, base)).flatMap(rowsOfLog))];
	if (rows.length === 0) return;
	const [now, then] = await Promise.all([rowsAsOf(store, fold.name, rows, base), rowsAsOf(store, fold.name, rows, after)]);
	const keys = new Set([...now.values(), ...then.values()].flatMap((pages) => [...pages.keys()]));
	for (const key of set.unread(keys)) set.put(key, pageIn(fold, now, key, base));
	set.markChanged(keys);
}

/** Drops `fold`'s rows at every position strictly after `after`, with their logs. */
export async function dropPagesAfter(store: LedgerStore, fold: string, after: OrderKey): Promise<void> {
	const logs = await logsBetween(store, fold, after, null);
	if (logs.length === 0) return;
	const drop: FactRow[] = [];
	for (const log of logs) {
		for (const row of rowsOfLog(log)) drop.push(pageRow(fold, row, [log.clock, log.block], null));
		drop.push(log);
	}
	await store.writeFacts([], drop);
}

/**
 * Before the checkpoints at `dropped` go (older ones, not the newest: checkpoint-ladder.ts),
 * with `kept` the checkpoints that stay: each row of a dropped checkpoint D moves to the next
 * kept checkpoint after D when that one has no row of its key, else goes. Newest first, so a
 * row moved from a later dropped checkpoint counts as the kept one's own.
 */
export async function movePagesForward(
	store: LedgerStore,
	fold: string,
	dropped: readonly OrderKey[],
	kept: readonly OrderKey[]
): Promise<void> {
	const order = [...dropped].sort((a, b) => compareOrder(b, a));
	for (const d of order) {
		const log = await logAt(store, fold, d);
		if (!log) continue;
		const next = kept.find((k) => compareOrder(k, d) > 0);
		if (!next) throw new CodedError('PAGE_MISSING', `${fold}: the checkpoint ${where(d)} is dropped with none kept after it`);
		const nextLog = await logAt(store, fold, next);
		const there = new Set(rowsOfLog(nextLog));
		const moving = rowsOfLog(log).filter((row) => !there.has(row));
		const rows = moving.length > 0 ? await store.lastFactsOfKeys(pageRows(fold), moving, [d[0], d[1], 1]) : [];
		const put: FactRow[] = moving.map((key, i) => {
			const row = rows[i];
			if (!row || !samePlace(row, d))
				throw new CodedError('PAGE_MISSING', `${fold}: the log at ${where(d)} names the row ${key} but there is none`);
			return pageRow(fold, key, next, row.value as Uint8Array);
		});
		if (moving.length > 0) put.push(logRow(fold, next, [...there, ...moving]));
		const drop = [...rowsOfLog(log).map((key) => pageRow(fold, key, d, null)), log];
		await store.writeFacts(put, drop);
	}
}
