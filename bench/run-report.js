// The report of bench/run.js: the metrics (each against its Yjs baseline and its goal) from
// the raw step results, then the table, the baselines, the breakdown of where the time
// goes, and one JSON line per metric. What each metric measures: docs/benchmarks.md.
import { loadavg } from 'node:os';
import { goalMet, metricTable, printMetricLines } from './metric-table.js';

const sig = (value, digits = 4) =>
	typeof value === 'number' && Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value;
const perSecond = (count, ms) => (count / ms) * 1000;
const ms = (v) => (typeof v === 'number' ? `${sig(v, 3)} ms` : '?');
const pct = (part, whole) => `${Math.round((100 * part) / whole)}%`;
const storeLine = (store) =>
	Object.entries(store ?? {})
		.filter(([, s]) => s.calls > 0)
		.map(([method, s]) => `${method} x${s.calls} ${ms(s.busyMs)}`)
		.join(', ');

/** The metrics of a run from `results.raw`, with their ratio to the baseline and whether each meets its goal. */
export function ledgerMetrics(r, SIZES) {
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
		metric('append_batch_per_s', r.batchStrict.median, 'entries/s', r.batchYjs.median, yjsName, 10000, 'higher');
		if (r.batchRelaxed)
			metric('append_batch_per_s_relaxed', r.batchRelaxed.median, 'entries/s', r.batchYjs.median, yjsName, 5000, 'higher');
	}
	const yjsApplyName = (where) => `yjs Y.applyUpdate of ${SIZES.verify} single-entry updates in ${where} (no verification at all)`;
	if (r.yjsApply) {
		const base = r.yjsApply.perSecond;
		metric('verify_per_s_webcrypto', r.verifyWebCrypto?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
		metric('verify_per_s_webcrypto_workers', r.verifyWorkers?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
		metric('verify_per_s_webcrypto_idb', r.verifyWebCryptoIdb?.perSecond, 'blocks/s', base, yjsApplyName('Chromium'), 10000, 'higher');
		if (r.receiveIdb)
			metric(
				'receive_verify_per_s_idb',
				r.receiveIdb.perSecond,
				'blocks/s',
				r.receiveIdbBefore?.perSecond,
				'the same batches of 500 one at a time, WebCrypto on the page thread (before issue 19)',
				10000,
				'higher'
			);
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
		metric(
			`open_${openLabel}_ms_warm`,
			r.openLedgerWarm.ms,
			'ms',
			r.yjsOpenWarm.ms,
			yjsOpenName('reopened in the same page'),
			2000,
			'lower'
		);

	for (const m of metrics) {
		m.ratio = m.value !== null && m.baseline ? sig(m.value / m.baseline, 3) : null;
		m.met = goalMet(m);
	}
	return metrics;
}

/** The breakdown lines: where the time of each measured operation goes. */
function breakdown(r, SIZES) {
	const out = [];
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
		if (r.batchStrictV2) {
			const perBatchV2 = (s.batch / r.batchStrictV2.median) * 1000;
			out.push(
				`  appendBatch(${s.batch}) strict into the released schema-2 store: ${Math.round(r.batchStrictV2.median)} entries/s, ${ms(perBatchV2)} per batch, store busy ${pct(r.batchStrictV2.storeShare, 1)} (${storeLine(r.batchStrictV2.store)})`
			);
		}
		out.push(
			`    alone: createBlock x ${s.batch} ${ms(s.createBlocksMs)}; one strict IndexedDBStore.append of ${s.batch} rows ${ms(s.commitMs)} (schema 2: ${s.commitV2Ms === undefined ? '?' : ms(s.commitV2Ms)})`
		);
	}
	if (r.idbLayouts) {
		const l = r.idbLayouts;
		out.push(
			`    one strict IDB transaction of ${l.rows} rows: ledger store ${ms(l.ledgerStore)}; schema-2 store ${ms(l.schema2Store)}; raw rows with its two indexes ${ms(l.twoIndexes)}; chain index only ${ms(l.chainIndexOnly)}; no index ${ms(l.noIndex)}; all ${l.rows} rows as ONE record ${ms(l.oneRecordPerBatch)}; one segment record with no index ${ms(l.segmentNoIndex)}, with byId ${ms(l.segmentById)}, with byId not unique ${ms(l.segmentByIdNotUnique)}`
		);
	}
	if (r.pageRows) {
		const g = r.pageRows.groupings;
		const one = g['1']?.ms;
		const cell = ([per, x]) =>
			`${per} per row (${x.rows} rows of ${Math.round(x.rowKb)} KB) ${ms(x.ms)}${one && per !== '1' ? ` (${(one / x.ms).toFixed(1)}x)` : ''}`;
		out.push(
			`    every page of ${r.pageRows.pages} patients read from IndexedDB in slices of ${r.pageRows.slice} pages: ${Object.entries(g).map(cell).join('; ')}`
		);
	}
	if (r.migrateV2) {
		const m = r.migrateV2;
		out.push(
			`    migration 2 -> 3 at open: ${m.stored} of ${m.count} blocks in ${ms(m.migrateMs)} (${Math.round((m.count / m.migrateMs) * 1000)} blocks/s); the next open ${ms(m.reopenMs)}`
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
		out.push(
			`  receive, WebCrypto, IndexedDB store: whole ${ms(r.verifyWebCryptoIdb.ms)}; store: ${storeLine(r.verifyWebCryptoIdb.store)}`
		);
	}
	if (r.receiveIdb && r.receiveIdbV2) {
		const rate = (v) => `${Math.round(v.perSecond)} blocks/s (whole ${ms(v.ms)}; store: ${storeLine(v.store)})`;
		out.push(
			`  receive in batches of 500, 2 in flight, worker pool: schema 3 ${rate(r.receiveIdb)}; schema-2 store ${rate(r.receiveIdbV2)}`
		);
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
	return out;
}

/** Prints the report of a run to stdout; `metrics` from `ledgerMetrics`. */
export function printReport({ results, metrics, sizes, quick }) {
	const r = results.raw;
	const out = [];
	out.push(`clinic-ledger benchmarks${quick ? ' (--quick: small sizes, not comparable with the goals)' : ''}`);
	out.push(
		`Chromium ${results.env.chromium ?? '?'} (${results.env.detectedVerifier ?? '?'} verifier detected), Node ${process.version}, ${results.env.cpus ?? '?'} cores`
	);
	out.push('');
	out.push(metricTable(metrics, '-'));
	out.push('');
	out.push('Baselines:');
	for (const name of [...new Set(metrics.map((m) => m.baseline_name))]) out.push(`  - ${name}`);

	out.push('');
	out.push('Breakdown (medians; "store" = wall time with a store call in flight, seen from the ledger):');
	out.push(...breakdown(r, sizes));
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
	printMetricLines(metrics);
}
