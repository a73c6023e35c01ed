/**
 * Keeps the index folds' rows (index-fold.ts) in the store in line with the blocks: rows
 * of accepted blocks go into the same store write as the blocks, a block that becomes
 * void has exactly its rows removed (and restored if it counts again), and an index whose
 * fold is new or changed version is rebuilt from the stored blocks at open.
 *
 * Invariant, across crashes: the store holds the rows of every stored block that decodes
 * and is not in the meta entry {@link META_INDEX_VOIDS}, for every fold named in
 * {@link META_INDEX_FOLDS} at its version, and nothing else. Every write below keeps it in
 * one store transaction.
 */
import { decodeBlock } from '../block.js';
import { CodedError } from '../errors.js';
import type { Fold } from '../fold.js';
import { factRows, type FactPosition, type FactRow, type IndexFold } from '../index-fold.js';
import { orderKey, type LedgerStore, type OrderKey } from '../storage/store.js';
import type { Block, BlockId } from '../types.js';
import { FOLD_PAGE } from './fold-engine.js';

/** Store meta: {fold name: version} of the indexes the store holds in full. */
export const META_INDEX_FOLDS = 'index.folds';
/** Store meta: ids of stored blocks whose rows the indexes leave out (void blocks), sorted. */
export const META_INDEX_VOIDS = 'index.voids';

/** An append's share of the indexes: its rows, and the meta entries to write with them. */
export interface StagedRows {
	readonly rows: FactRow[];
	readonly meta: Record<string, unknown>;
	readonly leftOut: readonly BlockId[];
}

/**
 * The index folds `indexes`, and those `folds` read (`Fold.reads`) that are not among them
 * (by name): a fold consulting an index the ledger does not keep would see no rows.
 */
export function withReadIndexes(indexes: readonly IndexFold[], folds: readonly Fold<unknown>[]): IndexFold[] {
	const out = [...indexes];
	for (const fold of folds)
		for (const index of [...(fold.reads ?? []).map((r) => r.index), ...(fold.keyed ? [fold.keyed.index] : [])])
			if (!out.some((f) => f.name === index.name)) out.push(index);
	return out;
}

export class IndexEngine {
	readonly #store: LedgerStore;
	readonly #folds: readonly IndexFold[];
	readonly #isVoid: (id: BlockId) => boolean;
	readonly #voids: () => Iterable<BlockId>;
	/** Blocks whose rows the stored indexes leave out (mirror of {@link META_INDEX_VOIDS}). */
	#leftOut = new Set<BlockId>();

	constructor(store: LedgerStore, folds: readonly IndexFold[], isVoid: (id: BlockId) => boolean, voids: () => Iterable<BlockId>) {
		const names = new Set(folds.map((f) => f.name));
		if (names.size !== folds.length) throw new CodedError('FOLD_NAMES_NOT_UNIQUE', 'Ledger: index fold names must be unique');
		this.#store = store;
		this.#folds = folds;
		this.#isVoid = isVoid;
		this.#voids = voids;
	}

	get names(): string[] {
		return this.#folds.map((f) => f.name);
	}

	/** A page of `key`'s rows in `fold` ({@link LedgerStore.facts}); `UNKNOWN_INDEX` for a fold not registered. */
	async read(fold: string, key: string, after: FactPosition | null, limit: number, reverse: boolean): Promise<FactRow[]> {
		this.#known(fold);
		return this.#store.facts(fold, key, after, limit, reverse);
	}

	/** Every row of each of `keys` in `fold`, in one store read ({@link LedgerStore.factsOfKeys}). */
	async readKeys(fold: string, keys: readonly string[]): Promise<FactRow[][]> {
		this.#known(fold);
		return this.#store.factsOfKeys(fold, keys);
	}

	/** A page of `fold`'s keys ({@link LedgerStore.factKeys}). */
	async keys(fold: string, after: string | null, limit: number): Promise<string[]> {
		this.#known(fold);
		return this.#store.factKeys(fold, after, limit);
	}

	#known(fold: string): void {
		if (!this.#folds.some((f) => f.name === fold))
			throw new CodedError('UNKNOWN_INDEX', `no index fold named ${fold} is registered on this ledger`);
	}

	#rowsOf(blocks: readonly Block[], folds: readonly IndexFold[] = this.#folds): FactRow[] {
		return blocks.flatMap((block) => folds.flatMap((fold) => factRows(fold, block)));
	}

	/** What an append of `accepted` writes to the indexes: rows of the blocks that count; void ones are listed as left out. */
	stage(accepted: readonly Block[]): StagedRows {
		if (this.#folds.length === 0) return { rows: [], meta: {}, leftOut: [] };
		const counting = accepted.filter((b) => !this.#isVoid(b.id));
		const leftOut = accepted.filter((b) => this.#isVoid(b.id)).map((b) => b.id);
		const meta = leftOut.length > 0 ? { [META_INDEX_VOIDS]: [...this.#leftOut, ...leftOut].sort() } : {};
		return { rows: this.#rowsOf(counting), meta, leftOut };
	}

	/** The append of `staged` is durable. */
	committed(staged: StagedRows): void {
		for (const id of staged.leftOut) this.#leftOut.add(id);
	}

	/** Brings the indexes in line with the void set: rows of blocks now void out, rows of blocks that count again back, in one write. */
	async reconcile(folds: readonly IndexFold[] = this.#folds): Promise<void> {
		if (folds.length === 0) return;
		const target = new Set(this.#voids());
		const nowVoid = [...target].filter((id) => !this.#leftOut.has(id));
		const restored = [...this.#leftOut].filter((id) => !target.has(id));
		if (nowVoid.length === 0 && restored.length === 0) return;
		const drop = this.#rowsOf(await this.#decoded(nowVoid), folds);
		const put = this.#rowsOf(await this.#decoded(restored), folds);
		const stored = (await this.#store.getMany([...target])).filter((b) => b !== undefined).map((b) => b.id);
		await this.#store.writeFacts(put, drop, { [META_INDEX_VOIDS]: stored.sort() });
		this.#leftOut = new Set(stored);
	}

	/** The stored blocks `ids`, decoded; one absent, or damaged on disk (reported by the fold engine and "Verify all"), has no rows. */
	async #decoded(ids: readonly BlockId[]): Promise<Block[]> {
		return (await this.#store.getMany(ids)).flatMap((stored) => {
			if (!stored) return [];
			try {
				return [decodeBlock(stored.bytes)];
			} catch {
				return [];
			}
		});
	}

	/**
	 * At open: drops the rows of folds no longer registered or of another version, brings
	 * the others in line with the void set, and rebuilds the dropped ones from every stored
	 * block (a new fold, a new version, a store migrated from before indexes).
	 */
	async load(onPage?: (scanned: number) => void): Promise<void> {
		const versions = (await this.#store.getMeta<Record<string, number>>(META_INDEX_FOLDS)) ?? {};
		this.#leftOut = new Set((await this.#store.getMeta<BlockId[]>(META_INDEX_VOIDS)) ?? []);
		const current = new Map(this.#folds.map((f) => [f.name, f.version]));
		const kept: Record<string, number> = {};
		for (const [name, version] of Object.entries(versions)) if (current.get(name) === version) kept[name] = version;
		const ready = this.#folds.filter((f) => f.name in kept);
		// A version that only appends rows to blocks the stored one filed keeps the stored rows (upgraded below).
		const grown = this.#folds.filter((f) => !(f.name in kept) && f.growsFrom !== undefined && versions[f.name] === f.growsFrom);
		const stale = this.#folds.filter((f) => !(f.name in kept) && !grown.includes(f));
		const held = { ...kept, ...Object.fromEntries(grown.map((f) => [f.name, f.growsFrom!])) };
		// Rows of unregistered folds, of other versions, or of a rebuild a crash cut short: none may stay.
		for (const name of new Set([...Object.keys(versions), ...stale.map((f) => f.name)]))
			if (!(name in held)) await this.#store.clearFacts(name, { [META_INDEX_FOLDS]: { ...held } });
		await this.reconcile([...ready, ...grown]);
		for (const fold of grown) await this.#grow(fold, held);
		if (stale.length === 0) return;
		// With no index holding rows, nothing is left out yet.
		if (ready.length === 0 && grown.length === 0) this.#leftOut = new Set();
		await this.#rebuild(stale, { ...kept, ...this.#versionsOf(grown) }, onPage);
	}

	#versionsOf(folds: readonly IndexFold[]): Record<string, number> {
		return Object.fromEntries(folds.map((f) => [f.name, f.version]));
	}

	/**
	 * Upgrades `fold` from the version it grows from: the rows of the blocks the stored rows
	 * file under `growsUnder` (every key when omitted) are written again, this version's
	 * (the earlier rows rewritten as they were, the new ones added), a page of blocks at a
	 * time, then the version is recorded. A crash before that leaves the earlier version
	 * recorded: the next open does the same again.
	 */
	async #grow(fold: IndexFold, held: Record<string, number>): Promise<void> {
		const ids = new Set<BlockId>();
		const add = async (keys: readonly string[]) => {
			for (const rows of await this.#store.factsOfKeys(fold.name, keys)) for (const row of rows) ids.add(row.block);
		};
		if (fold.growsUnder) await add(fold.growsUnder);
		else
			for (let after: string | null = null; ;) {
				const keys = await this.#store.factKeys(fold.name, after, FOLD_PAGE);
				await add(keys);
				if (keys.length < FOLD_PAGE) break;
				after = keys[keys.length - 1]!;
			}
		const counting = [...ids].filter((id) => !this.#leftOut.has(id));
		for (let i = 0; i < counting.length; i += FOLD_PAGE) {
			const blocks = await this.#decoded(counting.slice(i, i + FOLD_PAGE));
			await this.#store.writeFacts(this.#rowsOf(blocks, [fold]), [], {});
		}
		held[fold.name] = fold.version;
		await this.#store.writeFacts([], [], { [META_INDEX_FOLDS]: { ...held } });
	}

	async #rebuild(stale: readonly IndexFold[], kept: Record<string, number>, onPage?: (scanned: number) => void): Promise<void> {
		// Rows of the void blocks stay out; the left-out list must name them before any row is written.
		const voids = [...this.#voids()];
		const stored = (await this.#store.getMany(voids)).filter((b) => b !== undefined).map((b) => b.id);
		const leftOut = new Set([...this.#leftOut, ...stored]);
		let cursor: OrderKey | null = null;
		let first = true;
		let scanned = 0;
		// One page's write in flight while the next is read and folded (the store's commit was
		// the main thread's idle half of a rebuild); the folds' rows are pure functions of the
		// blocks, so nothing read here depends on the write.
		let writing: Promise<void> = Promise.resolve();
		let pending = 0; // blocks of the write in flight
		for (;;) {
			const page = await this.#store.ordered(cursor, FOLD_PAGE);
			const blocks = page.flatMap((s) => {
				if (leftOut.has(s.id)) return [];
				try {
					return [decodeBlock(s.bytes)];
				} catch {
					return []; // damaged on disk: reported by the fold engine and "Verify all"
				}
			});
			const rows = this.#rowsOf(blocks, stale);
			await writing;
			if (pending > 0) onPage?.((scanned += pending));
			const meta = first ? { [META_INDEX_VOIDS]: [...leftOut].sort() } : {};
			writing = this.#store.writeFacts(rows, [], meta);
			// Awaited at the next page or after the last; until then a failure is not "unhandled".
			writing.catch(() => {});
			pending = page.length;
			first = false;
			if (page.length < FOLD_PAGE) break;
			cursor = orderKey(page[page.length - 1]!);
		}
		await writing;
		onPage?.(scanned + pending);
		this.#leftOut = leftOut;
		const versions = { ...kept, ...Object.fromEntries(stale.map((f) => [f.name, f.version])) };
		await this.#store.writeFacts([], [], { [META_INDEX_FOLDS]: versions });
	}
}
