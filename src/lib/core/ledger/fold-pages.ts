/**
 * Fold pages in the store (core/fold.ts `FoldPages`): a fold's pages are rows of the fact
 * table, not part of its checkpoints. A checkpoint at position P writes, in one store
 * transaction, a row for every page changed since the checkpoint before it, under
 * (`<fold>:pages`, page key, P), and a log row under (`<fold>:page-log`, "log", P) listing
 * those keys. So:
 *
 * - the page of a key as of a checkpoint C is the newest row of the key at or before C (a
 *   row holding null: no page). Rows sit only at checkpoints (a checkpoint whose write
 *   failed leaves rows after the newest checkpoint, which no read as of a checkpoint sees);
 * - dropping the checkpoints after X (a late block) drops their rows, found through the log;
 *   a fold that is not rewound with them first reads the pages it would have read from them
 *   and marks them changed, so its next checkpoint writes them again ({@link keepPagesAfter});
 * - dropping an older checkpoint D (checkpoint-ladder.ts) moves its rows to the next kept
 *   checkpoint N when N has none of that key, so every checkpoint after D still reads what it
 *   read ({@link movePagesForward}).
 */
import { CodedError } from '../errors.js';
import type { Fold, FoldContext, PageSet } from '../fold.js';
import type { Block, BlockId } from '../types.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import { compareOrder, type LedgerStore, type OrderKey } from '../storage/store.js';

/** The fact "fold" holding `fold`'s pages, and the one holding its log. */
export const pageRows = (fold: string) => `${fold}:pages`;
export const pageLog = (fold: string) => `${fold}:page-log`;
const LOG_KEY = 'log';
/** Log rows read per store call. */
const LOG_PAGE = 100;

const at = (position: OrderKey): FactPosition => [position[0], position[1], 0];
const samePlace = (row: FactRow, position: OrderKey) => row.clock === position[0] && row.block === position[1];
const atOrBefore = (row: FactRow, position: OrderKey) => compareOrder([row.clock, row.block], position) <= 0;

/** The page of each of `keys` as of checkpoint `base` (bytes, or null: removed): the newest row of each at or before it, in one store read. */
async function pagesAsOf(
	store: LedgerStore,
	fold: string,
	keys: readonly string[],
	base: OrderKey
): Promise<Map<string, Uint8Array | null>> {
	const rows = await store.lastFactsOfKeys(pageRows(fold), keys, [base[0], base[1], 1]);
	const out = new Map<string, Uint8Array | null>();
	keys.forEach((key, i) => {
		const row = rows[i];
		if (!row)
			throw new CodedError(
				'PAGE_MISSING',
				`the page ${key} is stored as of checkpoint ${base[0]}/${base[1].slice(0, 12)} but no row holds it`
			);
		out.set(key, row.value === null ? null : (row.value as Uint8Array));
	});
	return out;
}

/** Reads into `set` the stored pages of `keys` it does not hold, as of checkpoint `base`. */
export async function loadPages(
	store: LedgerStore,
	fold: string,
	set: PageSet<unknown>,
	keys: Iterable<string>,
	base: OrderKey | null
): Promise<void> {
	const unread = set.unread(keys);
	if (unread.length === 0) return;
	if (base === null) throw new CodedError('PAGE_MISSING', `${fold}: pages are stored but no checkpoint names them`);
	const found = await pagesAsOf(store, fold, unread, base);
	for (const [key, bytes] of found) set.put(key, bytes);
}

/**
 * What a reader sees of `keys`' pages (in memory, or stored as of the base checkpoint), keys
 * without a page left out. The caller pins the keys while this runs (memory keeps their
 * pages), so a page the fold reads, changes and stores meanwhile is still in memory when
 * the store answers. `current` gives the fold's page set, its base and a generation that
 * changes when the fold starts again from a checkpoint: an answer read across that is thrown
 * away and read again, as when the ladder moves rows meanwhile. Nothing else changes an
 * answer: a checkpoint stored meanwhile holds pages still in memory; rows dropped after a
 * checkpoint were read into memory first ({@link keepPagesAfter}). `settled` waits while the fold refolds (its state is then
 * neither the old one nor the new).
 */
export async function readPages<P>(
	store: LedgerStore,
	fold: string,
	current: () => { set: PageSet<P>; base: OrderKey | null; generation: number },
	keys: readonly string[],
	settled: () => Promise<void>
): Promise<Map<string, P>> {
	for (;;) {
		await settled();
		const before = current();
		const unread = [...new Set(keys)].filter((key) => before.set.peek(key) === null);
		const stored = unread.length > 0 ? await pagesAsOf(store, fold, unread, before.base!) : new Map<string, Uint8Array | null>();
		const now = current();
		if (now.generation !== before.generation) continue;
		const out = new Map<string, P>();
		for (const key of keys) {
			const page = now.set.peek(key);
			if (page !== null && page !== undefined) out.set(key, page);
			else if (page === null) {
				const bytes = stored.get(key);
				if (bytes) out.set(key, now.set.unpack(bytes));
			}
		}
		return out;
	}
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

const keysOfLog = (row: FactRow | undefined): string[] => (row ? (row.value as string[]) : []);

const pageRow = (fold: string, key: string, position: OrderKey, value: Uint8Array | null): FactRow => ({
	fold: pageRows(fold),
	key,
	clock: position[0],
	block: position[1],
	n: 0,
	value
});

const logRow = (fold: string, position: OrderKey, keys: readonly string[]): FactRow => ({
	fold: pageLog(fold),
	key: LOG_KEY,
	clock: position[0],
	block: position[1],
	n: 0,
	value: [...keys]
});

/** Writes each fold's `changed` pages as rows at checkpoint `position`, with their logs, in one transaction. */
export async function writePages(
	store: LedgerStore,
	changed: readonly { fold: string; pages: [string, Uint8Array | null][] }[],
	position: OrderKey
): Promise<void> {
	const put: FactRow[] = [];
	for (const { fold, pages } of changed) {
		if (pages.length === 0) continue;
		for (const [key, bytes] of pages) put.push(pageRow(fold, key, position, bytes));
		put.push(
			logRow(
				fold,
				position,
				pages.map(([key]) => key)
			)
		);
	}
	if (put.length > 0) await store.writeFacts(put, []);
}

/**
 * Before the checkpoints after `after` go, for a fold whose state is not rewound with them:
 * the pages it reads as of `base` from rows after `after` are read into memory and marked
 * changed (and a page removed there is written as removed again), so no page it holds rests
 * on a row that is about to be dropped.
 */
export async function keepPagesAfter(
	store: LedgerStore,
	fold: string,
	set: PageSet<unknown>,
	after: OrderKey,
	base: OrderKey | null
): Promise<void> {
	if (base === null || compareOrder(base, after) <= 0) return;
	const keys = new Set((await logsBetween(store, fold, after, base)).flatMap(keysOfLog));
	if (keys.size === 0) return;
	await loadPages(store, fold, set, keys, base);
	set.markChanged(keys);
}

/** Drops `fold`'s rows at every position strictly after `after`, with their logs. */
export async function dropPagesAfter(store: LedgerStore, fold: string, after: OrderKey): Promise<void> {
	const logs = await logsBetween(store, fold, after, null);
	if (logs.length === 0) return;
	const drop: FactRow[] = [];
	for (const log of logs) {
		for (const key of keysOfLog(log)) drop.push(pageRow(fold, key, [log.clock, log.block], null));
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
		if (!next)
			throw new CodedError('PAGE_MISSING', `${fold}: the checkpoint ${d[0]}/${d[1].slice(0, 12)} is dropped with none kept after it`);
		const nextLog = await logAt(store, fold, next);
		const there = new Set(keysOfLog(nextLog));
		const moving = keysOfLog(log).filter((key) => !there.has(key));
		const rows = moving.length > 0 ? await store.factsOfKeys(pageRows(fold), moving) : [];
		const put: FactRow[] = moving.map((key, i) => {
			const row = rows[i]!.find((r) => samePlace(r, d));
			if (!row) throw new CodedError('PAGE_MISSING', `${fold}: the log at ${d[0]}/${d[1].slice(0, 12)} names ${key} but no row holds it`);
			return pageRow(fold, key, next, row.value as Uint8Array | null);
		});
		if (moving.length > 0) put.push(logRow(fold, next, [...there, ...moving]));
		const drop = [...keysOfLog(log).map((key) => pageRow(fold, key, d, null)), log];
		await store.writeFacts(put, drop);
	}
}

/**
 * The fold engine's side of paged folds: for each fold that keeps pages, the checkpoint its
 * stored pages are read as of (its base), and a generation for readers ({@link readPages}).
 */
export class EnginePages {
	readonly #store: LedgerStore;
	readonly #folds: readonly Fold<unknown>[];
	/** Indexes of the folds that keep pages. */
	readonly paged: readonly number[];
	readonly #bases: (OrderKey | null)[];
	#generation = 0;
	/** While folds refold: done when they are. */
	#refolding: Promise<void> | null = null;
	/** Keys readers are reading, by fold (how many readers each): memory keeps their pages. */
	readonly #pinned = new Map<number, Map<string, number>>();

	constructor(store: LedgerStore, folds: readonly Fold<unknown>[]) {
		this.#store = store;
		this.#folds = folds;
		this.paged = folds.flatMap((f, i) => (f.pages ? [i] : []));
		this.#bases = folds.map(() => null);
	}

	#set(i: number, state: unknown): PageSet<unknown> {
		return this.#folds[i]!.pages!.of(state);
	}

	/** Folds at `subset` start again from the checkpoint at `base` (null: from nothing). */
	restarted(subset: readonly number[], base: OrderKey | null): void {
		for (const i of subset) this.#bases[i] = base;
		this.#generation++;
	}

	/** Reads the pages the blocks name (`FoldPages.keysOf`) for the folds at `subset` (all when omitted), one store read per fold. */
	async load(
		states: readonly unknown[],
		blocks: readonly (readonly [Block, readonly number[]])[],
		contextOf: (block: Block, vv: readonly number[]) => FoldContext,
		subset?: readonly number[]
	): Promise<void> {
		for (const i of this.paged) {
			if (subset && !subset.includes(i)) continue;
			const fold = this.#folds[i]!;
			const keys = new Set<string>();
			for (const [block, vv] of blocks)
				try {
					for (const key of fold.pages!.keysOf(block, contextOf(block, vv), states[i])) keys.add(key);
				} catch {
					// A hostile block: it names no page (applying it touches none, or throws `PAGE_NOT_READ` as it would anywhere).
				}
			const set = this.#set(i, states[i]);
			set.retain(new Set([...keys, ...(this.#pinned.get(i)?.keys() ?? [])]));
			await loadPages(this.#store, fold.name, set, keys, this.#bases[i]!);
		}
	}

	/**
	 * The checkpoints after `after` are about to go: the folds not in `rewound` keep what they
	 * read from them ({@link keepPagesAfter}). Call {@link droppedAfter} once they are gone.
	 */
	async beforeDropAfter(states: readonly unknown[], after: OrderKey, rewound: readonly number[]): Promise<void> {
		for (const i of this.paged)
			if (!rewound.includes(i)) await keepPagesAfter(this.#store, this.#folds[i]!.name, this.#set(i, states[i]), after, this.#bases[i]!);
	}

	/**
	 * The checkpoints after `after` are gone: so go their pages; folds based on one of them
	 * are based on the newest kept. (A reader's answer stays right: the pages read from those
	 * rows are in memory now, or the fold starts again, {@link restarted}.)
	 */
	async droppedAfter(after: OrderKey): Promise<void> {
		if (this.paged.length === 0) return;
		for (const i of this.paged) await dropPagesAfter(this.#store, this.#folds[i]!.name, after);
		const kept = await this.#store.checkpointPositions();
		const newest = kept.length > 0 ? kept[kept.length - 1]! : null;
		for (const i of this.paged) {
			const base = this.#bases[i]!;
			if (base && compareOrder(base, after) > 0) this.#bases[i] = newest;
		}
	}

	/**
	 * Writes the pages changed since the last checkpoint as rows at `position`, then `put`s
	 * the checkpoint itself (encoding the state: the pages are then unchanged, so it holds
	 * none). Once it is stored, the pages are read as of it; if it could not be, they count as
	 * changed again, for the next checkpoint.
	 */
	async checkpoint<T>(states: readonly unknown[], position: OrderKey, put: () => Promise<T>): Promise<T> {
		const changed = this.paged.map((i) => ({ i, fold: this.#folds[i]!.name, pages: this.#set(i, states[i]).changed() }));
		await writePages(this.#store, changed, position);
		for (const { i, pages } of changed) this.#set(i, states[i]).stored(pages.map(([key]) => key));
		let out: T;
		try {
			out = await put();
		} catch (error) {
			for (const { i, pages } of changed) this.#set(i, states[i]).markChanged(pages.map(([key]) => key));
			throw error;
		}
		for (const { i } of changed) this.#bases[i] = position;
		return out;
	}

	/** Older checkpoints at `dropped` are about to go, `kept` stay: their rows move forward ({@link movePagesForward}). */
	async beforeDrop(dropped: readonly OrderKey[], kept: readonly OrderKey[]): Promise<void> {
		if (this.paged.length === 0 || dropped.length === 0) return;
		// A reader reads rows as of a base: one moved past it meanwhile (the base itself dropped, a tie of clocks) would be missed.
		this.#generation++;
		for (const i of this.paged) await movePagesForward(this.#store, this.#folds[i]!.name, dropped, kept);
	}

	/**
	 * Runs `refold`, readers waiting meanwhile. When a page a checkpoint names has no row
	 * (`PAGE_MISSING`: the store damaged, or a checkpoint copied without its pages), every
	 * checkpoint and page row goes and `again` refolds every fold from the first block, as for
	 * a checkpoint that does not decode: never a state with a page missing.
	 */
	async refolding(refold: () => Promise<void>, again: () => Promise<void>): Promise<void> {
		const run = async () => {
			try {
				await refold();
			} catch (error) {
				if (!(error instanceof CodedError && error.code === 'PAGE_MISSING')) throw error;
				const start: OrderKey = [-1, '' as BlockId];
				await this.#store.dropCheckpointsAfter(start);
				for (const i of this.paged) await dropPagesAfter(this.#store, this.#folds[i]!.name, start);
				this.#generation++;
				await again();
			}
		};
		const running = run();
		this.#refolding = running;
		try {
			await running;
		} finally {
			this.#refolding = null;
		}
	}

	/** What a reader sees of `keys`' pages in fold `name` ({@link readPages}), the folds' states being `states` (read as they change). */
	read<P>(name: string, states: readonly unknown[], keys: readonly string[]): Promise<Map<string, P>> {
		const i = this.#folds.findIndex((f) => f.name === name);
		if (i < 0 || !this.#folds[i]!.pages) throw new CodedError('PAGE_NO_FOLD', `no fold ${name} keeps pages`);
		const pinned = this.#pinned.get(i) ?? new Map<string, number>();
		this.#pinned.set(i, pinned);
		for (const key of keys) pinned.set(key, (pinned.get(key) ?? 0) + 1);
		const settled = async () => {
			while (this.#refolding) await this.#refolding.catch(() => undefined);
		};
		const current = () => ({ set: this.#set(i, states[i]) as PageSet<P>, base: this.#bases[i]!, generation: this.#generation });
		return readPages(this.#store, name, current, keys, settled).finally(() => {
			for (const key of keys) {
				const n = pinned.get(key)! - 1;
				if (n === 0) pinned.delete(key);
				else pinned.set(key, n);
			}
		});
	}
}
