/**
 * The one storage interface of the ledger. Append-only: a block, once stored, is never
 * changed or removed; everything else (heads, checkpoints) is derived and may be rebuilt.
 * Implementations: IndexedDB (browser) and in-memory (tests, simulation, Node peer); one
 * acceptance suite (`core/testing/store-acceptance.ts`) runs against both.
 */
import type { FactPosition, FactRow } from '../index-fold.js';
import type { AuthorId, BlockId, Head } from '../types.js';

/** Position in the total order: (clock, id). */
export type OrderKey = readonly [clock: number, id: BlockId];

/** A block as stored: its wire bytes plus what the ledger indexes it by. */
export interface StoredBlock {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	readonly bytes: Uint8Array;
	/**
	 * Causal version vector of the block (its own position included), as pairs
	 * `[authorIndex, seq, ...]` sorted by author index; indexes are this store's own.
	 */
	readonly vv: readonly number[];
}

/**
 * Proof of equivocation: a block at an (author, seq) that holds another block too. Both
 * blocks are stored (they are void, see docs/validation.md); this record names the pair
 * for the UI and for peers: every version but the smallest id, against the smallest.
 */
export interface Evidence {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	/** The block with the smallest id at that position. */
	readonly conflictsWith: BlockId;
	readonly bytes: Uint8Array;
	/** Local time it was seen (ms). */
	readonly seenAt: number;
}

/** Serialized fold state after every block up to and including `position`. */
export interface Checkpoint {
	readonly position: OrderKey;
	/** How many blocks were folded to reach it. */
	readonly count: number;
	readonly state: Uint8Array;
}

export interface LedgerStore {
	/** Short name for logs and the UI, e.g. "indexeddb" or "memory". */
	readonly kind: string;
	/**
	 * Stores blocks atomically: all or none. Resolves only once the batch is durable, so a
	 * reload right after cannot lose it. Ids already stored are an error (the ledger never
	 * appends twice). Heads, and the `meta` entries given, are written in the same
	 * transaction, so derived indexes never disagree with the blocks; so are `facts`, the
	 * rows the blocks contribute to index folds (index-fold.ts).
	 */
	append(blocks: readonly StoredBlock[], meta?: Readonly<Record<string, unknown>>, facts?: readonly FactRow[]): Promise<void>;
	get(id: BlockId): Promise<StoredBlock | undefined>;
	getMany(ids: readonly BlockId[]): Promise<(StoredBlock | undefined)[]>;
	/**
	 * `author`'s block at `seq`; when the author equivocated (several blocks at that seq,
	 * all kept), the one with the smallest id.
	 */
	at(author: AuthorId, seq: number): Promise<StoredBlock | undefined>;
	/** `author`'s blocks with `fromSeq <= seq`, ascending by (seq, id), at most `limit`. */
	range(author: AuthorId, fromSeq: number, limit: number): Promise<StoredBlock[]>;
	/** Blocks strictly after `after` (from the start when null) in (clock, id) order, at most `limit`. */
	ordered(after: OrderKey | null, limit: number): Promise<StoredBlock[]>;
	/** The newest block of every author (highest seq; of several at that seq, the smallest id). */
	heads(): Promise<Head[]>;
	count(): Promise<number>;
	putEvidence(evidence: Evidence): Promise<void>;
	evidence(): Promise<Evidence[]>;
	getMeta<T>(key: string): Promise<T | undefined>;
	putMeta(key: string, value: unknown): Promise<void>;
	putCheckpoint(checkpoint: Checkpoint): Promise<void>;
	/** The latest checkpoint at or before `position` (the latest of all when null). */
	checkpointAtOrBefore(position: OrderKey | null): Promise<Checkpoint | undefined>;
	/** Drops checkpoints after `position`: they no longer match the order once an earlier block arrives. */
	dropCheckpointsAfter(position: OrderKey): Promise<void>;
	/** Where every stored checkpoint is, in order (their states are not read). */
	checkpointPositions(): Promise<OrderKey[]>;
	/** Drops the checkpoints at `positions` (older ones a rewind no longer needs: checkpoint-ladder.ts); positions with none are ignored. */
	dropCheckpoints(positions: readonly OrderKey[]): Promise<void>;
	/**
	 * Adds the rows `put` and removes the rows at the places `drop` names (fold, key and
	 * position; their values are not compared), and writes `meta`, in one durable
	 * transaction. A row put where one is stored replaces it.
	 */
	writeFacts(put: readonly FactRow[], drop: readonly FactRow[], meta?: Readonly<Record<string, unknown>>): Promise<void>;
	/**
	 * Rows of `key` in index `fold`, in (clock, block, n) order, strictly after `after`
	 * (from the first when null), at most `limit`; with `reverse`, newest first and strictly
	 * before `after` (from the last when null).
	 */
	facts(fold: string, key: string, after: FactPosition | null, limit: number, reverse?: boolean): Promise<FactRow[]>;
	/**
	 * Every row of each of `keys` in index `fold`, in (clock, block, n) order, one list per
	 * key in the order asked: one store read however many keys (a chart asks for thousands).
	 */
	factsOfKeys(fold: string, keys: readonly string[]): Promise<FactRow[][]>;
	/** The last row of each of `keys` in index `fold` strictly before `before` (undefined: none), one store read however many keys. */
	lastFactsOfKeys(fold: string, keys: readonly string[], before: FactPosition): Promise<(FactRow | undefined)[]>;
	/** Keys of index `fold` that hold rows, in order, strictly after `after`, at most `limit`. */
	factKeys(fold: string, after: string | null, limit: number): Promise<string[]>;
	/** Removes every row of index `fold` and writes `meta`, in one transaction (an index rebuilt). */
	clearFacts(fold: string, meta?: Readonly<Record<string, unknown>>): Promise<void>;
	close(): Promise<void>;
}

/** Compares order keys: clock first, then id. */
export function compareOrder(a: OrderKey, b: OrderKey): number {
	return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

/** The order key of a stored block. */
export const orderKey = (block: { clock: number; id: BlockId }): OrderKey => [block.clock, block.id];
