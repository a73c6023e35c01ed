// `npm run bench` (offline merge part): a clinic that was offline for a day merges the
// other clinics' day into its ledger, in Node, on the same TypeScript the app runs
// (loaded through scripts/source-loader.js).
//
//   offline_merge_ms         a 100,000-block ledger of 1,000 patients (sealed FHIR records,
//                            grants and wrapped keys, claims, vaccine doses and stock:
//                            bench/node/merge-workload.ts) shared by node X and the other
//                            clinics at day start; X writes 2,000 blocks offline, the others
//                            2,000 whose clocks interleave with X's; X (reopened, as when it
//                            comes back online) receives the others' 2,000 in batches of 500
//                            with at most two in flight, as sync hands them. From the first
//                            receive until the last resolves; MemoryStore. Goal < 2,000 ms.
//   offline_merge_ms_idb     the same on IndexedDBStore (fake-indexeddb in Node)
//   offline_merge_ms_level   the same on LevelStore (the headless peer's LevelDB)
//   offline_merge_heap_mb    peak heap growth (JS heap + ArrayBuffers) during the memory
//                            store's merge, sampled every 10 ms, at every store call and
//                            every 100 fold applies, after a collection
//
// Baselines: the same merge as ONE batch of 2,000 (the memory store's for the memory and
// heap metrics, each store's own for the others); the fold alone over the 4,000 blocks of
// the day is printed too. The issue's figures before any fix: 10-18 s (memory), 18-24 s
// (IndexedDB), up to +780 MB.
//
//   node --expose-gc bench/offline-merge.js           full sizes (fixture 2-4 minutes, cached in the temp directory)
//   node --expose-gc bench/offline-merge.js --quick   10,000 blocks, 100 patients, a day of 1,000 + 1,000
//   node --expose-gc bench/offline-merge.js --large   the same day into a 1,000,000-block ledger of 10,000 patients
//                                                     (years of a network's data; opt-in: the fixture takes about half an hour)
//   MERGE_PROFILE=1 node …                            also a CPU profile of each timed merge (where it goes)
//   --only=memory,idb,level                           these stores (default: memory and level; idb
//                                                     only with --quick unless named: filling
//                                                     fake-indexeddb with the full fixture took
//                                                     over 20 GB and the kernel killed the process)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import 'fake-indexeddb/auto';
import { sourceLoader, ROOT } from '../scripts/source-loader.js';
import { summarizeProfile } from './lib/cpu-profile.js';
import { metricTable, printMetricLines, table } from './metric-table.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const large = argv.includes('--large');
const only =
	argv
		.find((a) => a.startsWith('--only='))
		?.slice(7)
		.split(',') ?? (quick ? ['memory', 'idb', 'level'] : large ? ['memory'] : ['memory', 'level']);
const SIZES = quick
	? { blocks: 10_000, patients: 100, day: 1_000 }
	: large
		? { blocks: 1_000_000, patients: 10_000, day: 2_000 }
		: { blocks: 100_000, patients: 1_000, day: 2_000 };
const GOAL = 2000;
const ISSUE = 'issue 19 before the fix: 10-18 s memory, 18-24 s IndexedDB, up to +780 MB';
const started = performance.now();
const log = (m) => process.stderr.write(`[bench offline-merge ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}\n`);
const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) log('run with node --expose-gc for exact heap figures');

/**
 * `value` with every byte array that is a view into a larger buffer copied into its own.
 * `deserialize` gives views of one buffer of the whole file (128 MB), and a store clones
 * what it is given: a row's 100 bytes would copy all of it (30 s and +2.4 GB of heap per merge).
 */
function ownBytes(value) {
	if (ArrayBuffer.isView(value)) return value.byteLength === value.buffer.byteLength ? value : value.slice();
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) value[i] = ownBytes(value[i]);
		return value;
	}
	if (value instanceof Map) for (const [key, item] of value) value.set(key, ownBytes(item));
	else if (value && typeof value === 'object' && !(value instanceof Set))
		for (const key of Object.keys(value)) value[key] = ownBytes(value[key]);
	return value;
}

/** The fixture's cache key: the sources that could change a block, a fold state or a checkpoint, and the sizes. */
function cacheKey() {
	const hash = createHash('sha256').update(JSON.stringify(SIZES));
	const files = [];
	const walk = (dir) => {
		for (const name of readdirSync(dir).sort()) {
			const path = join(dir, name);
			if (statSync(path).isDirectory()) walk(path);
			else if (path.endsWith('.ts')) files.push(path);
		}
	};
	for (const dir of ['src/lib/core', 'src/lib/domain', 'src/lib/demo']) walk(join(ROOT, dir));
	// Where the fold engine puts checkpoints does not change the fixture as used: the merge
	// starts from the day-start checkpoint alone, which the ledger writes on close.
	files.splice(files.indexOf(join(ROOT, 'src/lib/core/ledger/fold-engine.ts')), 1);
	files.push(join(ROOT, 'bench/node/merge-workload.ts'), join(ROOT, 'bench/node/offline-merge.ts'));
	for (const path of files) hash.update(relative(ROOT, path)).update(readFileSync(path));
	return hash.digest('hex').slice(0, 16);
}

const vite = await sourceLoader();
const results = { sizes: SIZES, runs: [], load: loadavg() };
const tmp = mkdtempSync(join(tmpdir(), 'bench-offline-merge-'));
try {
	const bench = await vite.ssrLoadModule('/bench/node/offline-merge.ts');
	const { MemoryStore, IndexedDBStore } = await vite.ssrLoadModule('/src/lib/core/index.ts');
	const { LevelStore } = await vite.ssrLoadModule('/src/lib/core/storage/level.ts');

	const cacheDir = join(tmpdir(), 'clinic-ledger-bench-fixtures');
	const cacheFile = join(cacheDir, `offline-merge-${SIZES.blocks}-${cacheKey()}.v8`);
	let fx;
	if (existsSync(cacheFile)) {
		fx = ownBytes(deserialize(readFileSync(cacheFile)));
		log(`fixture from the cache (${cacheFile})`);
	} else {
		log(
			`building the fixture: ${SIZES.blocks.toLocaleString('en')} blocks, ${SIZES.patients} patients, a day of ${SIZES.day} + ${SIZES.day}`
		);
		fx = await bench.buildFixture(SIZES, log);
		mkdirSync(cacheDir, { recursive: true });
		const partial = `${cacheFile}.${process.pid}`;
		try {
			writeFileSync(partial, serialize(fx));
			renameSync(partial, cacheFile);
		} catch (error) {
			log(`fixture not cached: ${error.message}`);
			rmSync(partial, { force: true });
		}
		log(`fixture built in ${(fx.buildMs / 1000).toFixed(0)} s`);
	}
	const after = bench.forFolds(fx, bench.FOLD_SETS.after);
	const fold = bench.foldAlone(after);
	results.fold = fold;
	results.fixture = { blocks: fx.rows.length, checkpoints: fx.checkpoints.length, checkpointMb: fold.checkpointMb, buildMs: fx.buildMs };
	log(
		`day-start ledger: ${fx.rows.length.toLocaleString('en')} blocks, checkpoint ${fold.checkpointMb.toFixed(1)} MB (decoded in ${fold.decodeMs.toFixed(0)} ms); fold alone over the day: ${fold.ms.toFixed(0)} ms`
	);

	let n = 0;
	const stores = {
		memory: async () => new MemoryStore(),
		idb: async () => IndexedDBStore.open(`offline-merge-${n++}`, { durability: 'relaxed' }),
		level: async () => LevelStore.open(join(tmp, `level-${n++}`))
	};
	const variants = only.map((kind) => ({ kind, store: kind, fx: after, folds: bench.FOLD_SETS.after }));
	// Before the fix of issue 19 (the records fold's checkpoint as canonical CBOR), same run, memory store.
	if (only.includes('memory') && !argv.includes('--no-before')) {
		const before = bench.forFolds(fx, bench.FOLD_SETS.before);
		results.beforeCheckpointMb = before.checkpoints[0].state.length / 1024 / 1024;
		variants.unshift({ kind: 'memory-before', store: 'memory', fx: before, folds: bench.FOLD_SETS.before });
	}
	// The keyed folds rewinding for late blocks, as before they re-applied keys: same checkpoint, memory store.
	if (only.includes('memory')) variants.unshift({ kind: 'memory-rewind', store: 'memory', fx: after, folds: bench.FOLD_SETS.rewind });
	for (const v of variants) {
		for (const batch of [bench.SYNC_BATCH, SIZES.day]) {
			const r = await bench.runMerge(await stores[v.store](), v.fx, batch, gc, v.folds);
			r.kind = v.kind;
			if (r.cpuProfile) {
				const s = summarizeProfile(r.cpuProfile, { modules: 12, functions: 30, inclusive: 40 });
				console.log(
					`\nprofile of the ${v.kind} merge in batches of ${batch}: ${s.totalMs.toFixed(0)} ms sampled\nby module:\n${s.modules}\nby function (self):\n${s.functions}\nby function (inclusive, app code):\n${s.inclusive}\n`
				);
				delete r.cpuProfile;
			}
			results.runs.push(r);
			mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
			writeFileSync(new URL('./results/offline-merge.json', import.meta.url), JSON.stringify(results, null, 1));
			log(
				`${v.kind} batches of ${batch}: ${r.ms.toFixed(0)} ms, heap +${r.heapGrowthMb.toFixed(0)} MB, store busy ${r.storeBusyMs.toFixed(0)} ms (prepared in ${(r.prepareMs / 1000).toFixed(0)} s)`
			);
		}
	}
} finally {
	await vite.close();
	rmSync(tmp, { recursive: true, force: true });
}

const run = (kind, batch) => results.runs.find((r) => r.kind === kind && r.batch === batch);
const round = (x) => Math.round(x);
const metrics = [];
const add = (metric, value, unit, baseline, baseline_name, goal) =>
	metrics.push({
		metric,
		value,
		unit,
		baseline,
		baseline_name,
		goal,
		ratio: baseline ? Number((value / baseline).toFixed(2)) : null,
		better: 'lower',
		met: goal === null ? null : value < goal
	});
const suffix = { memory: '', idb: '_idb', level: '_level' };
for (const kind of only) {
	const many = run(kind, 500);
	const one = run(kind, SIZES.day);
	if (!many || !one) continue;
	add(
		`offline_merge_ms${suffix[kind]}`,
		round(many.ms),
		'ms',
		round(one.ms),
		`the same merge as one batch of ${SIZES.day} (fold alone over the day's ${SIZES.day * 2} blocks: ${round(results.fold.ms)} ms; ${ISSUE})`,
		kind === 'memory' ? GOAL : null
	);
	if (kind === 'memory') {
		// The same-run variants, each beside the merge as it is now.
		for (const [variant, metric, name] of [
			[
				'memory-rewind',
				'offline_merge_ms_rewind',
				'baseline: the same merge with the keyed folds re-applying keys (this run); here they rewind to the checkpoint, as before they were keyed'
			],
			[
				'memory-before',
				'offline_merge_ms_before_fix',
				'baseline: the same merge after the fix (this run): the records checkpoint as JSON instead of canonical CBOR'
			]
		]) {
			const r = run(variant, 500);
			if (r) add(metric, round(r.ms), 'ms', round(many.ms), name, null);
		}
		add(
			'offline_merge_heap_mb',
			round(many.heapGrowthMb),
			'MB',
			round(one.heapGrowthMb),
			`peak heap growth of the merge as one batch (${ISSUE})`,
			null
		);
	}
}

console.log(
	`\nclinic-ledger offline merge benchmark${quick ? ' (--quick: smaller sizes, not comparable with the goal)' : ''}; Node ${process.version}, load ${results.load.map((l) => l.toFixed(1)).join(' ')}`
);
console.log(
	`day-start ledger ${results.fixture.blocks.toLocaleString('en')} blocks, ${SIZES.patients} patients, checkpoint ${results.fixture.checkpointMb.toFixed(1)} MB${results.beforeCheckpointMb ? ` (${results.beforeCheckpointMb.toFixed(1)} MB before the fix)` : ''}; day: ${SIZES.day} blocks by X offline + ${SIZES.day} by the others`
);
console.log(metricTable(metrics, '-'));
console.log(
	'\nwhere the merge time goes (ms; store = wall time with a store call in flight; verify = wall time with a signature check in flight, beside the rest; other = the rest: validation, signatures, block decoding, bookkeeping; applies = fold applies: blocks folded x 10 app folds, and blocks applied again for a key; keys re-applied = patients and studies the keyed folds re-applied instead of rewinding)'
);
const f = (x) => round(x);
console.log(
	table(
		results.runs.map((r) => {
			const b = r.breakdown;
			const accounted = b.foldApply + b.foldEncode + b.cborEncode + b.foldDecode + b.cborDecode + r.storeBusyMs;
			return [
				r.kind,
				r.batch,
				f(r.ms),
				f(b.foldApply),
				`${f(b.foldEncode + b.cborEncode)} (${b.checkpointsWritten})`,
				`${f(b.foldDecode + b.cborDecode)} (${b.checkpointsRead})`,
				f(r.storeBusyMs),
				f(r.storeCalls.putCheckpoint?.busyMs ?? 0),
				f(r.storeCalls.ordered?.busyMs ?? 0),
				f(b.verify),
				f(r.ms - accounted),
				b.applies,
				`${r.reapplied.keys} (${r.reapplied.blocks})`,
				`+${f(r.heapGrowthMb)}`
			];
		}),
		[
			'store',
			'batch',
			'total',
			'fold apply',
			'ckpt encode (n)',
			'ckpt decode (n)',
			'store',
			'ckpt write',
			'ordered',
			'verify',
			'other',
			'applies',
			'keys re-applied (blocks)',
			'heap MB'
		]
	)
);
printMetricLines(metrics);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/offline-merge.json', import.meta.url), JSON.stringify(results, null, 1));
