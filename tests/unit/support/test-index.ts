/**
 * An index fold for core tests (index-fold.ts): every block's transaction types under its
 * author, and its author and seq under each transaction type. Keys and rows depend on the
 * block alone, so any two nodes holding the same blocks with the same void set must hold
 * the same rows, which {@link indexDump} and {@link expectedIndex} let a test compare.
 */
import { compareFactRows, factRows, type FactRow, type IndexFold } from '../../../src/lib/core/index-fold.js';
import type { Ledger } from '../../../src/lib/core/ledger.js';

export const txIndex: IndexFold = {
	name: 'test-txs',
	version: 1,
	facts: (block) => [
		[block.author, block.txs.map((tx) => tx.t)],
		...block.txs.map((tx): [string, string] => [`type:${tx.t}`, `${block.author.slice(0, 8)}:${block.seq}`])
	]
};

/** Every row of `fold` on `node`, key by key, read a few rows a page (so paging is exercised). */
export async function indexDump(node: Ledger, fold = txIndex.name): Promise<FactRow[]> {
	const out: FactRow[] = [];
	let key: string | null = null;
	for (;;) {
		const keys = await node.factKeys(fold, key, 3);
		for (const k of keys) {
			let last: FactRow | undefined;
			for (;;) {
				const page: FactRow[] = await node.facts(fold, k, { after: last ? [last.clock, last.block, last.n] : null, limit: 4 });
				out.push(...page);
				last = page[page.length - 1];
				if (page.length < 4) break;
			}
		}
		if (keys.length < 3) return out;
		key = keys[keys.length - 1]!;
	}
}

/** The rows `fold` should hold on `node`, computed from scratch: those of every stored block that counts. */
export async function expectedIndex(node: Ledger, fold: IndexFold = txIndex): Promise<FactRow[]> {
	const rows: FactRow[] = [];
	for await (const block of node.blocks()) if (!node.voidReason(block.id)) rows.push(...factRows(fold, block));
	return rows.sort(compareFactRows);
}
