// `npm run bench` (records part): the Patients tab of the built app (build/, the code that
// ships) served by server/start.js and driven in Debian's Chromium through playwright-core.
//
//   import_1000_patients_s   a FHIR Bundle of 1,000 synthetic patients (~50,000 resources,
//                            ~30 MB of JSON) imported through the Import FHIR panel: every
//                            resource validated, encrypted (XChaCha20-Poly1305 under per
//                            patient/category keys wrapped with X25519), each patient's grant
//                            signed with its new key, ~1,000 signed blocks in IndexedDB.
//                            From the Import button to the "Imported" message. Goal < 60 s.
//   chart_open_ms            a patient with 500 entries in a ledger of 100,000 blocks: from
//                            the click on the patient to the timeline usable: its total of
//                            500 known and its first screen (50 entries) decrypted and drawn
//                            (median of 5; another chart is opened between runs). Goal < 200 ms.
//
//   node bench/records.js             full sizes (about 5-10 minutes on 2 cores)
//   node bench/records.js --quick     100 patients and a 10,000-block ledger
//   node bench/records.js --no-build  use build/ as it is
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer as startApp } from '../server/start.js';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.js';
import { appDriver } from './app-page.js';
import { startServer as startVite } from './harness.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const PATIENTS = quick ? 100 : 1000;
const BLOCKS = quick ? 10_000 : 100_000;
const CHART_ENTRIES = 500;
const RUNS = 5;
const PASSPHRASE = 'benchmark passphrase';
const GOALS = { import_1000_patients_s: 60, chart_open_ms: 200 };
const started = performance.now();
const log = (message) =>
	process.stderr.write(`[bench records ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!argv.includes('--no-build')) {
	log('building the app (vite build)');
	const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
	if (build.status !== 0) throw new Error('vite build failed');
}

// The synthetic Bundles come from the app's own generator (TypeScript, loaded through Vite).
const vite = await startVite();
const { syntheticBundle } = await vite.server.ssrLoadModule('/tests/synthetic/records.ts');
const bundle = JSON.stringify(syntheticBundle(PATIENTS, { seed: 2026, perPatient: 50 }));
const chartBundle = syntheticBundle(1, { seed: 99, perPatient: CHART_ENTRIES });
chartBundle.entry[0].resource.name = [{ family: 'Benchmark', given: ['Chart'] }];
await vite.server.close();
const resources = JSON.parse(bundle).entry.length;
log(`bundle: ${PATIENTS} patients, ${resources} resources, ${(bundle.length / 1e6).toFixed(1)} MB`);

const server = await startApp({ port: 0 });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
const results = { chromium: browser.version(), patients: PATIENTS, resources, bundleMb: bundle.length / 1e6, charts: [] };
try {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
	const { byId, waitAttr, unlock, foundNetwork } = appDriver(page, PASSPHRASE);
	await foundNetwork(server.url);

	// import_1000_patients_s: through the Import FHIR panel.
	await byId('tab-patients').click();
	await byId('open-import').click();
	await byId('import-file').setInputFiles({ name: 'bundle.json', mimeType: 'application/json', buffer: Buffer.from(bundle) });
	await page.waitForSelector('[data-testid="import-run"]', { timeout: 300_000 });
	const clicked = performance.now();
	await byId('import-run').click();
	await page.waitForSelector('[data-testid="import-done"]', { timeout: 900_000 });
	results.importWallS = (performance.now() - clicked) / 1000;
	results.importS = Number(await byId('import-done').getAttribute('data-ms')) / 1000;
	results.importBlocks = Number(await byId('import-done').getAttribute('data-blocks'));
	results.importRecords = Number(await byId('import-done').getAttribute('data-records'));
	log(
		`import: ${results.importRecords} records in ${results.importBlocks} blocks, ${results.importS.toFixed(1)} s (in the app), ${results.importWallS.toFixed(1)} s from the click`
	);

	// The chart patient, then test entries up to the ledger size (Diagnostics, 500 signed blocks per durable write).
	await byId('import-file').setInputFiles({
		name: 'chart.json',
		mimeType: 'application/json',
		buffer: Buffer.from(JSON.stringify(chartBundle))
	});
	await page.waitForSelector('[data-testid="import-run"]', { timeout: 60_000 });
	await byId('import-run').click();
	// This import's own result: its records, fewer than the first import's. Resources the two
	// bundles share (the generator's organization and practitioner) are "already here", so
	// not every entry counts as a new record.
	await page.waitForFunction(
		(most) => {
			const n = Number(document.querySelector('[data-testid="import-done"]')?.getAttribute('data-records') ?? 0);
			return n > 0 && n <= most;
		},
		CHART_ENTRIES,
		{ timeout: 300_000, polling: 200 }
	);
	log(`chart patient: ${(await byId('import-done').textContent())?.trim()}`);
	const size = async () => Number(await byId('ledger-size').getAttribute('data-size'));
	await byId('tab-diagnostics').click();
	let left = BLOCKS - (await size());
	const fillStarted = performance.now();
	while (left > 0) {
		const count = Math.min(50_000, left);
		await byId('test-count').fill(String(count));
		await byId('test-write').click();
		await waitAttr('test-run', 'data-done', String(count));
		await waitAttr('test-run', 'data-running', 'false');
		left -= count;
		log(`fixture: ${await size()} blocks`);
	}
	results.fillS = (performance.now() - fillStarted) / 1000;
	results.blocks = await size();

	// A fresh page, as after a restart; the background verification finishes first.
	await page.reload();
	await unlock('ready');
	// The reload stays on the Diagnostics page; the verification's result shows on the Ledger page.
	await byId('tab-ledger').click();
	await waitAttr('verify-result', 'data-outcome', 'ok', 900_000);
	await byId('tab-patients').click();
	// The registry lists patients a page at a time, by name: another patient's chart is opened
	// from the list, then the chart patient found by the search (the list is not the chart).
	const rowsShown = (text) =>
		page.waitForFunction(
			(t) => [...document.querySelectorAll('[data-testid="patient-row"]')].some((r) => r.textContent?.includes(t)),
			text,
			{
				timeout: 120_000
			}
		);
	for (let run = 0; run < RUNS; run++) {
		await byId('patient-search').fill('');
		await page.waitForFunction(() => document.querySelectorAll('[data-testid="patient-row"]').length > 1, null, { timeout: 120_000 });
		await page.evaluate(async () => {
			const other = [...document.querySelectorAll('[data-testid="patient-row"]')].find((r) => !r.textContent?.includes('Chart Benchmark'));
			if (!other) throw new Error('no other patient listed');
			other.click();
			await new Promise((resolve) => {
				const title = () => document.querySelector('#chart-title')?.textContent ?? '';
				const check = () =>
					title() !== '' && !title().includes('Chart Benchmark') && document.querySelectorAll('[data-testid="timeline-entry"]').length > 0
						? resolve(undefined)
						: requestAnimationFrame(check);
				check();
			});
		});
		await byId('patient-search').fill('Chart Benchmark');
		await rowsShown('Chart Benchmark');
		const ms = await page.evaluate(async (entries) => {
			const target = [...document.querySelectorAll('[data-testid="patient-row"]')].find((r) => r.textContent?.includes('Chart Benchmark'));
			if (!target) throw new Error('the chart patient is not listed');
			const shown = (test) =>
				new Promise((resolve) => {
					const check = () => (test() ? resolve(undefined) : requestAnimationFrame(check));
					check();
				});
			const title = () => document.querySelector('#chart-title')?.textContent ?? '';
			const t0 = performance.now();
			target.click();
			// Usable: the total known (a few of the 500 resources may be versions of one record) and the first screen (the timeline draws 50 at first) decrypted.
			await shown(
				() =>
					title().includes('Chart Benchmark') &&
					Number(document.querySelector('[data-testid="timeline"]')?.getAttribute('data-total') ?? 0) >= entries - 10 &&
					document.querySelectorAll('[data-testid="timeline-entry"]:not(.sealed)').length >= Math.min(entries, 50)
			);
			return performance.now() - t0;
		}, CHART_ENTRIES);
		results.charts.push(Math.round(ms));
		log(`chart open ${run + 1}/${RUNS}: ${Math.round(ms)} ms`);
	}
} finally {
	await browser.close();
	await server.close();
}

const metrics = [
	{
		metric: quick ? 'import_100_patients_s' : 'import_1000_patients_s',
		value: Number(results.importS.toFixed(1)),
		unit: 's',
		goal: GOALS.import_1000_patients_s,
		samples: [Number(results.importWallS.toFixed(1))]
	},
	{
		metric: quick ? 'chart_open_10k_ms' : 'chart_open_ms',
		value: median(results.charts),
		unit: 'ms',
		goal: GOALS.chart_open_ms,
		samples: results.charts
	}
];
console.log(
	`\nclinic-ledger records benchmarks${quick ? ' (--quick: smaller sizes, not comparable with the goals)' : ''}; Chromium ${results.chromium}`
);
console.log(
	`import: ${results.patients} patients, ${results.resources} resources (${results.bundleMb.toFixed(1)} MB JSON) -> ${results.importRecords} sealed records in ${results.importBlocks} blocks`
);
console.log(
	`chart: a patient with ${CHART_ENTRIES} entries in a ledger of ${results.blocks.toLocaleString('en')} blocks (fixture filled in ${results.fillS.toFixed(0)} s)`
);
console.log(`${'metric'.padEnd(26)}${'value'.padStart(8)}  unit  ${'goal'.padEnd(8)} samples`);
for (const m of metrics)
	console.log(
		`${m.metric.padEnd(26)}${String(m.value).padStart(8)}  ${m.unit.padEnd(4)}  ${`< ${m.goal}`.padEnd(8)} ${m.samples.join(', ')}${m.value < m.goal ? ' met' : ' MISSED'}`
	);
for (const m of metrics) console.log(JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit, baseline: null, goal: m.goal }));
