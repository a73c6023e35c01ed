/** What the store acceptance suites (store-acceptance.ts, fact-acceptance.ts) run on: a way to make stores, and synthetic rows. */
import type { AuthorId, BlockId } from '../types.js';
import type { FactRow } from '../index-fold.js';
import type { LedgerStore, StoredBlock } from '../storage/store.js';

export interface StoreHarness {
	/** A fresh, empty store. */
	create(): Promise<LedgerStore>;
	/** Closes `store` and opens the same underlying data again (omit for volatile stores). */
	reopen?(store: LedgerStore): Promise<LedgerStore>;
}

export const hex = (n: number, width = 64) => n.toString(16).padStart(width, '0');
export const author = (n: number) => hex(n) as AuthorId;

/** A synthetic row: stores index blocks, they do not validate them. */
export function row(a: number, seq: number, clock: number, tag = 0): StoredBlock {
	const id = hex(a * 1_000_000 + seq * 10 + tag + 1) as BlockId;
	return { id, author: author(a), seq, clock, bytes: new Uint8Array([a, seq & 255, clock & 255, tag]), vv: [a, seq] };
}

/** Every row of the index folds named `folds` in `store`, one key's rows at a time, in (fold, key, position) order: a store's indexes copied into a fixture. */
export async function* factRowsOf(store: Pick<LedgerStore, 'factKeys' | 'facts'>, folds: readonly string[]): AsyncGenerator<FactRow[]> {
	for (const fold of folds)
		for (const key of await store.factKeys(fold, null, Number.MAX_SAFE_INTEGER))
			yield await store.facts(fold, key, null, Number.MAX_SAFE_INTEGER);
}
