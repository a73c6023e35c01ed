/**
 * Suites timing intrinsic validation: `receive` of a prepared multi-author workload into a
 * fresh node with each verifier (WebCrypto, Web Workers, noble) and store, its stages
 * alone, and the Yjs baseline of applying the same number of single-entry updates.
 */
import { MemoryStore, createWebCryptoVerifier, createWorkerVerifier, nobleVerifier, type Verifier } from '../../src/lib/core/index.js';
import { median } from '../lib/stats.js';
import { splitVerify, splitVerifyMedian, timeReceive, type Batching } from '../lib/verify.js';
import { buildVerifyWorkload, type VerifyWorkload } from '../lib/workload.js';
import { singleEntryUpdates, timeApplyUpdates } from '../lib/yjs-updates.js';
import { openIndexedDB } from './ledger-fixtures.js';
import { deleteDatabase, freshName, log } from './page-databases.js';
import { storeReport, timed } from './store-probe.js';

let workload: VerifyWorkload | undefined;
/** One pool for all runs: workers start once, as in the app. */
let workerPool: Verifier | undefined;
/** `default`: none given, so `Ledger.open` picks (the page's shared worker pool, as in the app). */
const verifiers: Record<string, () => Promise<Verifier | undefined>> = {
	default: async () => undefined,
	webcrypto: async () => createWebCryptoVerifier(crypto.subtle),
	workers: async () => workerPool ?? (workerPool = createWorkerVerifier(2)!),
	noble: async () => nobleVerifier
};

export const verifySuites = {
	async verifyPrepare({ count }: { count: number }) {
		const start = performance.now();
		workload = await buildVerifyWorkload(count, createWebCryptoVerifier(crypto.subtle), 250, (done) => {
			if (done % 2500 < 250) log(`verify workload: ${done}/${count} blocks`);
		});
		return { ms: performance.now() - start, blocks: workload.blocks.length, authors: workload.authors, digest: workload.digest };
	},

	/** `receive` of the whole workload into a fresh node, `runs` times, after a warm-up on a causally closed prefix. */
	async verifyLedger({
		verifier,
		store,
		runs,
		warmup,
		batching
	}: {
		verifier: string;
		/** `indexeddb-v2`: the released schema-2 store, the baseline of schema 3. */
		store: 'memory' | 'indexeddb' | 'indexeddb-v2';
		runs: number;
		warmup: number;
		batching?: Batching;
	}) {
		if (!workload) throw new Error('run verifyPrepare first');
		const engine = await verifiers[verifier]!();
		let probe: ReturnType<typeof timed> | undefined;
		const openStore = async () => {
			if (store === 'memory') return { store: new MemoryStore(), name: null };
			const name = freshName('verify');
			probe = timed(await openIndexedDB(name, 'strict', store === 'indexeddb' ? 3 : 2));
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
			samples.push(await timeReceive(workload.net, workload.blocks, engine, s, batching));
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
		if (!engine) throw new Error('verifySplit: name a verifier');
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
	}
};
