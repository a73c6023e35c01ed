// What the index tests of records share: generated blocks (bytes and ids from numbers, a
// block of a random clock), and their index rows written into a memory store in random
// batches and read back as a ledger reads them.
import { factRows, type Block, type BlockId, type FactRow, type IndexFold, type Tx } from '$lib/core/index.js';
import { MemoryStore } from '$lib/core/storage/memory.js';
import type { FactReader } from '$lib/domain/records/record-index.js';

export const bytes = (n: number, length: number) => Uint8Array.from({ length }, (_, i) => (n * 31 + i) & 255);
export const hexId = (n: number) => n.toString(16).padStart(64, '0') as BlockId;

/** Block `i` of a generated ledger: a random id and clock (0-11, so clocks tie), one of three authors. */
export const generatedBlock = (rand: () => number, i: number, txs: Tx[]): Block =>
	({
		id: hexId(1 + Math.floor(rand() * 1e9)),
		author: hexId(1 + (i % 3)),
		seq: i,
		clock: Math.floor(rand() * 12),
		time: i,
		txs
	}) as unknown as Block;

/** A ledger's index reads over `store`. */
export function storeReader(store: MemoryStore): FactReader {
	return {
		facts: (fold, key, o = {}) => store.facts(fold, key, o.after ?? null, o.limit ?? 500, o.reverse ?? false),
		factsOfKeys: (fold, keys) => store.factsOfKeys(fold, keys),
		factKeys: (fold, after = null, limit = 500) => store.factKeys(fold, after, limit)
	};
}

/** The rows `indexes` make of `order`, written in batches of 1-8 blocks as they arrive, read back as a ledger reads them. */
export async function writtenInBatches(order: readonly Block[], indexes: readonly IndexFold[], rand: () => number): Promise<FactReader> {
	const store = new MemoryStore();
	for (let i = 0; i < order.length;) {
		const batch = order.slice(i, (i += 1 + Math.floor(rand() * 8)));
		const rows: FactRow[] = batch.flatMap((b) => indexes.flatMap((f) => factRows(f, b)));
		await store.writeFacts(rows, []);
	}
	return storeReader(store);
}
