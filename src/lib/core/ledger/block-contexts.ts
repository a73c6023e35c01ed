/**
 * What a fold consults while applying a block besides its state (core/fold.ts
 * `FoldContext`): the block's causal past, and the index rows the folds' `reads` name for
 * it, read for a batch of blocks at once.
 */
import { declaredKeys, type Causal, type Fold, type FoldContext } from '../fold.js';
import type { FactRow } from '../index-fold.js';
import { compareOrder, orderKey, type LedgerStore } from '../storage/store.js';
import type { Block, BlockId } from '../types.js';

/**
 * The index rows `folds` read for `blocks` (`Fold.reads`), in one store read per index, and
 * each block's context from them: its causal past (its version vector `vv`, through
 * `causal`) and those rows up to its place in the order, for the keys `reads` gave for that
 * block only ({@link declaredKeys}). Void blocks read nothing.
 */
export async function blockContexts(
	store: LedgerStore,
	folds: readonly Fold<unknown>[],
	blocks: readonly Block[],
	isVoid: (id: BlockId) => boolean,
	causal: (vv: readonly number[]) => Causal
): Promise<(block: Block, vv: readonly number[]) => FoldContext> {
	const reads = folds.flatMap((f) => f.reads ?? []);
	const declared = new Map<BlockId, Map<string, Set<string>>>();
	const wanted = new Map<string, Set<string>>();
	if (reads.length > 0)
		for (const block of blocks) {
			if (isVoid(block.id)) continue;
			const keys = declaredKeys(reads, block);
			declared.set(block.id, keys);
			for (const [index, set] of keys) {
				const all = wanted.get(index) ?? new Set<string>();
				for (const key of set) all.add(key);
				wanted.set(index, all);
			}
		}
	const found = new Map<string, Map<string, FactRow[]>>();
	for (const [index, set] of wanted) {
		if (set.size === 0) continue;
		const keys = [...set];
		const rows = await store.factsOfKeys(index, keys);
		found.set(index, new Map(keys.map((key, j) => [key, rows[j]!])));
	}
	return (block, vv) => {
		const at = orderKey(block);
		const mine = declared.get(block.id);
		return {
			seen: causal(vv).seen,
			facts: (index, key) => {
				if (!mine?.get(index)?.has(key)) return [];
				return (found.get(index)?.get(key) ?? []).filter((row) => compareOrder([row.clock, row.block], at) <= 0);
			}
		};
	};
}
