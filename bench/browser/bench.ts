/**
 * Benchmarks that run inside Chromium, against real IndexedDB and WebCrypto. `bench/run.js`
 * opens this page and calls `window.runBench(name, params)` once per suite; each suite
 * returns plain numbers (milliseconds, unless the field says otherwise).
 */
import {
	IndexedDBStore,
	Ledger,
	MemoryStore,
	createBlock,
	createSigner,
	createWebCryptoVerifier,
	createWorkerVerifier,
	decodeBlock,
	detectVerifier,
	nobleVerifier,
	type BlockId,
	type LedgerStore,
	type Signer,
	type StoredBlock,
	type Verifier
} from '../../src/lib/core/index.js';
import { fixedNow, testSecret } from '../../src/lib/core/testing/fixtures.js';
import { median, percentile } from '../lib/stats.js';
import { splitVerify, splitVerifyMedian, timeReceive } from '../lib/verify.js';
import { buildVerifyWorkload, noteEntry, noteTxs, type VerifyWorkload } from '../lib/workload.js';
import { singleEntryUpdates, timeApplyUpdates } from '../lib/yjs-updates.js';
import { PersistedDoc, timeOpen } from './yjs-idb.js';

const run = Date.now().toString(36);
let databases = 0;
const created: string[] = [];

/** A database name not used before in this browser profile. */
function freshName(label: string): string {
	const name = `bench-${run}-${databases++}-${label}`;
	created.push(name);
	return name;
}

function deleteDatabase(name: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const request = indexedDB.deleteDatabase(name);
		request.onsuccess = () => resolve();
		request.onerror = () => reject(request.error);
	});
}

function log(message: string): void {
	console.error(`[page] ${message}`);
}

function distribution(samples: number[]) {
	return {
		count: samples.length,
		p50: percentile(samples, 50),
		p95: percentile(samples, 95),
		min: Math.min(...samples),
		max: Math.max(...samples),
		mean: samples.reduce((a, b) => a + b, 0) / samples.length
	};
}

const founderSigner = (): Promise<Signer> => createSigner(testSecret('founder'));

/** Calls to one store method: how many, and the wall time during which at least one was in flight. */
interface MethodStats {
	calls: number;
	busyMs: number;
	lastMs: number;
}

/**
 * `store` with every call timed from the ledger's side, to split a ledger operation into
 * store time and the rest without touching the core.
 */
function timed(store: LedgerStore): { store: LedgerStore; stats: Map<string, MethodStats>; busy: () => number } {
	const stats = new Map<string, MethodStats & { inFlight: number; since: number }>();
	let inFlight = 0;
	let since = 0;
	let busyTotal = 0;
	const proxy = new Proxy(store, {
		get(target, property, receiver) {
			const value = Reflect.get(target, property, receiver);
			if (typeof value !== 'function') return value;
			return (...args: unknown[]) => {
				const key = String(property);
				const s = stats.get(key) ?? { calls: 0, busyMs: 0, lastMs: 0, inFlight: 0, since: 0 };
				stats.set(key, s);
				const start = performance.now();
				if (s.inFlight++ === 0) s.since = start;
				if (inFlight++ === 0) since = start;
				s.calls++;
				const done = () => {
					const end = performance.now();
					s.lastMs = end - start;
					if (--s.inFlight === 0) s.busyMs += end - s.since;
					if (--inFlight === 0) busyTotal += end - since;
				};
				const result = value.apply(target, args);
				if (result instanceof Promise) return result.finally(done);
				done();
				return result;
			};
		}
	});
	return { store: proxy, stats, busy: () => busyTotal };
}

/** Store time per method since `before` (a copy of earlier stats), for the report. */
function storeReport(stats: Map<string, MethodStats>, before = new Map<string, MethodStats>()) {
	return Object.fromEntries(
		[...stats].map(([key, s]) => [
			key,
			{ calls: s.calls - (before.get(key)?.calls ?? 0), busyMs: s.busyMs - (before.get(key)?.busyMs ?? 0) }
		])
	);
}

const snapshot = (stats: Map<string, MethodStats>) => new Map([...stats].map(([k, s]) => [k, { ...s }]));

async function foundOnIndexedDB(name: string, durability: 'strict' | 'relaxed', wrap: (store: LedgerStore) => LedgerStore = (s) => s) {
	const store = wrap(await IndexedDBStore.open(name, { durability }));
	return Ledger.create({ store, signer: await founderSigner(), genesis: { name: 'Bench Clinic' } });
}

/** A stored row for `block` as the ledger would write it (single author: vv is [0, seq]). */
function rowOf(block: { id: BlockId; author: StoredBlock['author']; seq: number; clock: number; bytes: Uint8Array }): StoredBlock {
	return { id: block.id, author: block.author, seq: block.seq, clock: block.clock, bytes: block.bytes, vv: [0, block.seq] };
}

/** `count` signed blocks of one chain, made the way appendBatch makes them (no store involved). */
async function signChain(signer: Signer, net: BlockId, count: number, from = 0) {
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

/**
 * Median milliseconds of one plain IndexedDB transaction putting a 250-byte value, for
 * each durability hint: tells what 'default' (what y-indexeddb uses) means in this browser.
 */
async function rawCommits(count: number): Promise<Record<string, number>> {
	const out: Record<string, number> = {};
	for (const durability of ['default', 'strict', 'relaxed'] as const) {
		const name = freshName(`raw-${durability}`);
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const request = indexedDB.open(name, 1);
			request.onupgradeneeded = () => request.result.createObjectStore('values', { autoIncrement: true });
			request.onsuccess = () => resolve(request.result);
			request.onerror = () => reject(request.error);
		});
		const samples: number[] = [];
		for (let i = 0; i < count + 20; i++) {
			const start = performance.now();
			await new Promise<void>((resolve, reject) => {
				const tx = db.transaction('values', 'readwrite', { durability });
				tx.objectStore('values').add(new Uint8Array(250));
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
			});
			if (i >= 20) samples.push(performance.now() - start);
		}
		db.close();
		await deleteDatabase(name);
		out[durability] = median(samples);
	}
	return out;
}

function openRaw(name: string, setup: (db: IDBDatabase) => void): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const request = indexedDB.open(name, 1);
		request.onupgradeneeded = () => setup(request.result);
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error);
	});
}

function writeRaw(db: IDBDatabase, write: (store: IDBObjectStore) => void): Promise<void> {
	return new Promise((resolve, reject) => {
		const tx = db.transaction('blocks', 'readwrite', { durability: 'strict' });
		write(tx.objectStore('blocks'));
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
}

let workload: VerifyWorkload | undefined;
/** One pool for all runs: workers start once, as in the app. */
let workerPool: Verifier | undefined;
const verifiers: Record<string, () => Promise<Verifier>> = {
	webcrypto: async () => createWebCryptoVerifier(crypto.subtle),
	workers: async () => workerPool ?? (workerPool = createWorkerVerifier(2)!),
	noble: async () => nobleVerifier
};

const suites = {
	async info() {
		return {
			userAgent: navigator.userAgent,
			hardwareConcurrency: navigator.hardwareConcurrency,
			crossOriginIsolated: globalThis.crossOriginIsolated,
			detectedVerifier: (await detectVerifier()).name
		};
	},

	/** One `ledger.append` at a time on IndexedDB: latency until the block is durable. */
	async appendLedger({ count, warmup, durability }: { count: number; warmup: number; durability: 'strict' | 'relaxed' }) {
		const name = freshName(`append-${durability}`);
		let probe: ReturnType<typeof timed> | undefined;
		const ledger = await foundOnIndexedDB(name, durability, (store) => (probe = timed(store)).store);
		const samples: number[] = [];
		const storeAppend: number[] = [];
		let before = snapshot(probe!.stats);
		for (let i = 0; i < warmup + count; i++) {
			if (i === warmup) before = snapshot(probe!.stats);
			const start = performance.now();
			await ledger.append(noteTxs(i));
			const ms = performance.now() - start;
			if (i >= warmup) {
				samples.push(ms);
				storeAppend.push(probe!.stats.get('append')!.lastMs);
			}
		}
		const store = storeReport(probe!.stats, before);
		await ledger.close();
		await deleteDatabase(name);
		return { ...distribution(samples), storeAppendP50: median(storeAppend), store };
	},

	/** The baseline: one entry pushed at a time into a y-indexeddb doc, until its update is committed. */
	async appendYjs({ count, warmup }: { count: number; warmup: number }) {
		const name = freshName('append-yjs');
		const doc = await PersistedDoc.open(name);
		const samples: number[] = [];
		for (let i = 0; i < warmup + count; i++) {
			const start = performance.now();
			doc.entries.push([noteEntry(i)]);
			const writes = await doc.stored();
			const ms = performance.now() - start;
			if (writes !== 1) throw new Error(`expected one y-indexeddb write per push, saw ${writes}`);
			if (i >= warmup) samples.push(ms);
		}
		const durability = doc.durability;
		await doc.close();
		await deleteDatabase(name);
		return { ...distribution(samples), durability };
	},

	/**
	 * The parts of one append, timed alone: making the block (encode, hash, WebCrypto sign,
	 * wrapper encode, decode-back check), the signature alone, the decode-back alone, and
	 * one IndexedDB commit of a single block row in each durability mode.
	 */
	async appendSplit({ count }: { count: number }) {
		const signer = await founderSigner();
		const net = '00'.repeat(32) as BlockId;
		const made = await signChain(signer, net, 50); // warm-up
		const createMs: number[] = [];
		for (let i = 0; i < count; i++) {
			const start = performance.now();
			await createBlock(signer, { net, seq: 1 + i, prev: made[0]!.id, deps: [], clock: 1 + i, time: fixedNow(), txs: noteTxs(i) });
			createMs.push(performance.now() - start);
		}
		const signMs: number[] = [];
		const message = new Uint8Array(32);
		for (let i = 0; i < count; i++) {
			message[0] = i & 255;
			const start = performance.now();
			await signer.sign(message);
			signMs.push(performance.now() - start);
		}
		const decodeMs: number[] = [];
		for (let i = 0; i < count; i++) {
			const start = performance.now();
			decodeBlock(made[i % made.length]!.bytes);
			decodeMs.push(performance.now() - start);
		}
		const chain = await signChain(signer, net, count + 20);
		const commit: Record<string, number> = {};
		let storedBufferBytes = 0;
		for (const durability of ['strict', 'relaxed'] as const) {
			const name = freshName(`commit-${durability}`);
			const store = await IndexedDBStore.open(name, { durability });
			const samples: number[] = [];
			for (const [i, { block }] of chain.slice(0, count + 20).entries()) {
				const start = performance.now();
				await store.append([rowOf(block)]);
				if (i >= 20) samples.push(performance.now() - start);
			}
			// Structured clone stores a view's whole ArrayBuffer: check rows are stored compactly.
			storedBufferBytes = (await store.get(chain[0]!.id))!.bytes.buffer.byteLength;
			await store.close();
			await deleteDatabase(name);
			commit[durability] = median(samples);
		}
		// The part of an append that is not IndexedDB: the same appends on a memory store.
		const memory = await Ledger.create({ store: new MemoryStore(), signer, genesis: { name: 'Bench Clinic' } });
		const memoryMs: number[] = [];
		for (let i = 0; i < count + 50; i++) {
			const start = performance.now();
			await memory.append(noteTxs(i));
			if (i >= 50) memoryMs.push(performance.now() - start);
		}
		await memory.close();
		return {
			createBlockMs: median(createMs),
			signMs: median(signMs),
			decodeBlockMs: median(decodeMs),
			memoryAppendMs: median(memoryMs),
			commitStrictMs: commit.strict!,
			commitRelaxedMs: commit.relaxed!,
			blockBytes: chain[0]!.bytes.length,
			blockBufferBytes: chain[0]!.bytes.buffer.byteLength,
			storedBufferBytes,
			rawCommitMs: await rawCommits(count)
		};
	},

	/** Sustained `appendBatch` throughput: `total` entries in batches of `batch`, after one warm-up batch. */
	async batchLedger({ total, batch, runs, durability }: { total: number; batch: number; runs: number; durability: 'strict' | 'relaxed' }) {
		const rates: number[] = [];
		const storeShare: number[] = [];
		let store = {};
		for (let r = 0; r < runs; r++) {
			const name = freshName(`batch-${durability}`);
			let probe: ReturnType<typeof timed> | undefined;
			const ledger = await foundOnIndexedDB(name, durability, (s) => (probe = timed(s)).store);
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

	/** The parts of one batch, timed alone: signing `batch` blocks, and committing their rows. */
	async batchSplit({ batch, durability }: { batch: number; durability: 'strict' | 'relaxed' }) {
		const signer = await founderSigner();
		const net = '00'.repeat(32) as BlockId;
		await signChain(signer, net, batch); // warm-up
		let start = performance.now();
		const made = await signChain(signer, net, batch);
		const createBlocksMs = performance.now() - start;
		const name = freshName('batch-commit');
		const store = await IndexedDBStore.open(name, { durability });
		const warm = await signChain(signer, net, batch, batch);
		await store.append(warm.map(({ block }) => rowOf(block)));
		start = performance.now();
		await store.append(made.map(({ block }) => rowOf(block)));
		const commitMs = performance.now() - start;
		await store.close();
		await deleteDatabase(name);
		return { batch, createBlocksMs, commitMs };
	},

	/**
	 * What a strict IndexedDB transaction of `rows` block rows costs under other layouts:
	 * the ledger's (IndexedDBStore.append: blocks with two indexes, plus heads), the same
	 * rows with no index, with only the chain index, and all rows as one record.
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

	async verifyPrepare({ count }: { count: number }) {
		const start = performance.now();
		workload = await buildVerifyWorkload(count, createWebCryptoVerifier(crypto.subtle), 250, (done) => {
			if (done % 2500 < 250) log(`verify workload: ${done}/${count} blocks`);
		});
		return { ms: performance.now() - start, blocks: workload.blocks.length, authors: workload.authors, digest: workload.digest };
	},

	/** `receive` of the whole workload into a fresh node, `runs` times, after a warm-up on a causally closed prefix. */
	async verifyLedger({ verifier, store, runs, warmup }: { verifier: string; store: 'memory' | 'indexeddb'; runs: number; warmup: number }) {
		if (!workload) throw new Error('run verifyPrepare first');
		const engine = await verifiers[verifier]!();
		let probe: ReturnType<typeof timed> | undefined;
		const openStore = async () => {
			if (store === 'memory') return { store: new MemoryStore(), name: null };
			const name = freshName('verify');
			probe = timed(await IndexedDBStore.open(name));
			return { store: probe.store, name };
		};
		const drop = async (name: string | null) => {
			if (name) await deleteDatabase(name);
		};
		{
			const { store: s, name } = await openStore();
			await timeReceive(workload.net, workload.ordered.slice(0, warmup), engine, s);
			await drop(name);
		}
		const samples: number[] = [];
		const stores: ReturnType<typeof storeReport>[] = [];
		for (let r = 0; r < runs; r++) {
			const { store: s, name } = await openStore();
			samples.push(await timeReceive(workload.net, workload.blocks, engine, s));
			if (probe) stores.push(storeReport(probe.stats));
			await drop(name);
		}
		const ms = median(samples);
		const medianRun = samples.indexOf(ms);
		return {
			samplesMs: samples,
			ms,
			perSecond: (workload.blocks.length / ms) * 1000,
			...(stores.length ? { store: stores[medianRun] } : {})
		};
	},

	/** Stage-by-stage timings of intrinsic validation, each stage alone over the whole workload. */
	async verifySplit({ verifier, repeat }: { verifier: string; repeat: number }) {
		if (!workload) throw new Error('run verifyPrepare first');
		const engine = await verifiers[verifier]!();
		await splitVerify(workload.ordered.slice(0, 500), engine); // warm-up
		return { ...(await splitVerifyMedian(workload.blocks, engine, repeat)), blocks: workload.blocks.length };
	},

	/** Baseline: `Y.applyUpdate` of one update per entry into a fresh doc. */
	async yjsApply({ count, runs }: { count: number; runs: number }) {
		const updates = singleEntryUpdates(count);
		for (let i = 0; i < 3; i++) timeApplyUpdates(updates); // warm-up: JIT tiers settle after a few passes
		const samples: number[] = [];
		for (let r = 0; r < runs; r++) samples.push(timeApplyUpdates(updates));
		const ms = median(samples);
		return { samplesMs: samples, ms, perSecond: (count / ms) * 1000 };
	},

	/** Builds a single-author ledger of `count` blocks on IndexedDB (relaxed: it is only a fixture), then closes it. */
	async openBuild({ count, batch }: { count: number; batch: number }) {
		const name = freshName('open');
		const start = performance.now();
		const ledger = await foundOnIndexedDB(name, 'relaxed');
		// Blocks per second over each tenth of the build: does appending slow down as the store grows?
		const tenth = Math.max(batch, Math.round(count / 10 / batch) * batch);
		const rates: number[] = [];
		let mark = performance.now();
		let marked = ledger.size;
		for (let done = 1; done < count; done += batch) {
			await ledger.appendBatch(Array.from({ length: Math.min(batch, count - done) }, (_, i) => noteTxs(done + i)));
			if (ledger.size - marked >= tenth || ledger.size === count) {
				const now = performance.now();
				rates.push(((ledger.size - marked) / (now - mark)) * 1000);
				log(
					`ledger fixture: ${ledger.size}/${count} blocks, ${((now - start) / 1000).toFixed(1)} s, ${Math.round(rates.at(-1)!)} blocks/s lately`
				);
				mark = now;
				marked = ledger.size;
			}
		}
		const size = ledger.size;
		await ledger.close();
		return { name, blocks: size, ms: performance.now() - start, ratesPerTenth: rates };
	},

	/** Opening the built ledger until `state()` and `heads()` answer, `runs` times. */
	async openLedger({ name, runs, blocks }: { name: string; runs: number; blocks: number }) {
		const samples: number[] = [];
		const storeMs: number[] = [];
		for (let r = 0; r < runs; r++) {
			const start = performance.now();
			const store = await IndexedDBStore.open(name);
			const opened = performance.now();
			const ledger = await Ledger.open({ store });
			const summary = ledger.state().summary as { blocks: number };
			const heads = ledger.heads();
			const ms = performance.now() - start;
			if (summary.blocks !== blocks || heads.length !== 1)
				throw new Error(`opened ledger folds ${summary.blocks} blocks, ${heads.length} heads`);
			samples.push(ms);
			storeMs.push(opened - start);
			await ledger.close();
		}
		return { samplesMs: samples, ms: median(samples), indexedDBOpenMs: median(storeMs), first: samples[0]! };
	},

	async yjsOpenBuild({ count, batch }: { count: number; batch: number }) {
		const name = freshName('open-yjs');
		const start = performance.now();
		const doc = await PersistedDoc.open(name);
		for (let done = 0; done < count; done += batch) {
			doc.doc.transact(() => {
				for (let i = done; i < Math.min(count, done + batch); i++) doc.entries.push([noteEntry(i)]);
			});
			await doc.stored();
		}
		await doc.close();
		return { name, ms: performance.now() - start };
	},

	async yjsOpen({ name, runs, entries }: { name: string; runs: number; entries: number }) {
		const samples: number[] = [];
		for (let r = 0; r < runs; r++) samples.push(await timeOpen(name, entries));
		return { samplesMs: samples, ms: median(samples), first: samples[0]! };
	},

	async cleanup() {
		for (const name of created.splice(0)) await deleteDatabase(name);
		return { ok: true };
	}
};

export type SuiteName = keyof typeof suites;

declare global {
	interface Window {
		runBench(name: string, params?: unknown): Promise<unknown>;
	}
}

window.runBench = async (name, params = {}) => {
	const suite = (suites as Record<string, (p: unknown) => Promise<unknown>>)[name];
	if (!suite) throw new Error(`unknown suite ${name}`);
	return suite(params);
};
document.title = 'bench ready';
