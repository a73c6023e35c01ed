/**
 * Ledgers and blocks the suites start from: the founder's signer, a founded ledger on
 * IndexedDB, chains of signed blocks made without a store, and their rows as stored.
 */
import {
	IndexedDBStore,
	Ledger,
	createBlock,
	createWorkerSigner,
	type BlockId,
	type LedgerStore,
	type Signer,
	type StoredBlock
} from '../../src/lib/core/index.js';
import { fixedNow, testSecret } from '../../src/lib/core/testing/fixtures.js';
import { IndexedDBStoreV2 } from '../../tests/browser/fixtures/indexeddb-v2.js';
import { noteTxs } from '../lib/workload.js';

export const founderSigner = (): Promise<Signer> => createWorkerSigner(testSecret('founder'));

/** IndexedDB schema: 3 is the current store (segments), 2 the released store before it (one record per block), the baseline. */
export type Schema = 2 | 3;

/** An IndexedDB ledger store of `schema`. */
export async function openIndexedDB(name: string, durability: 'strict' | 'relaxed', schema: Schema = 3): Promise<LedgerStore> {
	return schema === 3 ? IndexedDBStore.open(name, { durability }) : withoutIndexes(await IndexedDBStoreV2.open(name, { durability }));
}

/**
 * The released schema-2 store as a `LedgerStore`: it predates index folds, so a ledger on
 * it must register none (the bench ledgers register none: these are never called).
 */
function withoutIndexes(store: IndexedDBStoreV2): LedgerStore {
	const none = () => Promise.reject(new Error('the schema-2 store keeps no index-fold rows'));
	return Object.assign(store, { writeFacts: none, facts: none, factKeys: none, clearFacts: none }) as unknown as LedgerStore;
}

export async function foundOnIndexedDB(
	name: string,
	durability: 'strict' | 'relaxed',
	wrap: (store: LedgerStore) => LedgerStore = (s) => s,
	schema: Schema = 3
) {
	const store = wrap(await openIndexedDB(name, durability, schema));
	return Ledger.create({ store, signer: await founderSigner(), genesis: { name: 'Bench Clinic' } });
}

/** A stored row for `block` as the ledger would write it (single author: vv is [0, seq]). */
export function rowOf(block: { id: BlockId; author: StoredBlock['author']; seq: number; clock: number; bytes: Uint8Array }): StoredBlock {
	return { id: block.id, author: block.author, seq: block.seq, clock: block.clock, bytes: block.bytes, vv: [0, block.seq] };
}

/** `count` signed blocks of one chain, made the way appendBatch makes them (no store involved). */
export async function signChain(signer: Signer, net: BlockId, count: number, from = 0) {
	const out: Awaited<ReturnType<typeof createBlock>>[] = [];
	let prev: BlockId | null = null;
	for (let i = 0; i < count; i++) {
		const made = await createBlock(signer, {
			net,
			seq: from + i,
			prev: from + i === 0 ? null : (prev ?? net),
			deps: [],
			clock: from + i + 1,
			time: fixedNow(),
			txs: noteTxs(i)
		});
		prev = made.id;
		out.push(made);
	}
	return out;
}
