/**
 * The fold engine's side of fold pages (core/fold.ts `FoldPages`): which checkpoint each
 * paged fold's stored pages are read as of, the reads before a batch is folded, the rows
 * written beside a checkpoint and moved or dropped with checkpoints (page-rows.ts, which
 * says how pages sit in the store), and readers ({@link readPages}).
 */
import { CodedError } from '../errors.js';
import type { Block, BlockId } from '../types.js';
import type { Fold, FoldContext, PageSet } from '../fold.js';
import { compareOrder, type LedgerStore, type OrderKey } from '../storage/store.js';
import {
	dropPagesAfter,
	earlierPageFacts,
	keepPagesAfter,
	loadPages,
	movePagesForward,
	pagedFold,
	pagesAsOf,
	writePages,
	type PagedFold
} from './page-rows.js';

export { earlierPageFacts, pageLog, pageRows, packRow, unpackRow } from './page-rows.js';

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
	fold: PagedFold,
	current: () => { set: PageSet<P>; base: OrderKey | null; generation: number },
	keys: readonly string[],
	settled: () => Promise<void>
): Promise<Map<string, P>> {
	for (;;) {
		await settled();
		const before = current();
		const unread = [...new Set(keys)].filter((key) => before.set.peek(key) === null);
		const stored = unread.length > 0 ? await pagesAsOf(store, fold, unread, before.base!) : new Map<string, Uint8Array>();
		const now = current();
		if (now.generation !== before.generation) continue;
		const out = new Map<string, P>();
		for (const key of keys) {
			const page = now.set.peek(key);
			if (page !== null && page !== undefined) out.set(key, page);
			else if (page === null) {
				const bytes = stored.get(key);
				if (bytes) out.set(key, now.set.unpack(bytes, key));
			}
		}
		return out;
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
	/** Each fold as its page rows see it (null: a fold without pages). */
	readonly #rows: (PagedFold | null)[];
	readonly #bases: (OrderKey | null)[];
	#generation = 0;
	/** While folds refold: done when they are. */
	#refolding: Promise<void> | null = null;
	/** Whether a refold ran (the open's): the earlier layout's rows are gone. */
	#opened = false;
	/** Keys readers are reading, by fold (how many readers each): memory keeps their pages. */
	readonly #pinned = new Map<number, Map<string, number>>();

	constructor(store: LedgerStore, folds: readonly Fold<unknown>[]) {
		this.#store = store;
		this.#folds = folds;
		this.paged = folds.flatMap((f, i) => (f.pages ? [i] : []));
		this.#rows = folds.map((f) => (f.pages ? pagedFold(f.name, f.pages) : null));
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
			await loadPages(this.#store, this.#rows[i]!, set, keys, this.#bases[i]!);
			const more = fold.pages!.moreKeysOf;
			if (!more) continue;
			const next = new Set<string>();
			const peek = (key: string) => set.peek(key) ?? undefined;
			for (const [block, vv] of blocks)
				try {
					for (const key of more(block, contextOf(block, vv), states[i], peek)) if (!keys.has(key)) next.add(key);
				} catch {
					// As for `keysOf`: a hostile block names nothing more.
				}
			if (next.size > 0) await loadPages(this.#store, this.#rows[i]!, set, next, this.#bases[i]!);
		}
	}

	/**
	 * The checkpoints after `after` are about to go: the folds not in `rewound` keep what they
	 * read from them ({@link keepPagesAfter}). Call {@link droppedAfter} once they are gone.
	 */
	async beforeDropAfter(states: readonly unknown[], after: OrderKey, rewound: readonly number[]): Promise<void> {
		for (const i of this.paged)
			if (!rewound.includes(i)) await keepPagesAfter(this.#store, this.#rows[i]!, this.#set(i, states[i]), after, this.#bases[i]!);
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
		const changed = this.paged.map((i) => ({ i, fold: this.#rows[i]!, base: this.#bases[i]!, pages: this.#set(i, states[i]).changed() }));
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
	 * (`PAGE_MISSING`: the store damaged, or a checkpoint copied without its pages) or its
	 * row does not decode (`PAGE_ROW_BAD`), every checkpoint and page row goes and `again`
	 * refolds every fold from the first block, as for a checkpoint that does not decode:
	 * never a state with a page missing. The first (the open's) first deletes the rows an
	 * earlier layout left ({@link earlierPageFacts}; one read per name when there are none),
	 * of the folds that had it (`FoldPages.earlierLayout`).
	 */
	async refolding(refold: () => Promise<void>, again: () => Promise<void>): Promise<void> {
		const run = async () => {
			if (!this.#opened)
				for (const i of this.paged.filter((i) => this.#folds[i]!.pages!.earlierLayout))
					for (const name of earlierPageFacts(this.#folds[i]!.name))
						if ((await this.#store.factKeys(name, null, 1)).length > 0) await this.#store.clearFacts(name);
			this.#opened = true;
			try {
				await refold();
			} catch (error) {
				if (!(error instanceof CodedError && (error.code === 'PAGE_MISSING' || error.code === 'PAGE_ROW_BAD'))) throw error;
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
		return readPages(this.#store, this.#rows[i]!, current, keys, settled).finally(() => {
			for (const key of keys) {
				const n = pinned.get(key)! - 1;
				if (n === 0) pinned.delete(key);
				else pinned.set(key, n);
			}
		});
	}
}
