/**
 * The keys of a fold whose transactions each concern at most one key (a patient, a study):
 * core/fold.ts `FoldKeys` built from that one function. The index files each block under
 * the keys its transactions name; a late block re-applies those keys, or makes the fold
 * rewind when `conflict` says one of its transactions reaches into another key's part.
 */
import type { FoldKeys } from './fold.js';
import type { Fact } from './index-fold.js';
import type { Block, Tx } from './types.js';

export interface KeyPerTransaction<S> {
	/** The index's name (unique among the ledger's index folds). */
	readonly index: string;
	/** The key a transaction concerns, or null (it changes nothing of the fold). */
	keyOf(tx: Tx): string | null;
	/** True when `tx`, of key `key`, would change another key's part of `state` (an id another key already holds): the fold rewinds. */
	conflict(state: S, tx: Tx, key: string): boolean;
	/** Removes `key`'s part from the state. */
	clear(state: S, key: string): void;
	/** Applies `block`'s transactions of key `only`. */
	apply(state: S, block: Block, only: string): void;
}

export function keyPerTransaction<S>(spec: KeyPerTransaction<S>): FoldKeys<S> {
	const keysOf = (block: Block) => [...new Set(block.txs.map((tx) => spec.keyOf(tx)).filter((key): key is string => key !== null))];
	return {
		index: { name: spec.index, version: 1, facts: (block) => keysOf(block).map((key): Fact => [key, null]) },
		keysOf(block, _context, state) {
			for (const tx of block.txs) {
				const key = spec.keyOf(tx);
				if (key !== null && spec.conflict(state, tx, key)) return null;
			}
			return keysOf(block);
		},
		rowKeys: (key) => [key],
		clear: spec.clear,
		applyKey: (state, block, key) => spec.apply(state, block, key)
	};
}
