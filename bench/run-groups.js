// The measured groups of bench/run.js. Each step goes through `step(key, label, work)`,
// which logs the label and keeps the result under `results.raw[key]` (a failure is
// recorded and the run goes on).
//
//   append, batch, verify  suites of bench/browser/bench.ts in one page (`inPage`)
//   pages                  fold pages read by row (page-row-suites.ts): one page per row against rows of 4, 16, 64
//   node                   bench/node/verify-node.ts loaded into Node by Vite's ssrLoadModule
//   open                   fixtures built in a browser profile on disk, then opened in
//                          the same page and in freshly restarted browsers
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBenchPage } from './harness.js';

/** The groups that run in the one benchmark page (and `node`, which needs the dev server). */
export async function runPageGroups({ inPage, server, sizes: SIZES, step, wanted }) {
	if (wanted('append')) {
		const p = { count: SIZES.append, warmup: SIZES.appendWarmup };
		await step('appendStrict', `append: ${p.count} single appends, IndexedDB strict`, () =>
			inPage('appendLedger', { ...p, durability: 'strict' })
		);
		await step('appendRelaxed', `append: ${p.count} single appends, IndexedDB relaxed`, () =>
			inPage('appendLedger', { ...p, durability: 'relaxed' })
		);
		await step('appendYjs', `append: ${p.count} single pushes, Yjs + y-indexeddb`, () => inPage('appendYjs', p));
		await step('appendSplit', 'append: parts of one append timed alone', () => inPage('appendSplit', { count: SIZES.split }));
	}

	if (wanted('batch')) {
		const p = { total: SIZES.batchTotal, batch: SIZES.batch, runs: SIZES.batchRuns };
		await step('batchStrict', `batch: ${p.total} entries in appendBatch(${p.batch}) x ${p.runs} runs, strict`, () =>
			inPage('batchLedger', { ...p, durability: 'strict' })
		);
		await step('batchStrictV2', `batch: same, strict, into the released schema-2 store (one record per block)`, () =>
			inPage('batchLedger', { ...p, durability: 'strict', schema: 2 })
		);
		await step('batchRelaxed', `batch: same, relaxed`, () => inPage('batchLedger', { ...p, durability: 'relaxed' }));
		await step('batchYjs', `batch: ${p.total} entries into Yjs + y-indexeddb, ${p.batch} per transaction`, () => inPage('batchYjs', p));
		await step('batchSplit', 'batch: parts of one batch timed alone', () =>
			inPage('batchSplit', { batch: SIZES.batch, durability: 'strict' })
		);
		await step('migrateV2', `batch: migration 2 -> 3 of ${SIZES.batchTotal * 2} blocks written by the schema-2 store`, () =>
			inPage('migrateV2', { count: SIZES.batchTotal * 2 })
		);
		await step('idbLayouts', `batch: one strict IndexedDB transaction of ${SIZES.batch} rows under other layouts`, () =>
			inPage('idbLayouts', { rows: SIZES.batch, reps: SIZES.layoutReps })
		);
	}

	if (wanted('verify')) {
		const prepared = await step('verifyPrepare', `verify: preparing ${SIZES.verify} blocks from 4 authors in the page`, () =>
			inPage('verifyPrepare', { count: SIZES.verify })
		);
		if (prepared) {
			const p = { runs: SIZES.verifyRuns, warmup: SIZES.verifyWarmup };
			await step('verifyWebCrypto', 'verify: receive() into a fresh node, WebCrypto, memory store', () =>
				inPage('verifyLedger', { ...p, verifier: 'webcrypto', store: 'memory' })
			);
			await step('verifyWorkers', 'verify: receive() into a fresh node, WebCrypto in 2 Web Workers, memory store', () =>
				inPage('verifyLedger', { ...p, verifier: 'workers', store: 'memory' })
			);
			await step('verifyWebCryptoIdb', 'verify: receive() into a fresh node, WebCrypto, IndexedDB store', () =>
				inPage('verifyLedger', { ...p, verifier: 'webcrypto', store: 'indexeddb' })
			);
			// What a sync session does: batches of 500, handed over as they come.
			const synced = { size: 500 };
			await step(
				'receiveIdb',
				`verify: receive() in batches of 500, 2 in flight, the ledger's own verifier (worker pool), IndexedDB store`,
				() => inPage('verifyLedger', { ...p, verifier: 'default', store: 'indexeddb', batching: { ...synced, depth: 2 } })
			);
			await step(
				'receiveIdbV2',
				`verify: the same, into the released schema-2 IndexedDB store (one record per block): the storage layout's share`,
				() => inPage('verifyLedger', { ...p, verifier: 'default', store: 'indexeddb-v2', batching: { ...synced, depth: 2 } })
			);
			await step(
				'receiveIdbBefore',
				'verify: receive() in batches of 500, one at a time, WebCrypto on the page, schema-2 IndexedDB store (the release before issue 19)',
				() => inPage('verifyLedger', { ...p, verifier: 'webcrypto', store: 'indexeddb-v2', batching: { ...synced, depth: 1 } })
			);
			await step('verifyNoble', 'verify: receive() into a fresh node, noble, memory store', () =>
				inPage('verifyLedger', { ...p, runs: SIZES.nobleRuns, verifier: 'noble', store: 'memory' })
			);
			await step('verifySplitWebCrypto', 'verify: stage timings, WebCrypto', () =>
				inPage('verifySplit', { verifier: 'webcrypto', repeat: 3 })
			);
			await step('verifySplitNoble', 'verify: stage timings, noble', () => inPage('verifySplit', { verifier: 'noble', repeat: 1 }));
		}
		await step('yjsApply', `verify baseline: Y.applyUpdate of ${SIZES.verify} single-entry updates`, () =>
			inPage('yjsApply', { count: SIZES.verify, runs: 5 })
		);
	}

	if (wanted('pages')) {
		const p = { pages: SIZES.pages, bytes: 6_500, groupings: [1, 4, 16, 64], runs: SIZES.pageRuns };
		await step(
			'pageRows',
			`pages: every page of ${p.pages} patients (${p.bytes} bytes each) read from IndexedDB, 1/4/16/64 pages per row`,
			() => inPage('pageRows', p, 600_000)
		);
	}

	if (wanted('node')) {
		await step('node', `node: receive() of ${SIZES.verify} blocks with node:crypto`, async () => {
			const module = await server.ssrLoadModule('/bench/node/verify-node.ts');
			return module.runNodeVerify({ count: SIZES.verify, runs: SIZES.verifyRuns, warmup: SIZES.verifyWarmup, yjsRuns: 5 });
		});
	}
}

/**
 * The `open` group: its own browser profile on disk, so the fixtures survive a browser
 * restart and the opens can be timed in a fresh browser process (nothing of the database
 * cached in it).
 */
export async function runOpenGroup({ url, sizes: SIZES, step }) {
	const profile = mkdtempSync(join(tmpdir(), 'clinic-ledger-bench-'));
	try {
		const builder = await openBenchPage(url, { userDataDir: profile });
		let built;
		let yjsBuilt;
		try {
			built = await step('openBuild', `open: building a ${SIZES.open}-block ledger in IndexedDB (progress below)`, () =>
				builder.inPage('openBuild', { count: SIZES.open, batch: SIZES.openBatch }, 900_000)
			);
			yjsBuilt = await step('yjsOpenBuild', `open: building a ${SIZES.open}-entry Yjs doc in y-indexeddb`, () =>
				builder.inPage('yjsOpenBuild', { count: SIZES.open, batch: SIZES.openBatch }, 900_000)
			);
			// Let IndexedDB's background compaction of the fresh data settle before timing opens.
			await new Promise((resolve) => setTimeout(resolve, 3_000));
			if (built)
				await step('openLedgerWarm', `open: IndexedDBStore.open + Ledger.open x ${SIZES.openRuns} in the same page`, () =>
					builder.inPage('openLedger', { name: built.name, runs: SIZES.openRuns, blocks: SIZES.open })
				);
			if (yjsBuilt)
				await step('yjsOpenWarm', `open: y-indexeddb until synced x ${SIZES.openRuns} in the same page`, () =>
					builder.inPage('yjsOpen', { name: yjsBuilt.name, runs: SIZES.openRuns, entries: SIZES.open })
				);
		} finally {
			await builder.close();
		}
		/** The first open in a freshly started browser on the same profile, `runs` times. */
		const coldOpens = async (suite, params) => {
			const runs = [];
			for (let i = 0; i < SIZES.coldRuns; i++) {
				const fresh = await openBenchPage(url, { userDataDir: profile });
				try {
					runs.push(await fresh.inPage(suite, { ...params, runs: 1 }));
				} finally {
					await fresh.close();
				}
			}
			const mid = (pick) => [...runs.map(pick)].sort((a, b) => a - b)[(runs.length - 1) >> 1];
			return {
				samplesMs: runs.map((run) => run.ms),
				ms: mid((run) => run.ms),
				...(runs[0].indexedDBOpenMs !== undefined ? { indexedDBOpenMs: mid((run) => run.indexedDBOpenMs) } : {})
			};
		};
		if (built)
			await step('openLedger', `open: first Ledger.open in a restarted browser x ${SIZES.coldRuns}`, () =>
				coldOpens('openLedger', { name: built.name, blocks: SIZES.open })
			);
		if (yjsBuilt)
			await step('yjsOpen', `open: first y-indexeddb open in a restarted browser x ${SIZES.coldRuns}`, () =>
				coldOpens('yjsOpen', { name: yjsBuilt.name, entries: SIZES.open })
			);
	} finally {
		rmSync(profile, { recursive: true, force: true });
	}
}
