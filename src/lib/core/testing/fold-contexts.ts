/**
 * Folding blocks by hand, outside a ledger (tests, benchmarks): each block's `FoldContext`
 * as the ledger gives it. What a block has seen comes from `prev` and `deps` (as the
 * ledger's version vectors do, core/ledger/version-vector.ts); the index rows a fold
 * reads are computed from the blocks given so far. Blocks must come in the total order,
 * and none is void.
 */
import { declaredKeys, type Fold, type FoldContext, type FoldReads } from '../fold.js';
import { factRows, type FactRow, type IndexFold } from '../index-fold.js';
import type { Block, BlockId } from '../types.js';

/** A function giving each block, in order, its context; keeps one author → seq map per block and every row of the `reads` indexes. */
export function foldContexts(reads: readonly FoldReads[] = []): (block: Block) => FoldContext {
	const pasts = new Map<BlockId, ReadonlyMap<string, number>>();
	const indexes = new Map<string, IndexFold>(reads.map((r) => [r.index.name, r.index]));
	const rows = new Map<string, FactRow[]>();
	return (block) => {
		const vv = new Map<string, number>();
		for (const parent of block.prev ? [block.prev, ...block.deps] : block.deps)
			for (const [author, seq] of pasts.get(parent) ?? []) if (!((vv.get(author) ?? -1) >= seq)) vv.set(author, seq);
		vv.set(block.author, Math.max(block.seq, vv.get(block.author) ?? -1));
		pasts.set(block.id, vv);
		for (const index of indexes.values())
			for (const row of factRows(index, block)) {
				const key = `${index.name}\u0000${row.key}`;
				const list = rows.get(key);
				if (list) list.push(row);
				else rows.set(key, [row]);
			}
		const mine = declaredKeys(reads, block);
		return {
			seen: (author, seq) => (vv.get(author) ?? -1) >= seq,
			facts: (index, key) => (mine.get(index)?.has(key) ? [...(rows.get(`${index}\u0000${key}`) ?? [])] : [])
		};
	};
}

/** `fold`'s state after `blocks` (in total order), from `state` or its initial state. */
export function foldBlocks<S>(fold: Fold<S>, blocks: readonly Block[], state: S = fold.init(), contexts = foldContexts(fold.reads)): S {
	for (const block of blocks) state = fold.apply(state, block, contexts(block));
	return state;
}
