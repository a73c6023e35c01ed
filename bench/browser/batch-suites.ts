/**
 * Suites timing sustained `appendBatch` throughput against the Yjs + y-indexeddb baseline,
 * the parts of one batch alone, and one strict IndexedDB transaction under other layouts.
 */
import { IndexedDBStore, type BlockId, type StoredBlock } from '../../src/lib/core/index.js';
import { packSegment } from '../../src/lib/core/storage/segment.js';
import { median } from '../lib/stats.js';
import { noteEntry, noteTxs } from '../lib/workload.js';
import { IndexedDBStoreV2 } from '../../tests/browser/fixtures/indexeddb-v2.js';
import { founderSigner, foundOnIndexedDB, openIndexedDB, rowOf, signChain, type Schema } from './ledger-fixtures.js';
import { deleteDatabase, freshName, openRaw, writeRaw } from './page-databases.js';
import { snapshot, storeReport, timed } from './store-probe.js';
import { PersistedDoc } from './yjs-idb.js';

export const batchSuites = {
	/** Sustained `appendBatch` throughput: `total` entries in batches of `batch`, after one warm-up batch. */
	async batchLedger({
		total,
		batch,
		runs,
		durability,
		schema = 3
	}: {
		total: number;
		batch: number;
		runs: number;
		durability: 'strict' | 'relaxed';
		schema?: Schema;
	}) {
		const rates: number[] = [];
		const storeShare: number[] = [];
		let store = {};
		for (let r = 0; r < runs; r++) {
			const name = freshName(`batch-${durability}`);
			let probe: ReturnType<typeof timed> | undefined;
			const ledger = await foundOnIndexedDB(name, durability, (s) => (probe = timed(s)).store, schema);
			await ledger.appendBatch(Array.from({ length: batch }, (_, i) => noteTxs(i)));
			const before = snapshot(probe!.stats);
			const busyBefore = probe!.busy();
			const start = performance.now();
			for (let done = 0; done < total; done += batch) {
				await ledger.appendBatch(Array.from({ length: Math.min(batch, total - done) }, (_, i) => noteTxs(done + i)));
			}
			const ms = performance.now() - start;
			rates.push((total / ms) * 1000);
			storeShare.push((probe!.busy() - busyBefore) / ms);
			store = storeReport(probe!.stats, before);
			await ledger.close();
			await deleteDatabase(name);
		}
		return { perSecond: rates, median: median(rates), storeShare: median(storeShare), store };
	},

	/** Baseline: the same entries into a y-indexeddb doc, one Yjs transaction per batch, until committed. */
	async batchYjs({ total, batch, runs }: { total: number; batch: number; runs: number }) {
		const rates: number[] = [];
		let durability = '';
		for (let r = 0; r < runs; r++) {
			const name = freshName('batch-yjs');
			const doc = await PersistedDoc.open(name);
			const push = (from: number, n: number) =>
				doc.doc.transact(() => {
					for (let i = 0; i < n; i++) doc.entries.push([noteEntry(from + i)]);
				});
			push(0, batch);
			await doc.stored();
			const start = performance.now();
			for (let done = 0; done < total; done += batch) {
				push(batch + done, Math.min(batch, total - done));
				await doc.stored();
			}
			const ms = performance.now() - start;
			rates.push((total / ms) * 1000);
			durability = doc.durability;
			await doc.close();
			await deleteDatabase(name);
		}
		return { perSecond: rates, median: median(rates), durability };
	},

	/** The parts of one batch, timed alone: signing `batch` blocks, and committing their rows (schema 3, and schema 2 as the baseline). */
	async batchSplit({ batch, durability }: { batch: number; durability: 'strict' | 'relaxed' }) {
		const signer = await founderSigner();
		const net = '00'.repeat(32) as BlockId;
		await signChain(signer, net, batch); // warm-up
		const start = performance.now();
		const made = await signChain(signer, net, batch);
		const createBlocksMs = performance.now() - start;
		const warm = await signChain(signer, net, batch, batch);
		const commit = async (schema: Schema) => {
			const name = freshName(`batch-commit-${schema}`);
			const store = await openIndexedDB(name, durability, schema);
			await store.append(warm.map(({ block }) => rowOf(block)));
			const at = performance.now();
			await store.append(made.map(({ block }) => rowOf(block)));
			const ms = performance.now() - at;
			await store.close();
			await deleteDatabase(name);
			return ms;
		};
		const commitMs = await commit(3);
		const commitV2Ms = await commit(2);
		return { batch, createBlocksMs, commitMs, commitV2Ms };
	},

	/**
	 * What a strict IndexedDB transaction of `rows` block rows costs under other layouts:
	 * the ledger's (IndexedDBStore.append: one segment record indexed by its ids, its summary,
	 * heads), the released schema-2 store's (one record per block, two indexes, heads), raw
	 * rows with those two indexes, with only the chain index, with none, and all rows as one
	 * record with no index.
	 */
	async idbLayouts({ rows, reps }: { rows: number; reps: number }) {
		const signer = await founderSigner();
		const net = '00'.repeat(32) as BlockId;
		const all = (await signChain(signer, net, rows * (reps + 1))).map(({ block }) => rowOf(block));
		const batches = Array.from({ length: reps + 1 }, (_, i) => all.slice(i * rows, (i + 1) * rows));
		const layouts: Record<
			string,
			{ open: (name: string) => Promise<{ write: (batch: StoredBlock[]) => Promise<void>; close: () => void }> }
		> = {
			ledgerStore: {
				open: async (name) => {
					const store = await IndexedDBStore.open(name, { durability: 'strict' });
					return { write: (batch) => store.append(batch), close: () => void store.close() };
				}
			},
			schema2Store: {
				open: async (name) => {
					const store = await IndexedDBStoreV2.open(name, { durability: 'strict' });
					return { write: (batch) => store.append(batch), close: () => void store.close() };
				}
			},
			noIndex: {
				open: async (name) => {
					const db = await openRaw(name, (d) => d.createObjectStore('blocks', { keyPath: 'id' }));
					return { write: (batch) => writeRaw(db, (s) => batch.forEach((row) => s.add(row))), close: () => db.close() };
				}
			},
			chainIndexOnly: {
				open: async (name) => {
					const db = await openRaw(name, (d) =>
						d.createObjectStore('blocks', { keyPath: 'id' }).createIndex('chain', ['author', 'seq'], { unique: true })
					);
					return { write: (batch) => writeRaw(db, (s) => batch.forEach((row) => s.add(row))), close: () => db.close() };
				}
			},
			twoIndexes: {
				open: async (name) => {
					const db = await openRaw(name, (d) => {
						const store = d.createObjectStore('blocks', { keyPath: 'id' });
						store.createIndex('chain', ['author', 'seq'], { unique: true });
						store.createIndex('order', ['clock', 'id'], { unique: true });
					});
					return { write: (batch) => writeRaw(db, (s) => batch.forEach((row) => s.add(row))), close: () => db.close() };
				}
			},
			// Schema 3's segment record alone (segment.ts), to split the ledger store's cost: no index, byId unique (the store's), byId not unique.
			segmentNoIndex: {
				open: async (name) => {
					const db = await openRaw(name, (d) => d.createObjectStore('blocks', { autoIncrement: true }));
					return { write: (batch) => writeRaw(db, (s) => void s.add(packSegment(batch).record)), close: () => db.close() };
				}
			},
			segmentById: {
				open: async (name) => {
					const db = await openRaw(name, (d) =>
						d.createObjectStore('blocks', { autoIncrement: true }).createIndex('byId', 'ids', { unique: true, multiEntry: true })
					);
					return { write: (batch) => writeRaw(db, (s) => void s.add(packSegment(batch).record)), close: () => db.close() };
				}
			},
			segmentByIdNotUnique: {
				open: async (name) => {
					const db = await openRaw(name, (d) =>
						d.createObjectStore('blocks', { autoIncrement: true }).createIndex('byId', 'ids', { unique: false, multiEntry: true })
					);
					return { write: (batch) => writeRaw(db, (s) => void s.add(packSegment(batch).record)), close: () => db.close() };
				}
			},
			oneRecordPerBatch: {
				open: async (name) => {
					const db = await openRaw(name, (d) => d.createObjectStore('blocks', { autoIncrement: true }));
					return { write: (batch) => writeRaw(db, (s) => void s.add(batch)), close: () => db.close() };
				}
			}
		};
		const out: Record<string, number> = {};
		for (const [label, layout] of Object.entries(layouts)) {
			const name = freshName(`layout-${label}`);
			const { write, close } = await layout.open(name);
			await write(batches[0]!);
			const samples: number[] = [];
			for (const batch of batches.slice(1)) {
				const start = performance.now();
				await write(batch);
				samples.push(performance.now() - start);
			}
			close();
			await deleteDatabase(name);
			out[label] = median(samples);
		}
		return { rows, ...out };
	},

	/**
	 * Migration 2 -> 3: `count` rows (5 authors, 300 bytes each, clocks in append order)
	 * written by the released schema-2 store in batches of 500, then the time of the first
	 * `IndexedDBStore.open` (the upgrade copies every block into segments), and of a second
	 * open for comparison.
	 */
	async migrateV2({ count }: { count: number }) {
		const name = freshName('migrate');
		const old = await IndexedDBStoreV2.open(name, { durability: 'relaxed' });
		const hex = (n: number) => n.toString(16).padStart(64, '0');
		for (let from = 0; from < count; from += 500) {
			const rows: StoredBlock[] = [];
			for (let i = from; i < Math.min(count, from + 500); i++) {
				const a = i % 5;
				const seq = Math.floor(i / 5);
				const bytes = new Uint8Array(300).fill(i & 255);
				rows.push({ id: hex(i + 1) as BlockId, author: hex(a) as StoredBlock['author'], seq, clock: i, bytes, vv: [a, seq] });
			}
			await old.append(rows);
		}
		await old.close();
		let start = performance.now();
		const migrated = await IndexedDBStore.open(name);
		const migrateMs = performance.now() - start;
		const stored = await migrated.count();
		await migrated.close();
		start = performance.now();
		const again = await IndexedDBStore.open(name);
		const reopenMs = performance.now() - start;
		await again.close();
		await deleteDatabase(name);
		return { count, stored, migrateMs, reopenMs };
	}
};
