// `npm run bench` (checkpoints part): what a clinic's stored checkpoints take as its ledger
// grows, in Node, on the same TypeScript the app runs (scripts/source-loader.js).
//
//   checkpoints_kept_mb_100k   what the checkpoints a 100,000-block clinic ledger of 1,000 patients
//                              (bench/node/merge-workload.ts: sealed FHIR records, grants and
//                              wrapped keys, claims, vaccine doses and stock) holds after its
//                              last block, received in batches of 500 with the app's rules,
//                              folds and default checkpoint policy; MemoryStore (all but the
//                              newest compressed: core/ledger/checkpoint-bytes.ts). Baseline,
//                              same run: what it would hold without thinning or compression
//                              (every checkpoint written and not dropped for a late block, as
//                              written), as before core/ledger/checkpoint-ladder.ts. No issue sets a goal: each
//                              checkpoint is the whole state, so kept forever they grow with
//                              the square of the ledger.
//   checkpoints_kept_compressed_mb_100k   the same stored bytes against the same checkpoints
//                              as written (uncompressed): what compression saves
//   checkpoints_kept_100k      how many, against the same baseline
//   checkpoint_thin_ms_100k    time spent listing and dropping checkpoints (the thinning's
//                              cost), against the whole build's time
//   checkpoint_compress_ms_100k   time from reading each checkpoint no longer the newest to
//                              storing it compressed, against the whole build's time
//   page_rows_kept_mb_100k     the claims pages' rows (core/ledger/page-rows.ts) the store holds
//                              after the last block, against the newest rows alone (what one
//                              checkpoint reads); printed beside it: every row written over the
//                              build and how much of it is pages that changed (a row of 16 pages
//                              is written whole when one changes)
//   checkpoint_encode_ms_100k  the CBOR step of writing the newest checkpoint (every fold's
//                              encoded state, then the whole) by the ledger's writer
//                              (core/canonical-writer.ts), best of 3, against the encoder it
//                              replaced (a check pass, then cborg) on the same values
//
// Also printed: the JS heap and array buffers with the ledger still open after its last
// block (after a collection: run with --expose-gc), and how many of the claims fold's patient
// pages it holds decoded.
//
//   node --expose-gc bench/checkpoints.js           100,000 blocks (about 1-2 minutes on 2 cores)
//   node --expose-gc bench/checkpoints.js --quick   20,000 blocks, 200 patients
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { sourceLoader } from '../scripts/source-loader.js';
import { metricTable, printMetricLines, table } from './metric-table.js';

const quick = process.argv.includes('--quick');
const SIZES = quick ? { blocks: 20_000, patients: 200 } : { blocks: 100_000, patients: 1_000 };
const tag = `${SIZES.blocks / 1000}k`;
const started = performance.now();
const log = (m) => process.stderr.write(`[bench checkpoints ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}\n`);

const vite = await sourceLoader();
let g;
try {
	const bench = await vite.ssrLoadModule('/bench/node/checkpoint-growth.ts');
	g = await bench.grow(SIZES.blocks, SIZES.patients, log);
} finally {
	await vite.close();
}
const round = (x, d = 1) => Number(x.toFixed(d));
const metric = (name, value, unit, baseline, baselineName) => ({
	metric: name,
	value: round(value),
	unit,
	baseline: round(baseline),
	baseline_name: baselineName,
	goal: null,
	ratio: round(value / baseline, 3),
	better: 'lower',
	met: null
});
const metrics = [
	metric(`checkpoints_kept_mb_${tag}`, g.keptMb, 'MB', g.unthinnedMb, 'without thinning or compression, same run'),
	metric(`checkpoints_kept_compressed_mb_${tag}`, g.keptMb, 'MB', g.keptRawMb, 'the same checkpoints as written (uncompressed), same run'),
	metric(`checkpoints_kept_${tag}`, g.kept, 'checkpoints', g.unthinned, 'without thinning, same run'),
	metric(`checkpoint_thin_ms_${tag}`, g.thinMs, 'ms', g.buildMs, 'the whole build, same run'),
	metric(`checkpoint_compress_ms_${tag}`, g.compressMs, 'ms', g.buildMs, `the whole build, same run (${g.compressed} compressed)`),
	metric(`page_rows_kept_mb_${tag}`, g.pageRows.keptMb, 'MB', g.pageRows.newestMb, 'the newest row of each, same run'),
	metric(
		`checkpoint_encode_ms_${tag}`,
		g.encodeMs,
		'ms',
		g.encodeReferenceMs,
		'the encoder it replaced (a check pass, then cborg), same state, same run'
	)
];
console.log(
	`\nCheckpoints of a ${SIZES.blocks.toLocaleString('en')}-block ledger of ${SIZES.patients} patients (load ${loadavg()
		.map((x) => x.toFixed(1))
		.join(' ')}): ${g.written} written (${g.writtenMb.toFixed(1)} MB), newest ${g.newestMb.toFixed(1)} MB\n`
);
if (g.heapMb > 0)
	console.log(
		`With the ledger still open after the last block, after a collection: JS heap ${g.heapMb.toFixed(1)} MB, array buffers ${g.buffersMb.toFixed(1)} MB (the memory store's blocks and rows included); claims pages held decoded: ${g.claimsPages.decoded} of ${g.claimsPages.decoded + g.claimsPages.packed}\n`
	);
const r = g.pageRows;
console.log(
	`Claims pages in rows of the store (core/ledger/page-rows.ts): ${r.written.toLocaleString('en')} rows written over the build (${r.writtenMb.toFixed(1)} MB, ladder moves included), of which ${r.changedMb.toFixed(1)} MB pages changed since the row's last version (${(r.writtenMb / Math.max(r.changedMb, 1e-9)).toFixed(1)}x written for what changed: a row is written whole); ${r.kept.toLocaleString('en')} rows kept after the last block (${r.keptMb.toFixed(1)} MB)\n`
);
console.log(
	table(
		g.steps.map((s) => [
			s.blocks.toLocaleString('en'),
			s.kept,
			s.keptMb.toFixed(1),
			s.keptRawMb.toFixed(1),
			s.unthinned,
			s.unthinnedMb.toFixed(1)
		]),
		['blocks', 'kept', 'MB stored', 'MB as written', 'without thinning', 'MB as written']
	)
);
console.log(`\n${metricTable(metrics, '-')}\n`);
printMetricLines(metrics);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/checkpoints.json', import.meta.url), JSON.stringify({ sizes: SIZES, load: loadavg(), ...g }, null, 1));
