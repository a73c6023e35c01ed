// `npm run bench` (last part): the explorer and the demo, measured in the built app
// (build/, the code that ships) served by server/start.js and driven in Debian's Chromium
// through playwright-core, exactly as a clinic would use it.
//
//   explorer_first_paint_ms   Explorer tab opened on a 100,000-block ledger in IndexedDB
//                             until its first frame with blocks is drawn (median of 5)
//   explorer_heap_growth_mb   JS heap after opening, scrolling end to end and zooming,
//                             minus before opening (after a forced GC both times)
//   demo_converge_ms          5 in-page clinics: one back from offline with 3 entries, the
//                             others with 2; from reconnecting until all hold the same ledger
//                             (median of 5 demo runs)
//
//   node bench/explorer-demo.js             full: the 100,000-block fixture takes 1-2 minutes
//   node bench/explorer-demo.js --quick     a 10,000-block fixture, for checking the harness
//   node bench/explorer-demo.js --no-build  use build/ as it is
//
// docs/benchmarks.md and docs/explorer-demo.md say what each figure means.
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer } from '../server/start.js';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.js';
import { appDriver } from './app-page.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const BLOCKS = quick ? 10_000 : 100_000;
const RUNS = 5;
const PASSPHRASE = 'benchmark passphrase';
const GOALS = { explorer_first_paint_ms: 500, demo_converge_ms: 1000 };
const started = performance.now();
const log = (message) =>
	process.stderr.write(`[bench explorer-demo ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!argv.includes('--no-build')) {
	log('building the app (vite build)');
	const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
	if (build.status !== 0) throw new Error('vite build failed');
}

const server = await startServer({ port: 0 });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
const results = { blocks: BLOCKS, firstPaints: [], heap: null, demo: [], chromium: browser.version() };
try {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
	page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
	const { byId, waitAttr, unlock, foundNetwork } = appDriver(page, PASSPHRASE);
	await foundNetwork(server.url);

	// The fixture, written by the app itself: Diagnostics appends 500 signed blocks per durable write.
	const fixtureStarted = performance.now();
	await byId('tab-diagnostics').click();
	let left = BLOCKS - 1;
	while (left > 0) {
		const count = Math.min(50_000, left);
		await byId('test-count').fill(String(count));
		await byId('test-write').click();
		await waitAttr('test-run', 'data-done', String(count));
		await waitAttr('test-run', 'data-running', 'false');
		left -= count;
		log(`fixture: ${BLOCKS - 1 - left} entries written`);
	}
	results.fixtureSeconds = (performance.now() - fixtureStarted) / 1000;

	// A fresh page, as after a restart; wait for the background "verify all" so it does not share the measurement.
	await page.reload();
	await unlock('ready');
	// The reload stays on the Diagnostics page; the verification's result shows on the Ledger page.
	await byId('tab-ledger').click();
	await waitAttr('verify-result', 'data-outcome', 'ok', 600_000);
	const cdp = await page.context().newCDPSession(page);
	const heapMb = async () => {
		await cdp.send('HeapProfiler.collectGarbage');
		return (await cdp.send('Runtime.getHeapUsage')).usedSize / 1024 / 1024;
	};
	const heapBefore = await heapMb();

	for (let run = 0; run < RUNS; run++) {
		// Leaving the tab closes the explorer (it drops its window); coming back opens it again.
		await byId('tab-ledger').click();
		await byId('tab-explorer').click();
		await page.waitForFunction(() => document.querySelector('[data-testid="dag"]')?.getAttribute('data-first-paint-ms') !== '', null, {
			timeout: 60_000,
			polling: 'raf'
		});
		const ms = Number(await byId('dag').getAttribute('data-first-paint-ms'));
		const openMs = Number(await byId('dag').getAttribute('data-open-ms'));
		const total = Number(await byId('dag').getAttribute('data-total'));
		if (total !== BLOCKS) throw new Error(`explorer shows ${total} blocks, expected ${BLOCKS}`);
		results.firstPaints.push(ms);
		results.windowReady = [...(results.windowReady ?? []), openMs];
		log(`explorer first paint ${run + 1}/${RUNS}: ${ms} ms (first window read and decoded at ${openMs} ms)`);
	}
	// Move through the whole ledger and zoom, then measure what the page holds.
	const settled = () => waitAttr('dag', 'data-loading', 'false', 60_000);
	await byId('dag-oldest').click();
	await settled();
	await byId('dag-position').fill(String(Math.floor(BLOCKS / 2)));
	await settled();
	for (let i = 0; i < 8; i++) await byId('dag-zoom-out').click();
	await settled();
	for (let i = 0; i < 8; i++) await byId('dag-zoom-in').click();
	await byId('dag-newest').click();
	await settled();
	const heapAfter = await heapMb();
	results.heap = {
		beforeMb: heapBefore,
		afterMb: heapAfter,
		peakHeld: Number(await byId('dag').getAttribute('data-peak-held')),
		fetched: Number(await byId('dag').getAttribute('data-fetched'))
	};
	log(
		`explorer heap ${heapBefore.toFixed(1)} -> ${heapAfter.toFixed(1)} MB, peak ${results.heap.peakHeld} blocks held, ${results.heap.fetched} read`
	);

	// The demo: start 5 clinics, run the first three steps; the third is the heal.
	await byId('tab-demo').click();
	for (let run = 0; run < RUNS; run++) {
		await byId('demo-start').click();
		await waitAttr('demo', 'data-status', 'ready', 60_000);
		for (const step of ['writes', 'offline', 'heal']) {
			await waitAttr('demo-next', 'data-step', step, 60_000);
			await byId('demo-next').click();
			await page.waitForFunction(
				(s) => document.querySelector(`[data-testid="demo-step"][data-step="${s}"]`)?.getAttribute('data-done') === 'true',
				step,
				{ timeout: 60_000 }
			);
		}
		const facts = JSON.parse((await page.locator('[data-testid="demo-step"][data-step="heal"]').getAttribute('data-facts')) ?? '{}');
		if (facts.fingerprints !== 1) throw new Error(`demo run ${run + 1}: the copies did not converge`);
		results.demo.push(facts.converge_ms);
		log(`demo heal ${run + 1}/${RUNS}: ${facts.converge_ms} ms`);
	}
} finally {
	await browser.close();
	await server.close();
}

const metrics = [
	{
		metric: quick ? 'explorer_first_paint_10k_ms' : 'explorer_first_paint_ms',
		value: median(results.firstPaints),
		unit: 'ms',
		goal: GOALS.explorer_first_paint_ms,
		samples: results.firstPaints
	},
	{
		metric: 'explorer_heap_growth_mb',
		value: Number((results.heap.afterMb - results.heap.beforeMb).toFixed(1)),
		unit: 'MB',
		goal: null,
		samples: [results.heap.beforeMb, results.heap.afterMb].map((x) => Number(x.toFixed(1)))
	},
	{ metric: 'demo_converge_ms', value: median(results.demo), unit: 'ms', goal: GOALS.demo_converge_ms, samples: results.demo }
];
console.log(
	`\nclinic-ledger explorer and demo benchmarks${quick ? ' (--quick: 10,000 blocks, not comparable with the goal)' : ''}; Chromium ${results.chromium}`
);
console.log(`fixture: ${BLOCKS.toLocaleString('en')} blocks written through the app in ${results.fixtureSeconds.toFixed(0)} s`);
console.log(`${'metric'.padEnd(30)}${'value'.padStart(10)}  unit  ${'goal'.padEnd(9)} samples`);
for (const m of metrics) {
	const goal = m.goal === null ? '-' : `< ${m.goal}`;
	const met = m.goal === null ? '' : m.value < m.goal ? ' met' : ' MISSED';
	console.log(
		`${m.metric.padEnd(30)}${String(m.value).padStart(10)}  ${m.unit.padEnd(4)}  ${goal.padEnd(9)} ${m.samples.join(', ')}${met}`
	);
}
console.log(
	`explorer after scrolling end to end and zooming: peak ${results.heap.peakHeld.toLocaleString('en')} blocks held, ${results.heap.fetched.toLocaleString('en')} read from IndexedDB in all`
);
for (const m of metrics) console.log(JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit, baseline: null, goal: m.goal }));
