/**
 * The research fold's index (core index-fold.ts): which blocks make each study, and which
 * `study.query` first used each query id. Kept in the store, so the fold's state and its
 * checkpoints hold no map of every query id ever asked (issue 19, item 3: that map grew with
 * every query for as long as the network lives).
 *
 * - Under the study's id (hex): one row per block with a transaction of that study. A late
 *   block re-applies its studies from these rows (fold.ts `keyed`).
 * - Under `q/<query id>`: one row per block holding a `study.query` with that id, its value
 *   `[index, study]` (the block's first such transaction). The fold reads a query's and a
 *   result's rows (`Fold.reads`, up to the block's place in the order): the first row is the
 *   query that holds the id (the first in ledger order wins), and a later query reusing it
 *   is refused. A late query re-applies the studies of the blocks filed under its id
 *   (`dependents`): one of them may have held the id until then.
 */
import { toHex, type Block, type Fact, type FoldContext, type FoldReads, type IndexFold, type Tx } from '$lib/core/index.js';

export const RESEARCH_STUDIES = 'research-studies';

/** The row key of the queries using id `id` (hex). */
export const queryRow = (id: string) => `q/${id}`;

/** The study a research transaction concerns (hex), if any. */
export function studyOf(tx: Tx): string | null {
	if (!tx.t.startsWith('study.')) return null;
	const id = tx.t === 'study.register' ? tx.id : tx.study;
	return id instanceof Uint8Array ? toHex(id) : null;
}

/** The studies `block`'s transactions concern, each once, in the order they first appear. */
export const studiesOf = (block: Block): string[] => [...new Set(block.txs.map(studyOf).filter((key) => key !== null))];

/** The query id a `study.query` asks under, or a `study.result` answers (hex); null for any other transaction. */
export function queryIdOf(tx: Tx): string | null {
	const id = tx.t === 'study.query' ? tx.id : tx.t === 'study.result' ? tx.query : undefined;
	return id instanceof Uint8Array && studyOf(tx) !== null ? toHex(id) : null;
}

/** Each query id `block` asks under: its first `study.query` of that id, as [index, study]. */
function firstQueries(block: Block): Map<string, [number, string]> {
	const out = new Map<string, [number, string]>();
	block.txs.forEach((tx, index) => {
		const id = tx.t === 'study.query' ? queryIdOf(tx) : null;
		if (id !== null && !out.has(id)) out.set(id, [index, studyOf(tx)!]);
	});
	return out;
}

export const researchStudiesIndex: IndexFold = {
	name: RESEARCH_STUDIES,
	// 2: the `q/<query id>` rows, after version 1's rows of the same blocks: a ledger holding
	// version 1 rewrites its research blocks' rows, not rebuilding from every block (26.1 s at
	// the first open of a 1,000,000-block ledger without this; docs/benchmarks.md).
	version: 2,
	growsFrom: 1,
	facts(block: Block): Fact[] {
		const out: Fact[] = studiesOf(block).map((key): Fact => [key, null]);
		for (const [id, first] of firstQueries(block)) out.push([queryRow(id), first]);
		return out;
	}
};

/** What the fold reads of the index: the rows of the query ids a block's queries and results name. */
export const queryReads: FoldReads = {
	index: researchStudiesIndex,
	keys: (block) => [...new Set(block.txs.flatMap((tx) => queryIdOf(tx) ?? []))].map(queryRow)
};

/** The row keys of the queries `block` asks: a late one may take an id from a query folded before it. */
export const askedQueryRows = (block: Block): string[] => [...firstQueries(block).keys()].map(queryRow);

/** The study holding query id `id` as of the block being folded (the first query of that id in ledger order), if any. */
export function holderOf(context: FoldContext, id: string): { block: string; index: number; study: string } | undefined {
	const first = context.facts(RESEARCH_STUDIES, queryRow(id))[0];
	if (!first) return undefined;
	const [index, study] = first.value as [number, string];
	return { block: first.block, index, study };
}
