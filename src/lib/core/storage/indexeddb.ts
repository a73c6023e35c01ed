/**
 * IndexedDB {@link LedgerStore} on `idb`. One object store per concern; every append is
 * one readwrite transaction over blocks, heads and the batch's meta. Every write (append,
 * meta, checkpoints, evidence) commits with `durability: 'strict'` by default and resolves
 * on `complete`, so an acknowledged write survives a reload, a closed tab or a power cut.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { CodedError } from '../errors.js';
import type { AuthorId, BlockId, Head } from '../types.js';
import type { Checkpoint, Evidence, LedgerStore, OrderKey, StoredBlock } from './store.js';

interface LedgerDB extends DBSchema {
	blocks: { key: BlockId; value: StoredBlock; indexes: { chain: [AuthorId, number]; order: [number, BlockId] } };
	heads: { key: AuthorId; value: Head };
	evidence: { key: BlockId; value: Evidence };
	meta: { key: string; value: unknown };
	checkpoints: { key: [number, BlockId]; value: Checkpoint };
}

type UpgradeTx = IDBPTransaction<LedgerDB, StoreNames<LedgerDB>[], 'versionchange'>;

/**
 * Schema migrations, index = version - 1. A new version appends a step here; steps never
 * change once released, so a database of any older version upgrades in order.
 */
const MIGRATIONS: ((db: IDBPDatabase<LedgerDB>, tx: UpgradeTx) => void)[] = [
	(db) => {
		const blocks = db.createObjectStore('blocks', { keyPath: 'id' });
		blocks.createIndex('chain', ['author', 'seq'], { unique: true });
		blocks.createIndex('order', ['clock', 'id'], { unique: true });
		db.createObjectStore('heads', { keyPath: 'author' });
		db.createObjectStore('evidence', { keyPath: 'id' });
		db.createObjectStore('meta');
		db.createObjectStore('checkpoints', { keyPath: 'position' });
	},
	// v2: an equivocating author's two blocks at one seq are both kept (docs/validation.md).
	(_db, tx) => {
		const blocks = tx.objectStore('blocks');
		blocks.deleteIndex('chain');
		blocks.createIndex('chain', ['author', 'seq'], { unique: false });
	}
];

/** Current schema version of the ledger database. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface IndexedDBStoreOptions {
	/** 'strict' (default) flushes to disk before a write resolves; 'relaxed' is faster but may lose the last writes on a crash (bulk imports, benchmarks). */
	durability?: 'strict' | 'relaxed';
}

export class IndexedDBStore implements LedgerStore {
	readonly kind = 'indexeddb';
	private constructor(
		private readonly db: IDBPDatabase<LedgerDB>,
		private readonly durability: 'strict' | 'relaxed'
	) {}

	/** Opens (creating or migrating) the database `name`; refuses with code `NO_INDEXEDDB` (no IndexedDB here) or `STORE_NEWER_SCHEMA` (written by a newer app). */
	static async open(name: string, options: IndexedDBStoreOptions = {}): Promise<IndexedDBStore> {
		if (!globalThis.indexedDB) throw new CodedError('NO_INDEXEDDB', 'IndexedDB is not available in this environment');
		let opened: IDBPDatabase<LedgerDB> | undefined;
		const db = await openDB<LedgerDB>(name, SCHEMA_VERSION, {
			upgrade(db, oldVersion, _newVersion, tx) {
				for (let v = oldVersion; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db, tx);
			},
			// A newer tab wants to upgrade the schema: step aside instead of blocking it.
			blocking() {
				opened?.close();
			}
		}).catch((error: unknown) => {
			if (error instanceof DOMException && error.name === 'VersionError') {
				throw new CodedError(
					'STORE_NEWER_SCHEMA',
					`ledger database "${name}" was written by a newer version of the app (schema > ${SCHEMA_VERSION}): update the app`
				);
			}
			throw error;
		});
		opened = db;
		return new IndexedDBStore(db, options.durability ?? 'strict');
	}

	async append(blocks: readonly StoredBlock[], meta: Readonly<Record<string, unknown>> = {}): Promise<void> {
		const metaEntries = Object.entries(meta);
		if (blocks.length === 0 && metaEntries.length === 0) return;
		const tx = this.#writeTransaction(['blocks', 'heads', 'meta']);
		const store = tx.objectStore('blocks');
		const heads = tx.objectStore('heads');
		const newest = new Map<AuthorId, StoredBlock>();
		for (const b of blocks) {
			const current = newest.get(b.author);
			if (!current || current.seq < b.seq || (current.seq === b.seq && b.id < current.id)) newest.set(b.author, b);
		}
		const writes: Promise<unknown>[] = blocks.map((b) => store.add(b));
		for (const [key, value] of metaEntries) writes.push(tx.objectStore('meta').put(value, key));
		for (const b of newest.values()) {
			writes.push(
				heads.get(b.author).then((head) => {
					if (!head || head.seq < b.seq || (head.seq === b.seq && b.id < head.id))
						return heads.put({ author: b.author, seq: b.seq, id: b.id, clock: b.clock });
				})
			);
		}
		try {
			await Promise.all([...writes, tx.done]);
		} catch (error) {
			try {
				tx.abort();
			} catch {
				// already finished or aborted
			}
			throw error;
		}
	}

	#writeTransaction<Names extends StoreNames<LedgerDB>[]>(stores: Names) {
		return this.db.transaction(stores, 'readwrite', { durability: this.durability });
	}

	/** One write in its own transaction, resolved once the transaction is durable (idb's shortcuts resolve at the request). */
	async #writeOne(
		store: StoreNames<LedgerDB>,
		write: (tx: IDBPTransaction<LedgerDB, StoreNames<LedgerDB>[], 'readwrite'>) => Promise<unknown>
	) {
		const tx = this.#writeTransaction([store]);
		await Promise.all([write(tx), tx.done]);
	}

	get(id: BlockId) {
		return this.db.get('blocks', id);
	}

	async getMany(ids: readonly BlockId[]) {
		const tx = this.db.transaction('blocks');
		return Promise.all(ids.map((id) => tx.store.get(id)));
	}

	at(author: AuthorId, seq: number) {
		return this.db.getFromIndex('blocks', 'chain', [author, seq]);
	}

	range(author: AuthorId, fromSeq: number, limit: number) {
		const range = IDBKeyRange.bound([author, Math.max(0, fromSeq)], [author, Number.MAX_SAFE_INTEGER]);
		return this.db.getAllFromIndex('blocks', 'chain', range, limit);
	}

	ordered(after: OrderKey | null, limit: number) {
		const range = after ? IDBKeyRange.lowerBound([after[0], after[1]], true) : undefined;
		return this.db.getAllFromIndex('blocks', 'order', range, limit);
	}

	heads() {
		return this.db.getAll('heads');
	}

	count() {
		return this.db.count('blocks');
	}

	putEvidence(evidence: Evidence) {
		return this.#writeOne('evidence', (tx) => tx.objectStore('evidence').put(evidence));
	}

	evidence() {
		return this.db.getAll('evidence');
	}

	async getMeta<T>(key: string) {
		return (await this.db.get('meta', key)) as T | undefined;
	}

	putMeta(key: string, value: unknown) {
		return this.#writeOne('meta', (tx) => tx.objectStore('meta').put(value, key));
	}

	putCheckpoint(checkpoint: Checkpoint) {
		return this.#writeOne('checkpoints', (tx) =>
			tx.objectStore('checkpoints').put({ ...checkpoint, position: [checkpoint.position[0], checkpoint.position[1]] })
		);
	}

	async checkpointAtOrBefore(position: OrderKey | null) {
		const range = position ? IDBKeyRange.upperBound([position[0], position[1]]) : undefined;
		const cursor = await this.db.transaction('checkpoints').store.openCursor(range, 'prev');
		return cursor?.value;
	}

	dropCheckpointsAfter(position: OrderKey) {
		return this.#writeOne('checkpoints', (tx) =>
			tx.objectStore('checkpoints').delete(IDBKeyRange.lowerBound([position[0], position[1]], true))
		);
	}

	async close() {
		this.db.close();
	}
}
