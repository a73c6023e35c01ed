/**
 * State is a deterministic fold of blocks in total order (clock, id). A fold may mutate
 * its state in place: checkpoints hold an encoded copy, never a reference.
 */
import type { CborValue } from './codec.js';
import { isFactKey, type FactRow, type IndexFold } from './index-fold.js';
import type { Block, BlockId } from './types.js';

/**
 * What a block has seen: whether the block at (`author`, `seq`) is in its causal past (its
 * `prev` and `deps` and theirs) or is the block itself. The ledger answers from the block's
 * stored version vector, so a fold need not keep a map of every block's parents.
 */
export interface Causal {
	seen(author: string, seq: number): boolean;
}

/**
 * What a fold may consult while applying a block, besides its state: the block's causal
 * past, and the rows of index folds it named in `reads` (state kept in the store by key,
 * not in memory: issue 19).
 */
export interface FoldContext extends Causal {
	/**
	 * The rows of index `index` under `key` from this block and the blocks before it in the
	 * total order, in order: never a block after it, whatever order blocks arrived in. The
	 * block's own rows are included; a fold tells them by `row.block`. Only keys the folds'
	 * `reads` gave for this very block are answered (any other key has no rows), so what a
	 * fold sees never depends on which blocks came in the same batch.
	 */
	facts(index: string, key: string): readonly FactRow[];
}

/** Index rows a fold reads: the index fold, and the keys of it a block needs. */
export interface FoldReads {
	readonly index: IndexFold;
	keys(block: Block): readonly string[];
}

/**
 * The keys `reads` give for `block`, by index name: a `keys` that throws (a hostile block),
 * or a key no store can keep, gives none. The ledger reads these and only these.
 */
export function declaredKeys(reads: readonly FoldReads[], block: Block): Map<string, Set<string>> {
	const out = new Map<string, Set<string>>();
	for (const read of reads) {
		let keys: readonly string[];
		try {
			keys = read.keys(block);
		} catch {
			continue;
		}
		const set = out.get(read.index.name) ?? new Set<string>();
		for (const key of keys) if (isFactKey(key)) set.add(key);
		out.set(read.index.name, set);
	}
	return out;
}

/**
 * A fold whose state is a part per key (a patient) beside a part shared by every key
 * (issue 19, item 3). A block that lands before blocks already folded re-applies only the
 * keys the batch touches, each from its first block, instead of the whole fold rewinding
 * to a checkpoint and refolding everything after it. For that to give the state a fold in
 * order gives, a key's part must be a function of the blocks the index files under its
 * row keys, taken in ledger order, of their contexts, and of the shared part as it was at
 * each block (the fold reads the shared part as of the block's place, never ahead of it).
 */
export interface FoldKeys<S> {
	/** Index fold filing every block that may change a key's part under the key's row keys (a function of the block alone, like every index fold). */
	readonly index: IndexFold;
	/**
	 * The keys whose parts `block` changes, or null when it changes the shared part (or
	 * another key's part, as a grant reusing another patient's grant id would, which
	 * `state`, the fold's current state, tells): a batch holding such a block late rewinds
	 * the fold to a checkpoint as before.
	 */
	keysOf(block: Block, context: FoldContext, state: S): readonly string[] | null;
	/** The index's row keys that file `key`'s blocks. */
	rowKeys(key: string): readonly string[];
	/** Further row keys filing `key`'s blocks, learnt from one of them (the appeals of a claim it submits). */
	moreRowKeys?(block: Block, key: string): readonly string[];
	/**
	 * Row keys filing the blocks that read what `block` adds to the indexes in `reads` (a
	 * late encounter record: the claims naming it). Their keys are re-applied too, as the
	 * rows they read have changed; one of them that changes the shared part rewinds the fold.
	 */
	dependents?(block: Block): readonly string[];
	/**
	 * A piece of the shared part the fold can rebuild by itself from the blocks that change
	 * it (the payers' contracts, coverages and authorizations), so that a late block changing it re-applies
	 * only the keys that read what changed instead of rewinding the fold. Such a block's
	 * `keysOf` answers the keys of its other transactions.
	 */
	readonly shared?: SharedPiece<S>;
	/** Removes `key`'s part from the state (its blocks are then applied again, in order). */
	clear(state: S, key: string): void;
	/** Applies what `block` changes in `key`'s part, and nothing else. */
	applyKey(state: S, block: Block, key: string, context: FoldContext): void;
}

/** A piece of a keyed fold's shared part, rebuilt from its blocks when one of them lands late ({@link FoldKeys.shared}). */
export interface SharedPiece<S> {
	/** The row keys of the fold's index that file every block changing the piece. */
	readonly rows: readonly string[];
	/** Whether `block` changes the piece. */
	touches(block: Block): boolean;
	/**
	 * The piece rebuilt from `blocks` (every block filed under `rows`, void ones left out, in
	 * ledger order, with their contexts), not yet put in `state`: `rows`, the index's row keys
	 * filing the blocks that read what differs from the piece in `state` (their keys are
	 * re-applied after `commit` puts the new piece in), or null when what differs cannot be
	 * named that way (the fold then rewinds, `state` untouched). `late`: the blocks of the
	 * batch, which the piece in `state` lacks (it is the piece of the other blocks: a piece
	 * kept in pages is compared without reading every page).
	 */
	rebuild(
		state: S,
		blocks: readonly { block: Block; context: FoldContext }[],
		late: ReadonlySet<BlockId>
	): { rows: readonly string[]; commit(): void } | null;
}

/**
 * Part of a fold's state kept in the store as pages by key (a patient's page), grouped into
 * rows, not in its checkpoints (issue 19, item 3; core/ledger/fold-pages.ts). The engine reads the pages
 * a batch of blocks names before applying it, writes the pages changed since the last
 * checkpoint as rows beside each new checkpoint, and holds no other: memory keeps the pages
 * changed since the last checkpoint and those of the batch being folded, whatever the
 * ledger's size.
 */
export interface FoldPages<S> {
	/**
	 * The keys of the pages `block` reads or changes (the fold must touch no other page while
	 * applying it: a page neither read nor new throws `PAGE_NOT_READ`). A function of the
	 * block, its context and what the state's shared part says; a `keysOf` that throws gives none.
	 */
	keysOf(block: Block, context: FoldContext, state: S): Iterable<string>;
	/**
	 * Further keys `block` reads, learnt from the pages {@link keysOf} named, once those are
	 * read (`peek`: what a reader sees of a page): an appeal reads the coverage and
	 * authorizations its claim names, which the claim's page says.
	 */
	moreKeysOf?(block: Block, context: FoldContext, state: S, peek: (key: string) => unknown): Iterable<string>;
	/** The page set of `state`. */
	of(state: S): PageSet<unknown>;
	/**
	 * The row of the store that holds the page of `key` (one row per key when omitted). Pages
	 * sharing a row are read in one store read and written together: a checkpoint writes
	 * every row holding a page changed since the one before, whole (core/ledger/page-rows.ts).
	 */
	rowOf?(key: string): string;
	/**
	 * True for a fold whose pages were once stored one per row under `<name>:pages`, logged
	 * under `<name>:page-log` (commits `922cacd` to `6274f30`; core/ledger/page-rows.ts
	 * `earlierPageFacts`): the open deletes those rows. Other folds' opens read nothing for them.
	 */
	readonly earlierLayout?: boolean;
}

/**
 * A fold state's pages, by key (any string a store can keep as a fact key): those in memory,
 * and those stored as rows that are not. `P` is what a reader gets for a page.
 */
export interface PageSet<P> {
	/** Of `keys`, those with a stored page that is not in memory. */
	unread(keys: Iterable<string>): string[];
	/** A stored page read from the store (null: the page was removed), now in memory and unchanged. */
	put(key: string, bytes: Uint8Array | null): void;
	/** The page of `key` as a reader sees it when in memory; `undefined` when there is none, null when it is stored and not read. */
	peek(key: string): P | undefined | null;
	/** The stored page of `key`'s bytes as a reader sees them (not kept). */
	unpack(bytes: Uint8Array, key: string): P;
	/** Every key with a page, in memory or stored. */
	keys(): string[];
	/** Marks `keys` changed (their stored rows are about to go, so the next checkpoint writes them again; one without a page is written as removed). */
	markChanged(keys: Iterable<string>): void;
	/** The pages changed since the last {@link stored}, packed (null: removed); nothing in the set changes. */
	changed(): [string, Uint8Array | null][];
	/** `keys` (as {@link changed} gave them) are stored: unchanged from now on, kept in memory until {@link retain} lets them go. */
	stored(keys: readonly string[]): void;
	/** Memory drops every unchanged page not among `keys` (the pages of the next blocks folded). */
	retain(keys: ReadonlySet<string>): void;
}

export interface Fold<S> {
	/** Unique name; the key of this fold's state in `ledger.state()`. */
	readonly name: string;
	/** Bump when `apply` changes meaning: checkpoints of another version are refolded. */
	readonly version: number;
	/**
	 * True when `apply` reaches the same state whatever order the blocks come in (each block
	 * once): every list it keeps is ordered by the blocks' places in the total order, never
	 * by arrival. A block that lands before blocks already folded is then applied in place;
	 * only the other folds rewind to a checkpoint and fold forward again.
	 */
	readonly commutative?: boolean;
	/**
	 * Whether a transaction of type `type` can change the state, by itself or through the
	 * index rows the fold reads (`reads`). When given, `apply` leaves the state as it was for
	 * a block holding no such transaction, so a late batch of only such blocks needs no
	 * rewind of this fold. Without it, every block counts.
	 */
	readonly affectedBy?: (type: string) => boolean;
	/** The fold's state by key, for a late block to re-apply only its keys (the ledger registers `keyed.index`). */
	readonly keyed?: FoldKeys<S>;
	/** Part of the state kept in the store by key rather than in checkpoints ({@link FoldPages}). */
	readonly pages?: FoldPages<S>;
	/** Index folds `apply` consults (the ledger registers them when not given). */
	readonly reads?: readonly FoldReads[];
	init(): S;
	/** `context`: what the block has seen, and the index rows `reads` names; the ledger always passes it (tests folding blocks by hand: core/testing/fold-contexts.ts). */
	apply(state: S, block: Block, context?: FoldContext): S;
	encode(state: S): CborValue;
	/**
	 * `value` as `encode` made it. Its byte strings are copies, unless `decodesViews`: then
	 * they are views into the checkpoint's bytes, which `decode` (and the state it builds)
	 * may read and keep but never write into.
	 */
	decode(value: CborValue): S;
	/** True when `decode` only reads the byte strings it is given (it may keep them): a checkpoint hands them over without copying. */
	readonly decodesViews?: boolean;
}

/** Counts of blocks and transactions by type, and the network name. */
export interface Summary {
	name: string;
	blocks: number;
	txs: Record<string, number>;
}

/** The core's own fold: what the ledger holds, at a glance. */
export const summaryFold: Fold<Summary> = {
	name: 'summary',
	version: 1,
	commutative: true,
	init: () => ({ name: '', blocks: 0, txs: {} }),
	apply(state, block) {
		state.blocks++;
		for (const tx of block.txs) {
			state.txs[tx.t] = (state.txs[tx.t] ?? 0) + 1;
			if (tx.t === 'genesis') state.name = tx.name as string;
		}
		return state;
	},
	encode: (state) => ({ name: state.name, blocks: state.blocks, txs: state.txs }),
	decode: (value) => {
		const v = value as { name: string; blocks: number; txs: Record<string, number> };
		return { name: v.name, blocks: v.blocks, txs: { ...v.txs } };
	}
};
