/**
 * The checkpoint methods of a {@link LedgerStore} over an IndexedDB `checkpoints` store keyed
 * by position ([clock, id]): the ledger's store and the schema-2 store the benchmarks and
 * migration tests keep (tests/browser/fixtures/indexeddb-v2.ts) share them.
 */
import type { DBSchema, IDBPDatabase, IDBPObjectStore } from 'idb';
import type { BlockId } from '../types.js';
import type { Checkpoint, LedgerStore, OrderKey } from './store.js';

interface CheckpointsDB extends DBSchema {
	checkpoints: { key: [number, BlockId]; value: Checkpoint };
}
type Writable = IDBPObjectStore<CheckpointsDB, ['checkpoints'], 'checkpoints', 'readwrite'>;

export type CheckpointMethods = Pick<
	LedgerStore,
	'putCheckpoint' | 'checkpointAtOrBefore' | 'dropCheckpointsAfter' | 'checkpointPositions' | 'dropCheckpoints'
>;

/**
 * The methods, reading through `db` and writing through `write`, which runs its argument
 * on the store in a read-write transaction of the store's durability and awaits it.
 */
export function idbCheckpoints(db: unknown, write: (on: (store: Writable) => Promise<unknown>) => Promise<void>): CheckpointMethods {
	const read = db as IDBPDatabase<CheckpointsDB>;
	const key = (p: OrderKey): [number, BlockId] => [p[0], p[1]];
	return {
		putCheckpoint: (c) => write((store) => store.put({ ...c, position: key(c.position) })),
		async checkpointAtOrBefore(position) {
			const range = position ? IDBKeyRange.upperBound(key(position)) : undefined;
			return (await read.transaction('checkpoints').store.openCursor(range, 'prev'))?.value;
		},
		dropCheckpointsAfter: (position) => write((store) => store.delete(IDBKeyRange.lowerBound(key(position), true))),
		checkpointPositions: async () => (await read.getAllKeys('checkpoints')).map((k): OrderKey => [k[0], k[1]]),
		dropCheckpoints: (positions) => write((store) => Promise.all(positions.map((p) => store.delete(key(p)))))
	};
}
