// `npm run bench`: the ledger's performance against its goals and against a plain Yjs +
// y-indexeddb baseline. Starts a Vite dev server (TypeScript from src/lib/core transformed
// on the fly), drives Debian's Chromium through playwright-core for everything that needs
// real IndexedDB and WebCrypto, loads the same modules into Node through `ssrLoadModule`
// for the node:crypto figures, then prints a table and one JSON line per metric.
//
//   npm run bench                   full sizes (about 3-5 minutes on 2 cores)
//   npm run bench -- --quick        small sizes, for checking the harness
//   npm run bench -- --only=append,verify   a subset of groups (append, batch, verify, node, pages, open)
//
// What each metric measures: docs/benchmarks.md. Raw results: bench/results/latest.json.
//
// The groups: run-groups.js; the metrics and the printed report: run-report.js; the dev
// server and the benchmark page: harness.js; the suites in the page: browser/bench.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { openBenchPage, startServer } from './harness.js';
import { runOpenGroup, runPageGroups } from './run-groups.js';
import { ledgerMetrics, printReport } from './run-report.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
const GROUPS = ['append', 'batch', 'verify', 'node', 'pages', 'open'];
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
			layoutReps: 3,
			pages: 2_000,
			pageRuns: 1
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
			layoutReps: 9,
			pages: 10_000,
			pageRuns: 3
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

	await runPageGroups({ inPage, server, sizes: SIZES, step, wanted });

	await inPage('cleanup').catch((error) => log(`cleanup failed: ${error}`));
	await closeBrowser();
	closeBrowser = undefined;

	if (wanted('open')) await runOpenGroup({ url, sizes: SIZES, step });
} finally {
	await closeBrowser?.();
	await server.close();
}

const metrics = ledgerMetrics(results.raw, SIZES);
printReport({ results, metrics, sizes: SIZES, quick });

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
	new URL('./results/latest.json', import.meta.url),
	JSON.stringify({ ...results, metrics, seconds: (performance.now() - started) / 1000 }, null, '\t')
);
log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; raw results in bench/results/latest.json`);
process.exitCode = results.errors.length > 0 ? 1 : 0;
