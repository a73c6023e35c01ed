// `npm run bench`: the ledger's performance against its goals and against a plain Yjs +
// y-indexeddb baseline. Starts a Vite dev server (TypeScript from src/lib/core transformed
// on the fly), drives Debian's Chromium through playwright-core for everything that needs
// real IndexedDB and WebCrypto, loads the same modules into Node through `ssrLoadModule`
// for the node:crypto figures, then prints a table and one JSON line per metric.
//
//   npm run bench                   full sizes (about 3-5 minutes on 2 cores)
//   npm run bench -- --quick        small sizes, for checking the harness
//   npm run bench -- --only=append,verify   a subset of groups (append, batch, verify, node, open)
//
// What each metric measures: docs/benchmarks.md. Raw results: bench/results/latest.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBenchPage, startServer } from './harness.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
const GROUPS = ['append', 'batch', 'verify', 'node', 'open'];
for (const g of only ?? []) if (!GROUPS.includes(g)) throw new Error(`--only: unknown group ${g} (groups: ${GROUPS.join(', ')})`);
const wanted = (group) => !only || only.has(group);

const SIZES = quick
	? {
			append: 200,
			appendWarmup: 20,
			split: 100,
			batchTotal: 2_000,
			batch: 500,
			batchRuns: 1,
			verify: 2_000,
			verifyWarmup: 300,
			verifyRuns: 1,
			nobleRuns: 1,
			open: 10_000,
			openBatch: 2_000,
			openRuns: 3,
			coldRuns: 2,
			layoutReps: 3
		}
	: {
			append: 1_000,
			appendWarmup: 50,
			split: 300,
			batchTotal: 10_000,
			batch: 500,
			batchRuns: 3,
			verify: 10_000,
			verifyWarmup: 1_000,
			verifyRuns: 3,
			nobleRuns: 1,
			open: 100_000,
			openBatch: 2_000,
			openRuns: 5,
			coldRuns: 3,
			layoutReps: 9
		};

const started = performance.now();
const log = (message) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);

const { server, url } = await startServer();
log(`vite dev server on ${url}`);

/** @type {(() => Promise<void>) | undefined} */
let closeBrowser;
/** @type {(name: string, params?: unknown, timeoutMs?: number) => Promise<any>} */
let inPage;
const results = { quick, sizes: SIZES, startedAt: new Date().toISOString(), env: {}, raw: {}, errors: [] };

/** Runs one step, keeping its result under `results.raw[key]`; a failure is recorded and the run goes on. */
async function step(key, label, work) {
	log(label);
	try {
		const value = await work();
		results.raw[key] = value;
		return value;
	} catch (error) {
		log(`FAILED ${key}: ${error.stack ?? error}`);
		results.errors.push({ step: key, error: String(error.message ?? error) });
		return undefined;
	}
}

try {
	const main = await openBenchPage(url);
	({ inPage } = main);
	closeBrowser = main.close;
	results.env = {
		...(await inPage('info')),
		node: process.version,
		chromium: main.version,
		cpus: cpus().length,
		loadStart: loadavg()[0]
	};
	log(
		`Chromium ${results.env.chromium}, ${results.env.cpus} cores, verifier detected in the page: ${results.env.detectedVerifier}, crossOriginIsolated: ${results.env.crossOriginIsolated}`
	);

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
		await step('batchRelaxed', `batch: same, relaxed`, () => inPage('batchLedger', { ...p, durability: 'relaxed' }));
		await step('batchYjs', `batch: ${p.total} entries into Yjs + y-indexeddb, ${p.batch} per transaction`, () => inPage('batchYjs', p));
		await step('batchSplit', 'batch: parts of one batch timed alone', () =>
			inPage('batchSplit', { batch: SIZES.batch, durability: 'strict' })
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

	if (wanted('node')) {
		await step('node', `node: receive() of ${SIZES.verify} blocks with node:crypto`, async () => {
			const module = await server.ssrLoadModule('/bench/node/verify-node.ts');
			return module.runNodeVerify({ count: SIZES.verify, runs: SIZES.verifyRuns, warmup: SIZES.verifyWarmup, yjsRuns: 5 });
		});
	}

	await inPage('cleanup').catch((error) => log(`cleanup failed: ${error}`));
	await closeBrowser();
	closeBrowser = undefined;

	if (wanted('open')) {
		// Its own browser profile on disk, so the fixtures survive a browser restart and the
		// opens can be timed in a fresh browser process (nothing of the database cached in it).
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
} finally {
	await closeBrowser?.();
	await server.close();
}

// ---- Report -------------------------------------------------------------------------

const r = results.raw;
const sig = (value, digits = 4) =>
	typeof value === 'number' && Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value;
const perSecond = (count, ms) => (count / ms) * 1000;
const yjsDurability = r.appendYjs?.durability ?? r.batchYjs?.durability ?? 'default';

/** @type {{metric: string, value: number | null, unit: string, baseline: number | null, baseline_name: string, goal: number | null, better: 'lower' | 'higher'}[]} */
const metrics = [];
function metric(name, value, unit, baseline, baselineName, goal, better) {
	if (value === undefined) return;
	metrics.push({
		metric: name,
		value: sig(value),
		unit,
		baseline: baseline === undefined ? null : sig(baseline),
		baseline_name: baselineName,
		goal,
		better
	});
}

if (r.appendStrict && r.appendYjs) {
	const yjsName = `yjs+y-indexeddb push 1 entry until its IDB write commits (durability ${yjsDurability})`;
	metric('append_p50_ms', r.appendStrict.p50, 'ms', r.appendYjs.p50, yjsName, 3, 'lower');
	metric('append_p95_ms', r.appendStrict.p95, 'ms', r.appendYjs.p95, yjsName.replace('push', 'p95 push'), null, 'lower');
	if (r.appendRelaxed) metric('append_p50_ms_relaxed', r.appendRelaxed.p50, 'ms', r.appendYjs.p50, yjsName, 3, 'lower');
}
if (r.batchStrict && r.batchYjs) {
	const yjsName = `yjs+y-indexeddb ${SIZES.batchTotal} entries, ${SIZES.batch} per Y transaction, until committed (durability ${yjsDurability})`;
	metric('append_batch_per_s', r.batchStrict.median, 'entries/s', r.batchYjs.median, yjsName, 5000, 'higher');
	if (r.batchRelaxed) metric('append_batch_per_s_relaxed', r.batchRelaxed.median, 'entries/s', r.batchYjs.median, yjsName, 5000, 'higher');
}
const yjsApplyName = (where) => `yjs Y.applyUpdate of ${SIZES.verify} single-entry updates in ${where} (no verification at all)`;
if (r.yjsApply) {
	const base = r.yjsApply.perSecond;
	metric('verify_per_s_webcrypto', r.verifyWebCrypto?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
	metric('verify_per_s_webcrypto_workers', r.verifyWorkers?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
	metric('verify_per_s_webcrypto_idb', r.verifyWebCryptoIdb?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
	metric('verify_per_s_noble', r.verifyNoble?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), null, 'higher');
	if (r.verifySplitWebCrypto)
		metric(
			'sig_verify_per_s_webcrypto',
			perSecond(r.verifySplitWebCrypto.blocks, r.verifySplitWebCrypto.signatureMs),
			'signatures/s',
			base,
			yjsApplyName('Chromium'),
			10000,
			'higher'
		);
	if (r.verifySplitNoble)
		metric(
			'sig_verify_per_s_noble',
			perSecond(r.verifySplitNoble.blocks, r.verifySplitNoble.signatureMs),
			'signatures/s',
			base,
			yjsApplyName('Chromium'),
			null,
			'higher'
		);
}
if (r.node) {
	const base = r.node.yjsApply.perSecond;
	metric('verify_per_s_node', r.node.perSecond, 'blocks/s', base, yjsApplyName('Node'), 10000, 'higher');
	metric(
		'sig_verify_per_s_node',
		perSecond(r.node.blocks, r.node.split.signatureMs),
		'signatures/s',
		base,
		yjsApplyName('Node'),
		10000,
		'higher'
	);
}
const openLabel = SIZES.open >= 1000 ? `${SIZES.open / 1000}k` : `${SIZES.open}`;
const yjsOpenName = (when) => `yjs+y-indexeddb doc of ${SIZES.open} entries, new IndexeddbPersistence until synced, ${when}`;
if (r.openLedger && r.yjsOpen)
	metric(`open_${openLabel}_ms`, r.openLedger.ms, 'ms', r.yjsOpen.ms, yjsOpenName('first open in a restarted browser'), 2000, 'lower');
if (r.openLedgerWarm && r.yjsOpenWarm)
	metric(`open_${openLabel}_ms_warm`, r.openLedgerWarm.ms, 'ms', r.yjsOpenWarm.ms, yjsOpenName('reopened in the same page'), 2000, 'lower');

for (const m of metrics) {
	m.ratio = m.value !== null && m.baseline ? sig(m.value / m.baseline, 3) : null;
	m.met = m.goal === null ? null : m.better === 'lower' ? m.value < m.goal : m.value >= m.goal;
}

function table(rows, columns) {
	const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => String(row[columns.indexOf(c)]).length)));
	const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
	return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const out = [];
out.push(`clinic-ledger benchmarks${quick ? ' (--quick: small sizes, not comparable with the goals)' : ''}`);
out.push(
	`Chromium ${results.env.chromium ?? '?'} (${results.env.detectedVerifier ?? '?'} verifier detected), Node ${process.version}, ${results.env.cpus ?? '?'} cores`
);
out.push('');
out.push(
	table(
		metrics.map((m) => [
			m.metric,
			m.value,
			m.unit,
			m.baseline ?? '-',
			m.ratio ?? '-',
			m.goal === null ? '-' : `${m.better === 'lower' ? '<' : '>='} ${m.goal}`,
			m.met === null ? '' : m.met ? 'met' : 'MISSED'
		]),
		['metric', 'value', 'unit', 'baseline', 'ratio', 'goal', '']
	)
);
out.push('');
out.push('Baselines:');
for (const name of [...new Set(metrics.map((m) => m.baseline_name))]) out.push(`  - ${name}`);

const ms = (v) => (typeof v === 'number' ? `${sig(v, 3)} ms` : '?');
const pct = (part, whole) => `${Math.round((100 * part) / whole)}%`;
const storeLine = (store) =>
	Object.entries(store ?? {})
		.filter(([, s]) => s.calls > 0)
		.map(([method, s]) => `${method} x${s.calls} ${ms(s.busyMs)}`)
		.join(', ');
out.push('');
out.push('Breakdown (medians; "store" = wall time with a store call in flight, seen from the ledger):');
if (r.appendStrict && r.appendSplit) {
	const s = r.appendSplit;
	out.push(
		`  append (one block): p50 strict ${ms(r.appendStrict.p50)}, of which IndexedDBStore.append ${ms(r.appendStrict.storeAppendP50)}; relaxed ${ms(r.appendRelaxed?.p50)}, of which store ${ms(r.appendRelaxed?.storeAppendP50)}`
	);
	out.push(
		`    the same append on a memory store ${ms(s.memoryAppendMs)}; createBlock ${ms(s.createBlockMs)} (WebCrypto sign ${ms(s.signMs)}, decode-back check ${ms(s.decodeBlockMs)})`
	);
	out.push(
		`    IndexedDBStore.append of one row alone: strict ${ms(s.commitStrictMs)}, relaxed ${ms(s.commitRelaxedMs)}; plain IDB put of 250 B: durability default ${ms(s.rawCommitMs.default)}, strict ${ms(s.rawCommitMs.strict)}, relaxed ${ms(s.rawCommitMs.relaxed)}`
	);
	out.push(
		`    a ${s.blockBytes}-byte block has a ${s.blockBufferBytes}-byte buffer and is read back with a ${s.storedBufferBytes}-byte one`
	);
}
if (r.batchStrict && r.batchSplit) {
	const s = r.batchSplit;
	const perBatch = (s.batch / r.batchStrict.median) * 1000;
	out.push(
		`  appendBatch(${s.batch}) strict: ${ms(perBatch)} per batch, store busy ${pct(r.batchStrict.storeShare, 1)} of the time (${storeLine(r.batchStrict.store)} over the run); relaxed: store busy ${r.batchRelaxed ? pct(r.batchRelaxed.storeShare, 1) : '?'}`
	);
	out.push(
		`    alone: createBlock x ${s.batch} ${ms(s.createBlocksMs)}; one strict IndexedDBStore.append of ${s.batch} rows ${ms(s.commitMs)}`
	);
}
if (r.idbLayouts) {
	const l = r.idbLayouts;
	out.push(
		`    one strict IDB transaction of ${l.rows} rows: ledger store ${ms(l.ledgerStore)}; raw with the same two indexes ${ms(l.twoIndexes)}; chain index only ${ms(l.chainIndexOnly)}; no index ${ms(l.noIndex)}; all ${l.rows} rows as ONE record ${ms(l.oneRecordPerBatch)}`
	);
}
const verifyLine = (label, whole, s) => {
	const rest = whole - s.decodeMs - s.hashMs - s.signatureMs;
	// The stages are timed in separate passes; on a loaded machine they can outgrow the whole.
	const restText = rest > 0 ? ms(rest) : 'n/a (stages timed separately exceed the whole: machine load changed)';
	return `  receive ${s.blocks ?? SIZES.verify} blocks, ${label}: whole ${ms(whole)}; stages alone: decodeBlock ${ms(s.decodeMs)}, hash ${ms(s.hashMs)}, signatures ${ms(s.signatureMs)} (precheck ${ms(s.precheckMs)}), rest of receive ${restText}; [cborg decode ${ms(s.cborDecodeMs)} + re-encode check ${ms(s.cborReencodeMs)} for comparison]`;
};
if (r.verifyWebCrypto && r.verifySplitWebCrypto)
	out.push(verifyLine('WebCrypto, memory store (Chromium)', r.verifyWebCrypto.ms, r.verifySplitWebCrypto));
if (r.verifyWebCryptoIdb) {
	out.push(`  receive, WebCrypto, IndexedDB store: whole ${ms(r.verifyWebCryptoIdb.ms)}; store: ${storeLine(r.verifyWebCryptoIdb.store)}`);
}
if (r.verifyNoble && r.verifySplitNoble) out.push(verifyLine('noble, memory store (Chromium)', r.verifyNoble.ms, r.verifySplitNoble));
if (r.node) {
	out.push(verifyLine('node:crypto, memory store (Node)', r.node.ms, { ...r.node.split, blocks: r.node.blocks }));
	out.push(`    signatures through Node's WebCrypto instead: ${ms(r.node.nodeWebCryptoSignatureMs)}`);
	if (r.verifyPrepare)
		out.push(
			`  workload digest: page ${r.verifyPrepare.digest}, node ${r.node.digest}${r.verifyPrepare.digest === r.node.digest ? ' (equal: both verified the same bytes)' : ' (DIFFERENT)'}`
		);
}
if (r.openLedger)
	out.push(
		`  open ${SIZES.open} blocks, restarted browser: ${r.openLedger.samplesMs.map(ms).join(', ')} (IndexedDBStore.open ${ms(r.openLedger.indexedDBOpenMs)} of the median); Yjs: ${r.yjsOpen?.samplesMs.map(ms).join(', ')}`
	);
if (r.openLedgerWarm)
	out.push(
		`  open again in the same page: ${ms(r.openLedgerWarm.ms)}, of which IndexedDBStore.open ${ms(r.openLedgerWarm.indexedDBOpenMs)}; Yjs ${ms(r.yjsOpenWarm?.ms)}`
	);
if (r.openBuild) {
	const rates = r.openBuild.ratesPerTenth.map((v) => Math.round(v));
	out.push(
		`  fixtures: ${SIZES.open} blocks built in ${ms(r.openBuild.ms)} (appendBatch of ${SIZES.openBatch}, relaxed); Yjs doc in ${ms(r.yjsOpenBuild?.ms)}`
	);
	out.push(`    appendBatch rate per tenth of the build, blocks/s: ${rates.join(', ')} (does appending slow down as the store grows?)`);
}
out.push(
	`  machine load average (1 min) at start ${results.env.loadStart?.toFixed(1)}, at end ${loadavg()[0].toFixed(1)} on ${results.env.cpus} cores`
);
if (results.errors.length > 0) {
	out.push('');
	out.push('ERRORS:');
	for (const e of results.errors) out.push(`  ${e.step}: ${e.error}`);
}
out.push('');
console.log(out.join('\n'));
for (const { metric: name, value, unit, baseline, baseline_name, goal, ratio } of metrics) {
	console.log(JSON.stringify({ metric: name, value, unit, baseline, baseline_name, goal, ratio }));
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
	new URL('./results/latest.json', import.meta.url),
	JSON.stringify({ ...results, metrics, seconds: (performance.now() - started) / 1000 }, null, '\t')
);
log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; raw results in bench/results/latest.json`);
process.exitCode = results.errors.length > 0 ? 1 : 0;
