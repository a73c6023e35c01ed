/** The ledger's public shapes: its options, what `receive` reports and the events it emits. */
import type { Signer, Verifier } from '../crypto/verifier.js';
import type { ReasonCode } from '../errors.js';
import type { Fold } from '../fold.js';
import type { IndexFold } from '../index-fold.js';
import type { TxRule } from '../rules.js';
import type { LedgerStore } from '../storage/store.js';
import type { AuthorId, Block, BlockId } from '../types.js';

export interface LedgerOptions {
	store: LedgerStore;
	/** This node's key; without one the ledger only receives. */
	signer?: Signer;
	/** Signature verifier; feature-detected (WebCrypto, else noble) when omitted. */
	verifier?: Verifier;
	/** Extra folds besides the core summary. */
	folds?: readonly Fold<unknown>[];
	/** Index folds: state kept in the store by key, read a page at a time (index-fold.ts). */
	indexes?: readonly IndexFold[];
	/** Extra transaction types besides the core ones. */
	rules?: readonly TxRule[];
	/** Wall clock for the advisory `time` field. */
	now?: () => number;
	/** Blocks between fold checkpoints (default 1000; up to 20 times more while checkpoints take over 100 ms to write). */
	checkpointEvery?: number;
	/**
	 * Called while {@link Ledger.open} rebuilds what it keeps from the stored blocks: an index
	 * fold that is new or of a new version (`index`), the folds' state from the latest usable
	 * checkpoint (`fold`); `done` of `total` stored blocks, once per page of 500.
	 */
	onOpenProgress?: (progress: OpenProgress) => void;
	/** Most blocks parked while waiting for missing predecessors (default 10,000). */
	pendingLimit?: number;
	/** Most bytes parked (default 64 MiB): large blocks must not exhaust memory. */
	pendingBytesLimit?: number;
}

/** How far {@link LedgerOptions.onOpenProgress}'s rebuild is. */
export interface OpenProgress {
	readonly phase: 'index' | 'fold';
	readonly done: number;
	readonly total: number;
}

/** One refused block, as reported by `receive` and the `rejected` event. */
export interface Rejection {
	readonly code: ReasonCode;
	readonly detail: string;
	readonly id?: BlockId;
	readonly author?: AuthorId;
	/** Who sent it (peer id), when known. */
	readonly from?: string;
}

export interface ReceiveResult {
	readonly accepted: BlockId[];
	readonly duplicates: number;
	readonly rejected: Rejection[];
	/** Blocks now waiting in the pending pool (all of it, not just this call's). */
	readonly pending: number;
	/** Ids this node should ask its peers for. */
	readonly missing: BlockId[];
}

export interface LedgerEvents {
	/** `from` is the peer the blocks came from; absent for this node's own appends. */
	accepted: (blocks: readonly Block[], from?: string) => void;
	rejected: (rejection: Rejection) => void;
	equivocation: (evidence: { author: AuthorId; seq: number; ids: [BlockId, BlockId] }) => void;
	/** Accepted blocks that a revocation (or what it undid) made void: kept, without effect. */
	voided: (ids: readonly BlockId[]) => void;
}
