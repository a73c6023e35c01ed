/**
 * The ledger database's layout and the migrations between its versions. Schema 3:
 *
 *   segments     one record per appended batch (≤ SEGMENT_BLOCKS blocks, see segment.ts),
 *                auto-incremented key; one index: byId (multiEntry over the record's
 *                ids) id -> segment; since schema 5 the store refuses an id already
 *                stored itself (indexeddb.ts, append), and byId is unique only in a
 *                database too large to rebuild it at the upgrade (REBUILD_BY_ID)
 *   summaries    seg -> SegmentSummary (count, (clock, id) range, per author seq range),
 *                written in the same transaction as its segment, all loaded at open
 *   heads        author -> its newest block (Head)
 *   evidence     id -> Evidence
 *   meta         key -> value
 *   checkpoints  [clock, id] -> Checkpoint
 *   facts        [fold, key, clock, block, n] -> FactRecord: the rows of index folds
 *                (index-fold.ts), written in the same transaction as their blocks
 *
 * Schemas 1 and 2 kept one record per block in `blocks`; step 3 copies them into segments
 * (in (clock, id) order, 500 per segment) and drops that store. Step 4 adds `facts`, empty:
 * the ledger fills it from the stored blocks at its next open (its index meta is absent).
 * Step 5 makes `byId` not unique in a small database (REBUILD_BY_ID): IndexedDB's uniqueness
 * check cost 7-17 ms of every append of 500 (the index entries alone about 1 ms), and the
 * store needs it only for blocks at or below their author's head, which it looks up itself.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { CborValue } from '../codec.js';
import { CodedError } from '../errors.js';
import type { AuthorId, BlockId, Head } from '../types.js';
import { SEGMENT_BLOCKS, packSegment, type SegmentRecord, type SegmentSummary } from './segment.js';
import type { Checkpoint, Evidence, StoredBlock } from './store.js';

export interface LedgerDB extends DBSchema {
	segments: { key: number; value: SegmentRecord; indexes: { byId: BlockId } };
	summaries: { key: number; value: SegmentSummary };
	/** Schemas 1 and 2 only: one record per block. Step 3 deletes it. */
	blocks: { key: BlockId; value: StoredBlock; indexes: { chain: [AuthorId, number]; order: [number, BlockId] } };
	heads: { key: AuthorId; value: Head };
	evidence: { key: BlockId; value: Evidence };
	meta: { key: string; value: unknown };
	checkpoints: { key: [number, BlockId]; value: Checkpoint };
	facts: { key: FactKey; value: FactRecord };
}

/** Where a fact row is kept: fold, key, then its position (clock, block, n). */
export type FactKey = [fold: string, key: string, clock: number, block: BlockId, n: number];

/** A fact row as stored. */
export interface FactRecord {
	readonly f: string;
	readonly k: string;
	readonly c: number;
	readonly b: BlockId;
	readonly n: number;
	readonly v: CborValue;
}

export type UpgradeTx = IDBPTransaction<LedgerDB, StoreNames<LedgerDB>[], 'versionchange'>;

/**
 * Schema migrations, index = version - 1. A new version appends a step here; steps never
 * change once released, so a database of any older version upgrades in order. A step may
 * be async, but awaits only requests of the upgrade transaction (anything else lets the
 * transaction commit under it).
 */
export const MIGRATIONS: ((db: IDBPDatabase<LedgerDB>, tx: UpgradeTx) => void | Promise<void>)[] = [
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
	},
	// v3: blocks in segments, one record per batch, with a summary each; every block copied, in (clock, id) order.
	async (db, tx) => {
		const segments = db.createObjectStore('segments', { autoIncrement: true });
		segments.createIndex('byId', 'ids', { unique: true, multiEntry: true });
		const summaries = db.createObjectStore('summaries', { keyPath: 'seg' });
		const order = tx.objectStore('blocks').index('order');
		let after: [number, BlockId] | undefined;
		for (;;) {
			const page = await order.getAll(after ? IDBKeyRange.lowerBound(after, true) : undefined, SEGMENT_BLOCKS);
			if (page.length === 0) break;
			const { record, summary } = packSegment(page);
			const seg = await segments.add(record);
			await summaries.add({ ...summary, seg });
			const last = page[page.length - 1]!;
			after = [last.clock, last.id];
		}
		db.deleteObjectStore('blocks');
	},
	// v4: index-fold rows (index-fold.ts); the ledger builds them from the blocks at its next open.
	(db) => {
		db.createObjectStore('facts', { keyPath: ['f', 'k', 'c', 'b', 'n'] });
	},
	// v5: append checks the ids at or below their author's head itself (indexeddb.ts), so byId
	// need not be unique. It is rebuilt not unique in a small database only: the rebuild runs
	// inside the upgrade with nothing to show, and took 0.3 s for 20,000 blocks in 40 segments,
	// 2.6 s for 20,000 in 2,000 segments and 8.4 s for 100,000 in 200 in Chromium. A larger
	// database keeps its unique index (its appends keep that index's cost).
	async (_db, tx) => {
		const segments = tx.objectStore('segments');
		if ((await segments.count()) > REBUILD_BY_ID.segments || (await segments.index('byId').count()) > REBUILD_BY_ID.blocks) return;
		segments.deleteIndex('byId');
		segments.createIndex('byId', 'ids', { unique: false, multiEntry: true });
	}
];

/** Step 5 rebuilds `byId` not unique only in a database of at most this many segments and blocks (about 0.3 s). */
export const REBUILD_BY_ID = { segments: 200, blocks: 20_000 } as const;

/** Current schema version of the ledger database. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating or migrating) the ledger database `name`; refuses with code
 * `STORE_NEWER_SCHEMA` (written by a newer app) or `STORE_MIGRATION_FAILED` (an upgrade
 * step failed; the database is left as it was). The connection closes itself when a newer
 * tab needs to upgrade.
 */
export async function openLedgerDatabase(name: string): Promise<IDBPDatabase<LedgerDB>> {
	let opened: IDBPDatabase<LedgerDB> | undefined;
	let migrationError: unknown;
	const db = await openDB<LedgerDB>(name, SCHEMA_VERSION, {
		upgrade(db, oldVersion, _newVersion, tx) {
			// A failed step aborts the upgrade: open() reports it, so the transaction's own rejection is not left unhandled.
			tx.done.catch(() => undefined);
			const steps = async () => {
				for (let v = oldVersion; v < SCHEMA_VERSION; v++) await MIGRATIONS[v]!(db, tx);
			};
			steps().catch((error: unknown) => {
				migrationError = error;
				try {
					tx.abort();
				} catch {
					// already finished or aborted
				}
			});
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
		if (migrationError !== undefined) {
			throw new CodedError('STORE_MIGRATION_FAILED', `ledger database "${name}" could not be upgraded to schema ${SCHEMA_VERSION}`, {
				cause: migrationError
			});
		}
		throw error;
	});
	opened = db;
	return db;
}
