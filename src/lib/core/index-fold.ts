/**
 * Persistent indexes: state kept in the store by key, not folded in memory (issue 19).
 *
 * An index fold says what each block contributes to which key (`facts`), as a function of
 * the block alone. The store keeps one row per fact under (fold, key, clock, block, n), so
 * a key's rows are always in the ledger's total order whatever order the blocks arrived
 * in: a late block inserts its rows in place and touches nothing else, and a block that
 * becomes void (or counts again) removes (or restores) exactly its own rows. What a key's
 * state is, is the reader's fold over its rows, read a page at a time: nothing of an index
 * is held in memory. Rows are written in the same store transaction as their blocks.
 */
import type { CborValue } from './codec.js';
import type { Block, BlockId } from './types.js';

/** What a block says about one key of an index. */
export type Fact = readonly [key: string, value: CborValue];

export interface IndexFold {
	/** Unique among the ledger's index folds. */
	readonly name: string;
	/** Bump when `facts` changes meaning: the index is rebuilt from the stored blocks. */
	readonly version: number;
	/** What `block` contributes, by key; a pure function of the block (no state, no clock). */
	facts(block: Block): readonly Fact[];
	/**
	 * An earlier version whose rows of every block are this version's first rows, unchanged
	 * (same keys, values and places): this one only appends rows, and only to blocks the
	 * earlier one filed under `growsUnder` (under any key when omitted). A store holding that
	 * version keeps its rows and writes those blocks' rows again, not rebuilding the index
	 * from every stored block (core/ledger/index-engine.ts).
	 */
	readonly growsFrom?: number;
	readonly growsUnder?: readonly string[];
}

/** Where a fact sits: its block's place in the total order, then its place in the block's facts. */
export type FactPosition = readonly [clock: number, block: BlockId, n: number];

/** A stored fact. */
export interface FactRow {
	readonly fold: string;
	readonly key: string;
	readonly clock: number;
	readonly block: BlockId;
	/** Index of the fact among its block's facts for this fold. */
	readonly n: number;
	readonly value: CborValue;
}

/** Longest key of an index, in UTF-16 units. */
export const MAX_FACT_KEY = 256;

/** Orders facts of one key: (clock, block, n). */
export function compareFactPosition(a: FactPosition, b: FactPosition): number {
	return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];
}

export const factPosition = (row: FactRow): FactPosition => [row.clock, row.block, row.n];

/** Orders rows as every store keeps them: fold, key, then position. */
export function compareFactRows(a: FactRow, b: FactRow): number {
	if (a.fold !== b.fold) return a.fold < b.fold ? -1 : 1;
	if (a.key !== b.key) return a.key < b.key ? -1 : 1;
	return compareFactPosition(factPosition(a), factPosition(b));
}

/** A name or key a store can keep: a non-empty string without NUL, at most {@link MAX_FACT_KEY} long. */
export function isFactKey(key: unknown): key is string {
	return typeof key === 'string' && key.length > 0 && key.length <= MAX_FACT_KEY && !key.includes('\u0000');
}

/**
 * The rows `block` contributes to `fold`. A fact under a key no store can keep, or a fold
 * that throws on the block, contributes nothing: the same on every node, so indexes still
 * agree, and a block a peer crafted to trip a fold cannot stop its batch being stored
 * (which would freeze the node's sync on it).
 */
export function factRows(fold: IndexFold, block: Block): FactRow[] {
	let facts: readonly Fact[];
	try {
		facts = fold.facts(block);
	} catch {
		return [];
	}
	const rows: FactRow[] = [];
	facts.forEach(([key, value], n) => {
		if (isFactKey(key)) rows.push({ fold: fold.name, key, clock: block.clock, block: block.id, n, value });
	});
	return rows;
}
