/**
 * Index-fold rows in IndexedDB (the `facts` store, indexeddb-schema.ts): one record per
 * row under [fold, key, clock, block, n], so a key's rows are one key range in order and
 * a fold's keys are found by skipping from one key's range to the next.
 */
import { unwrap, type IDBPDatabase, type IDBPObjectStore, type StoreNames } from 'idb';
import type { FactPosition, FactRow } from '../index-fold.js';
import type { BlockId } from '../types.js';
import type { FactKey, FactRecord, LedgerDB } from './indexeddb-schema.js';

export type FactStore = IDBPObjectStore<LedgerDB, StoreNames<LedgerDB>[], 'facts', 'readwrite'>;

/** Greater than every number and string in IndexedDB's key order: the end of a prefix's range. */
const AFTER_ALL: never[] = [];

/** A row as the `facts` store keeps it (also what fixtures write into a browser profile). */
export const toRecord = (r: FactRow): FactRecord => ({ f: r.fold, k: r.key, c: r.clock, b: r.block, n: r.n, v: r.value });
const fromRecord = (r: FactRecord): FactRow => ({ fold: r.f, key: r.k, clock: r.c, block: r.b, n: r.n, value: r.v });
const keyOf = (r: FactRow): FactKey => [r.fold, r.key, r.clock, r.block, r.n];

/**
 * Queues the writes of `put` and `drop` on `store`; the caller awaits its transaction. The
 * requests are the store's own, with no promise each: idb's wrapper adds two listeners and a
 * promise per request, about a tenth of an index rebuild's 66 s over 100,000 blocks (a
 * request that fails aborts the transaction, so the caller's `tx.done` rejects).
 */
export function writeFactRows(store: FactStore, put: readonly FactRow[], drop: readonly FactRow[]): void {
	const raw = unwrap(store) as IDBObjectStore;
	for (const r of drop) raw.delete(keyOf(r));
	for (const r of put) raw.put(toRecord(r));
}

/** Fact rows and meta entries in one readwrite transaction, resolved once it is durable. */
export async function commitFacts(
	db: IDBPDatabase<LedgerDB>,
	durability: 'strict' | 'relaxed',
	meta: Readonly<Record<string, unknown>>,
	write: (facts: FactStore) => Promise<unknown>[] | void
): Promise<void> {
	const tx = db.transaction(['facts', 'meta'], 'readwrite', { durability });
	const metaWrites = Object.entries(meta).map(([key, value]) => tx.objectStore('meta').put(value, key));
	await Promise.all([...(write(tx.objectStore('facts')) ?? []), ...metaWrites, tx.done]);
}

/** Every row of `fold`: the key range to clear. */
export const foldRange = (fold: string) => IDBKeyRange.bound([fold], [fold, AFTER_ALL]);

export async function readFacts(
	db: IDBPDatabase<LedgerDB>,
	fold: string,
	key: string,
	after: FactPosition | null,
	limit: number,
	reverse: boolean
): Promise<FactRow[]> {
	if (limit <= 0) return [];
	const start = [fold, key];
	const end = [fold, key, AFTER_ALL];
	const at = after ? [fold, key, after[0], after[1] as BlockId, after[2]] : null;
	const store = db.transaction('facts').store;
	if (!reverse) {
		const range = at ? IDBKeyRange.bound(at, end, true) : IDBKeyRange.bound(start, end);
		return (await store.getAll(range, limit)).map(fromRecord);
	}
	const range = at ? IDBKeyRange.bound(start, at, false, true) : IDBKeyRange.bound(start, end);
	const out: FactRow[] = [];
	for (let cursor = await store.openCursor(range, 'prev'); cursor && out.length < limit; cursor = await cursor.continue())
		out.push(fromRecord(cursor.value));
	return out;
}

export async function readFactsOfKeys(db: IDBPDatabase<LedgerDB>, fold: string, keys: readonly string[]): Promise<FactRow[][]> {
	if (keys.length === 0) return [];
	const store = db.transaction('facts').store;
	// Every request in one transaction, none awaited before the next is made.
	const reads = keys.map((key) => store.getAll(IDBKeyRange.bound([fold, key], [fold, key, AFTER_ALL])));
	return (await Promise.all(reads)).map((rows) => rows.map(fromRecord));
}

/** The last row of each of `keys` strictly before `before`: a cursor from there backwards per key, in one transaction. */
export async function readLastFacts(
	db: IDBPDatabase<LedgerDB>,
	fold: string,
	keys: readonly string[],
	before: FactPosition
): Promise<(FactRow | undefined)[]> {
	if (keys.length === 0) return [];
	const store = db.transaction('facts').store;
	const at = (key: string) => [fold, key, before[0], before[1] as BlockId, before[2]];
	const reads = keys.map((key) => store.openCursor(IDBKeyRange.bound([fold, key], at(key), false, true), 'prev'));
	return (await Promise.all(reads)).map((cursor) => (cursor ? fromRecord(cursor.value) : undefined));
}

export async function readFactKeys(db: IDBPDatabase<LedgerDB>, fold: string, after: string | null, limit: number): Promise<string[]> {
	const keys: string[] = [];
	if (limit <= 0) return keys;
	const from = after === null ? [fold] : [fold, after, AFTER_ALL];
	const store = db.transaction('facts').store;
	let cursor = await store.openKeyCursor(IDBKeyRange.bound(from, [fold, AFTER_ALL]));
	while (cursor) {
		const key = (cursor.key as FactKey)[1];
		keys.push(key);
		if (keys.length >= limit) break;
		// Past every row of this key: the next cursor stop is the next key's first row.
		cursor = await cursor.continue([fold, key, AFTER_ALL] as unknown as FactKey);
	}
	return keys;
}
