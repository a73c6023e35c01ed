/**
 * Reading a window of the block DAG: the blocks of a clock range, one indexed range read
 * of the store's (clock, id) order a page at a time, whatever the ledger's size, and at
 * most {@link MAX_WINDOW_BLOCKS} held.
 */
import type { BlockId, Ledger, OrderKey } from '$lib/core/index.js';
import { toExplorerBlock, type ExplorerBlock } from './blocks.js';

/** Most blocks held for drawing at once. */
export const MAX_WINDOW_BLOCKS = 20_000;
/** Blocks per store read. */
export const PAGE = 1000;
/** Sorts after every hex id: `[clock, ID_MAX]` is the last position of a clock. */
const ID_MAX = 'g' as BlockId;

export interface BlockWindow {
	readonly blocks: ExplorerBlock[];
	/** The range held more than {@link MAX_WINDOW_BLOCKS}: the rest was not read. */
	readonly truncated: boolean;
	/** The clock range the blocks cover. */
	readonly range: [number, number];
}

/**
 * The blocks of clocks `from`..`to`, in pages of `pageSize`; `onPage` counts each page
 * read. Null once `current()` says a newer read replaced this one.
 */
export async function readWindow(
	ledger: Ledger,
	from: number,
	to: number,
	pageSize: number,
	current: () => boolean,
	onPage: (rows: number) => void
): Promise<BlockWindow | null> {
	const out: ExplorerBlock[] = [];
	let after: OrderKey = [from - 1, ID_MAX];
	let truncated = false;
	for (;;) {
		const page = await ledger.store.ordered(after, pageSize);
		if (!current()) return null;
		onPage(page.length);
		let past = false;
		for (const stored of page) {
			if (stored.clock > to) {
				past = true;
				break;
			}
			out.push(toExplorerBlock(stored));
		}
		if (past || page.length < pageSize) break;
		if (out.length >= MAX_WINDOW_BLOCKS) {
			truncated = true;
			break;
		}
		const last = page[page.length - 1]!;
		after = [last.clock, last.id];
	}
	return { blocks: out, truncated, range: [from, truncated ? out[out.length - 1]!.clock : to] };
}
