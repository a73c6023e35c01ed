/**
 * A paged fold (core/fold.ts `FoldPages`) folded by hand the strictest way the engine can
 * hold it: before each block every page is stored and memory lets all of them go, then
 * only the pages the block names (`keysOf`, then `moreKeysOf` once those are read) are read
 * back. A page the fold touches without having named it throws `PAGE_NOT_READ`, whatever
 * the checkpoints' spacing or the batches would have kept in memory on a real node.
 */
import { compareOrder, orderKey, type Block, type Fold } from '$lib/core/index.js';
import { foldContexts } from '$lib/core/testing/fold-contexts.js';

/**
 * `fold`'s state after `blocks` (sorted into the total order), each block reading only the
 * pages it names, with every page read back into memory at the end (to compare it whole).
 */
export function foldNamingPages<S>(fold: Fold<S>, blocks: readonly Block[]): S {
	const pages = fold.pages!;
	const contexts = foldContexts(fold.reads);
	const rows = new Map<string, Uint8Array | null>();
	let state = fold.init();
	for (const block of [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)))) {
		const context = contexts(block);
		const set = pages.of(state);
		const changed = set.changed();
		for (const [key, bytes] of changed) rows.set(key, bytes);
		set.stored(changed.map(([key]) => key));
		set.retain(new Set());
		const read = (keys: Iterable<string>) => {
			for (const key of set.unread(keys)) set.put(key, rows.get(key) ?? null);
		};
		read(pages.keysOf(block, context, state));
		if (pages.moreKeysOf) read(pages.moreKeysOf(block, context, state, (key) => set.peek(key) ?? undefined));
		state = fold.apply(state, block, context);
	}
	const set = pages.of(state);
	for (const key of set.unread(set.keys())) set.put(key, rows.get(key) ?? null);
	return state;
}
