/**
 * Suites timing one append at a time: the ledger on IndexedDB (strict or relaxed), the Yjs
 * + y-indexeddb baseline, and the parts of one append timed alone.
 */
import { IndexedDBStore, Ledger, MemoryStore, createBlock, decodeBlock, type BlockId } from '../../src/lib/core/index.js';
import { fixedNow } from '../../src/lib/core/testing/fixtures.js';
import { median, percentile } from '../lib/stats.js';
import { noteEntry, noteTxs } from '../lib/workload.js';
import { founderSigner, foundOnIndexedDB, rowOf, signChain } from './ledger-fixtures.js';
import { deleteDatabase, freshName } from './page-databases.js';
import { snapshot, storeReport, timed } from './store-probe.js';
import { PersistedDoc } from './yjs-idb.js';

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

export const appendSuites = {
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
	}
};
