// `npm run bench` (supply part): how long finding every administration of a recalled lot
// takes in a 100,000-block ledger, read from the recall index (rows in a LevelDB store), against
// the baseline of scanning every stored block (decoding its transactions) for the lot.
//
//   recall_trace_ms    median of 21 recall traces (administrations, affected patients with
//                      contact status, clinics holding the lot, transfers in transit)
//   supply_fold_ms     folding all 100,000 blocks from the start (a refold without checkpoint)
//
//   node bench/supply.js            100,000 blocks
//   node bench/supply.js --quick    10,000 blocks, for checking the harness
//
// docs/supply.md says what the figures mean and how the ledger is made.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));
const GOAL_MS = 200;
const server = await createServer({
	root,
	configFile: false,
	logLevel: 'warn',
	appType: 'custom',
	server: { middlewareMode: true, hmr: false, watch: null },
	resolve: { alias: { $lib: `${root}src/lib` } }
});
try {
	const { runSupplyTrace } = await server.ssrLoadModule('/bench/node/supply-trace.ts');
	const r = await runSupplyTrace({ blocks: quick ? 10_000 : 100_000, clinics: 20, gtins: 50, lotsPerGtin: 4, runs: 21 });
	const fmt = (n) => n.toFixed(n < 1 ? 3 : 1);
	console.log(
		`supply: ${r.blocks} blocks, ${r.lots} lots, 20 clinics, ${r.flags} flags; lot ${r.lot}: ${r.administrations} administrations to ${r.patients} patients`
	);
	console.log('metric              value        baseline (scan)   goal');
	console.log(`recall_trace_ms     ${fmt(r.traceMs).padEnd(12)} ${fmt(r.scanMs).padEnd(17)} < ${GOAL_MS}`);
	console.log(`supply_fold_ms      ${fmt(r.foldMs).padEnd(12)} -                 -`);
	const line = (metric, value, baseline, goal) =>
		console.log(
			JSON.stringify({
				metric,
				value: Number(value.toPrecision(4)),
				unit: 'ms',
				baseline: baseline === null ? null : Number(baseline.toPrecision(4)),
				baseline_name: baseline === null ? null : 'scan of every stored block',
				goal,
				better: 'lower',
				blocks: r.blocks
			})
		);
	line('recall_trace_ms', r.traceMs, r.scanMs, GOAL_MS);
	line('supply_fold_ms', r.foldMs, null, null);
} finally {
	await server.close();
}
