/**
 * Serial numbers given, as an index fold (core index-fold.ts): under `<gtin>|<serial>`, one
 * row per administration naming that serial, in ledger order (the value: the transaction's
 * index in its block). The supply fold reads a dose's row list (`Fold.reads`) to tell the
 * first use of a serial from a reuse, instead of keeping every serial ever given in its
 * state and checkpoints (issue 19: they grow with every serialized dose for as long as the
 * network lives). A row follows from its block alone: a late block inserts its rows in place.
 */
import type { Block, Fact, FoldContext, FoldReads, IndexFold, Tx } from '$lib/core/index.js';
import { serialKey, txString as str } from './supply-state.js';

export const SUPPLY_SERIALS = 'supply-serials';

/** The key a dose's serial is filed under, or null (no serial, or not text: the rules refuse those). */
export function serialKeyOf(tx: Tx): string | null {
	if (tx.t !== 'supply.administer') return null;
	const gtin = str(tx.gtin);
	const serial = str(tx.serial);
	return gtin === null || serial === null ? null : serialKey(gtin, serial);
}

export const serialIndex: IndexFold = {
	name: SUPPLY_SERIALS,
	version: 1,
	facts: (block) =>
		block.txs.flatMap((tx, index): Fact[] => {
			const key = serialKeyOf(tx);
			return key === null ? [] : [[key, index]];
		})
};

/** What the supply fold reads of the index: the keys of a block's serialized doses. */
export const serialReads: FoldReads = {
	index: serialIndex,
	keys: (block: Block) => block.txs.flatMap((tx) => serialKeyOf(tx) ?? [])
};

/**
 * The block of the first administration of `key`'s serial when it came before transaction
 * `index` of `block` (the serial is then given again), or null when this is its first use.
 */
export function earlierUse(context: FoldContext, key: string, block: Block, index: number): string | null {
	const first = context.facts(SUPPLY_SERIALS, key)[0];
	if (!first || (first.block === block.id && first.value === index)) return null;
	return first.block;
}
