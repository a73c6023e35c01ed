// `node bench/sync/run.js [--quick]`: sync between clinic nodes, each its own Chromium
// process, over real WebRTC data channels on this machine, beside a plain Yjs + y-webrtc
// baseline carrying the same block bytes. Prints a table, then one JSON line per metric.
//
//   catch-up   node A holds N blocks (IndexedDB), node B joins empty; B's mesh start
//              until B's version vector equals A's (10k and 100k; --quick: 2k and 10k)
//   propagation  5 nodes in sync; one appends a note every 200 ms; time until each of
//              the 4 others has accepted it (on one machine clock, offsets measured)
//   baseline   the same bytes as entries of a Y.Array over y-webrtc, same processes
//
//   --quick     smaller sizes (2k and 10k, 30 notes), about 2 minutes
//   --profile   only the first catch-up, with a CPU profile of node B (where its time goes)
//   --only=small,propagation,large   a subset of the phases
//
// What each metric measures and the last results: docs/benchmarks-sync.md. Raw results:
// bench/sync/results/latest.json.
//
// The phases: catchup.js, propagation.js, and their Yjs baseline yjs-baseline.js; the nodes
// (Chromium processes) and the page: nodes.js; the metrics and the printed report: report.js.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { catchup } from './catchup.js';
import { monitorMachine, otherChromiums } from './machine.js';
import { closeAll, servePage } from './nodes.js';
import { propagation } from './propagation.js';
import { printSyncReport, sig, syncMetrics } from './report.js';
import { syncSizes } from './sizes.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
/** `--profile`: only the first catch-up, with a CPU profile of node B's page (top functions printed, .cpuprofile kept). */
const profiling = argv.includes('--profile');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const PHASES = ['small', 'propagation', 'large'];
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : PHASES;
for (const p of only) if (!PHASES.includes(p)) throw new Error(`--only: unknown phase ${p} (phases: ${PHASES.join(', ')})`);
const SIZES = syncSizes(quick);

const started = performance.now();
const log = (message) =>
	process.stderr.write(`[sync-bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);

/** Load and foreign browsers every 5 s, so a run can say whether it had the machine to itself. */
const machine = monitorMachine(started);

const results = {
	quick,
	sizes: SIZES,
	startedAt: new Date().toISOString(),
	env: { node: process.version, cpus: cpus().length, loadStart: loadavg()[0], otherChromiums: otherChromiums() },
	raw: {},
	errors: []
};
if (results.env.otherChromiums || results.env.loadStart > results.env.cpus) {
	log(
		`WARNING: the machine is busy (load ${results.env.loadStart.toFixed(1)} on ${results.env.cpus} cores, ${results.env.otherChromiums} Chromium browsers not ours): timings will be inflated`
	);
}

/** Runs one phase; a failure is recorded and the run goes on. */
async function phase(key, work) {
	try {
		results.raw[key] = await work();
	} catch (error) {
		log(`FAILED ${key}: ${error.stack ?? error}`);
		results.errors.push({ phase: key, error: String(error.message ?? error) });
	}
}

// ---- Run ------------------------------------------------------------------------------

const page = await servePage();
log(`bench page built and served at ${page.url}, signaling at ${page.signalingUrl}`);
let interrupted = false;
process.once('SIGINT', () => {
	interrupted = true;
	log('interrupted: closing browsers and server');
	closeAll().finally(() => page.close().finally(() => process.exit(130)));
});

try {
	const context = { sizes: SIZES, env: results.env, log };
	if (profiling) {
		await phase('small', () => catchup(page, SIZES.small, { profile: true }, context));
	} else {
		if (only.includes('small'))
			await phase('small', () =>
				catchup(page, SIZES.small, { attachment: true, yjs: ['small-catchup', 'catchup', 'chunked', 'attachment'] }, context)
			);
		if (only.includes('propagation')) await phase('propagation', () => propagation(page, SIZES.propagation, { log }));
		if (only.includes('large')) await phase('large', () => catchup(page, SIZES.large, { attachment: false, yjs: ['chunked'] }, context));
	}
} finally {
	machine.stop();
	await closeAll();
	if (!interrupted) await page.close();
}
results.env.machine = machine.samples;

const metrics = syncMetrics(results.raw);
printSyncReport({ results, metrics, machine, quick, started });

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const slim = JSON.parse(JSON.stringify(results));
if (slim.raw.propagation?.ledger) slim.raw.propagation.ledger.samples = slim.raw.propagation.ledger.samples.map((v) => sig(v, 4));
if (slim.raw.propagation?.yjs) slim.raw.propagation.yjs.samples = slim.raw.propagation.yjs.samples.map((v) => sig(v, 4));
writeFileSync(
	new URL('./results/latest.json', import.meta.url),
	JSON.stringify({ ...slim, metrics, seconds: (performance.now() - started) / 1000 }, null, '\t')
);
log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; raw results in bench/sync/results/latest.json`);
process.exitCode = results.errors.length > 0 ? 1 : 0;
