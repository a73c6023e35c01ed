/**
 * Folding blocks by hand, outside a ledger (tests, benchmarks): what each block has seen,
 * as the ledger computes it from `prev` and `deps` (core/ledger/version-vector.ts), for
 * folds that ask (`Causal`). Blocks must come parents first, as in the total order.
 */
import type { Causal, Fold } from '../fold.js';
import type { Block, BlockId } from '../types.js';

/** A function giving each block, in order, its `Causal`; keeps one author → seq map per block. */
export function causalPasts(): (block: Block) => Causal {
	const pasts = new Map<BlockId, ReadonlyMap<string, number>>();
	return (block) => {
		const vv = new Map<string, number>();
		for (const parent of block.prev ? [block.prev, ...block.deps] : block.deps)
			for (const [author, seq] of pasts.get(parent) ?? []) if (!((vv.get(author) ?? -1) >= seq)) vv.set(author, seq);
		vv.set(block.author, Math.max(block.seq, vv.get(block.author) ?? -1));
		pasts.set(block.id, vv);
		return { seen: (author, seq) => (vv.get(author) ?? -1) >= seq };
	};
}

/** `fold`'s state after `blocks` (in total order), from `state` or its initial state. */
export function foldBlocks<S>(fold: Fold<S>, blocks: readonly Block[], state: S = fold.init(), causal = causalPasts()): S {
	for (const block of blocks) state = fold.apply(state, block, causal(block));
	return state;
}
