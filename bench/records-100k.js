// `npm run bench` (records at scale, issue 19): one patient with 100,000 records in the built
// app (build/, served by server/start.js) in Debian's Chromium through playwright-core.
//
//   chart_open_100k_records_ms  from the click on the patient to the chart usable: its title,
//                               the timeline's total count, and the first screen of entries
//                               (FIRST_SCREEN, or all when fewer) decrypted and shown.
//                               Goal < 500 ms.
//   export_100k_records_s       from the click on "Export FHIR Bundle" to the download link of
//                               the patient's Bundle. Goal < 10 s.
//   *_heap_mb                   the page's peak JS heap during each (CDP Runtime.getHeapUsage
//                               polled every 20 ms, answered between tasks, so a peak inside
//                               one long task can be missed), from a collected heap before.
//                               Goal < 200 MB.
//
// Baseline in the same run: the same for a patient with 500 records (bench/records.js's
// chart_open_ms patient). The records come in through the Import FHIR panel, the app's own
// record transactions (sealed under per patient/category keys, 800 record puts per block).
//
//   node bench/records-100k.js            100,000 records (about 5-10 minutes on 2 cores)
//   node bench/records-100k.js --quick    10,000 records
//   node bench/records-100k.js --no-build use build/ as it is
//   node bench/records-100k.js --profile  also a CPU profile of the large open and export
//                                         (build without minifying: readable names),
//                                         written to bench/results/ and summarized
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startServer as startApp } from '../server/start.js';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.js';
import { appDriver } from './app-page.js';
import { startServer as startVite } from './harness.js';
import { summarizeProfile } from './lib/cpu-profile.js';
import { metricTable, printMetricLines } from './metric-table.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profiling = argv.includes('--profile');
const LARGE = quick ? 10_000 : 100_000;
const SMALL = 500;
/** Entries a first screen shows: the chart is usable once these are decrypted and drawn. */
const FIRST_SCREEN = 50;
const RUNS = { open: 3, export: 2 };
const PASSPHRASE = 'benchmark passphrase';
const GOALS = { open: 500, export: 10, heap: 200 };
const started = performance.now();
const log = (message) =>
	process.stderr.write(`[bench records-100k ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!argv.includes('--no-build')) {
	log(`building the app (vite build${profiling ? ' --minify false' : ''})`);
	const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error', ...(profiling ? ['--minify', 'false'] : [])], {
		stdio: ['ignore', 'ignore', 'inherit']
	});
	if (build.status !== 0) throw new Error('vite build failed');
}

// Deterministic patients from the app's synthetic generator, each with its own record number.
const vite = await startVite();
const { syntheticBundle } = await vite.server.ssrLoadModule('/tests/synthetic/records.ts');
const patient = (seed, entries, given, mrn) => {
	const bundle = syntheticBundle(1, { seed, perPatient: entries });
	const p = bundle.entry[0].resource;
	p.name = [{ family: 'Benchmark', given: [given] }];
	p.identifier = [{ system: 'urn:example:mrn', value: mrn }];
	// Its own id and fullUrl too: a patient already here is recognized by source (Patient/id).
	return Buffer.from(
		JSON.stringify(bundle)
			.replaceAll('p000000', `p${seed}`)
			.replaceAll('urn:uuid:00000000-0000-4000-8000-000000000000', `urn:uuid:00000000-0000-4000-8000-${String(seed).padStart(12, '0')}`)
	);
};
const fixtures = [
	{ name: 'Other Benchmark', entries: 5, json: patient(7, 5, 'Other', 'MRN-OTHER') },
	{ name: 'Small Benchmark', entries: SMALL, json: patient(99, SMALL, 'Small', 'MRN-SMALL') },
	{ name: 'Large Benchmark', entries: LARGE, json: patient(100, LARGE, 'Large', 'MRN-LARGE') }
];
await vite.server.close();

const server = await startApp({ port: 0 });
const browser = await chromium.launch({
	executablePath: chromiumPath(),
	args: [...chromiumArgs, '--enable-precise-memory-info'],
	headless: true
});
const results = { chromium: browser.version(), open: {}, openHeap: {}, export: {}, exportHeap: {}, importS: {} };
try {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
	page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
	const cdp = await page.context().newCDPSession(page);
	const { byId, waitAttr, unlock, foundNetwork } = appDriver(page, PASSPHRASE);
	await foundNetwork(server.url);

	await byId('tab-patients').click();
	await byId('open-import').click();
	for (const f of fixtures) {
		log(`importing ${f.name}: ${f.entries} resources, ${(f.json.length / 1e6).toFixed(1)} MB`);
		await byId('import-file').setInputFiles({ name: 'bundle.json', mimeType: 'application/json', buffer: f.json }, { timeout: 600_000 });
		// The new file's plan (the previous plan's button stays until it is read).
		await page
			.waitForFunction(
				(n) => document.querySelector('[data-testid="import-preview"]')?.textContent?.includes(`${n} resources`),
				f.entries,
				{ timeout: quick ? 30_000 : 600_000, polling: 200 }
			)
			.catch(async (error) => {
				log(`preview: ${await byId('import-panel').textContent()}`);
				throw error;
			});
		const t0 = performance.now();
		await byId('import-run').click();
		await waitAttr('import-done', 'data-records', String(f.entries), 1_800_000);
		results.importS[f.name] = (performance.now() - t0) / 1000;
		log(`imported ${f.name} in ${results.importS[f.name].toFixed(1)} s (${await byId('import-done').getAttribute('data-blocks')} blocks)`);
	}

	// A fresh page, as after a restart; the background verification (on the Ledger tab) finishes first.
	await byId('tab-ledger').click();
	// After a 100,000-record import the page is busy for a while: reload only once the Ledger screen is the URL.
	await page.waitForURL('**/ledger', { timeout: 600_000 });
	await page.reload();
	const dump = async (error) => {
		log(`page: ${(await page.locator('body').textContent())?.slice(0, 1500)}`);
		throw error;
	};
	await unlock('ready').catch(dump);
	log('unlocked');
	await waitAttr('verify-result', 'data-outcome', 'ok', quick ? 180_000 : 900_000).catch(dump);
	log('reloaded, ledger verified');
	await byId('tab-patients').click();
	await page
		.waitForFunction(() => document.querySelectorAll('[data-testid="patient-row"]').length === 3, null, { timeout: 120_000 })
		.catch(async (error) => {
			log(`patients: ${await page.locator('main').textContent()}`);
			throw error;
		});
	log('patients listed');

	/** Runs `action` while polling the page's JS heap: ms, peak heap and heap after (MB over a collected heap before). */
	const measured = async (action) => {
		await cdp.send('HeapProfiler.collectGarbage');
		const base = (await cdp.send('Runtime.getHeapUsage')).usedSize;
		let peak = base;
		let polling = true;
		const poll = (async () => {
			while (polling) {
				peak = Math.max(peak, (await cdp.send('Runtime.getHeapUsage')).usedSize);
				await new Promise((r) => setTimeout(r, 20));
			}
		})();
		const t0 = performance.now();
		const timed = await action();
		// An action timed in the page returns its own figure (no round trip to the driver).
		const ms = typeof timed === 'number' ? timed : performance.now() - t0;
		polling = false;
		await poll;
		const after = (await cdp.send('Runtime.getHeapUsage')).usedSize;
		peak = Math.max(peak, after);
		return { ms, baseMb: base / 1e6, peakMb: (peak - base) / 1e6, peakAbsMb: peak / 1e6 };
	};
	const profiled = async (name, action) => {
		if (!profiling) return action();
		await cdp.send('Profiler.enable');
		await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
		await cdp.send('Profiler.start');
		const out = await action();
		const { profile } = await cdp.send('Profiler.stop');
		mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
		writeFileSync(new URL(`./results/${name}.cpuprofile`, import.meta.url), JSON.stringify(profile));
		const s = summarizeProfile(profile, { modules: 12, functions: 25, inclusive: 30 });
		console.log(
			`\nprofile ${name}: ${s.totalMs.toFixed(0)} ms sampled\nby module:\n${s.modules}\nby function (self):\n${s.functions}\nby function (inclusive, app code):\n${s.inclusive}\n`
		);
		return out;
	};

	/** Opens `name`'s chart (clicked in the page, timed there): ms until the title, the total and the first screen show. */
	const openChart = (name) => async () => {
		const ms = await page
			.evaluate(
				async ([n, first]) => {
					const target = [...document.querySelectorAll('[data-testid="patient-row"]')].find((r) => r.textContent?.includes(n));
					if (!target) throw new Error(`${n} not listed`);
					const usable = () => {
						if (!document.querySelector('#chart-title')?.textContent?.includes(n)) return false;
						const heading = document.querySelector('[data-testid="timeline"]')?.previousElementSibling?.textContent ?? '';
						const count = Number(/\(([\d,]+) records/.exec(heading)?.[1]?.replaceAll(',', '') ?? -1);
						// The heading's total is shown once the chart's records are known (the patient's rows of the record index).
						const entries = document.querySelectorAll('[data-testid="timeline-entry"]:not(.sealed)').length;
						return count > 0 && entries >= Math.min(count, first);
					};
					const t0 = performance.now();
					target.click();
					await new Promise((resolve, reject) => {
						const give = setTimeout(() => reject(new Error('chart not usable in time')), 900_000);
						const check = () => (usable() ? (clearTimeout(give), resolve(undefined)) : requestAnimationFrame(check));
						check();
					});
					return performance.now() - t0;
				},
				[name, FIRST_SCREEN]
			)
			.catch(async (error) => {
				log(`chart: ${(await page.locator('main').textContent())?.slice(0, 2000)}`);
				throw error;
			});
		return ms;
	};
	const exportChart = async () => {
		// Read at once in the page (a locator with a short timeout read null on a busy machine, and an old link then passed for the new one).
		const before = await page.evaluate(() => document.querySelector('[data-testid="export-download"]')?.getAttribute('href') ?? null);
		await byId('export-fhir').click();
		await page.waitForFunction(
			(prev) => {
				const href = document.querySelector('[data-testid="export-download"]')?.getAttribute('href');
				return !!href && href !== prev;
			},
			before,
			{ timeout: 900_000, polling: 100 }
		);
	};
	/** The size of the exported file and its entry count (downloaded through its link, as a person would). */
	const exportedFile = async () => {
		const [download] = await Promise.all([page.waitForEvent('download'), byId('export-download').click()]);
		const text = readFileSync(await download.path(), 'utf8');
		return { bytes: Buffer.byteLength(text), entries: (text.match(/"fullUrl"/g) ?? []).length };
	};

	for (const [name, key] of [
		['Small Benchmark', 'small'],
		['Large Benchmark', 'large']
	]) {
		results.open[key] = [];
		results.openHeap[key] = [];
		for (let run = 0; run < RUNS.open; run++) {
			await openChart('Other Benchmark')();
			const m =
				run === RUNS.open - 1 && key === 'large'
					? await profiled('chart-open-large', () => measured(openChart(name)))
					: await measured(openChart(name));
			results.open[key].push(Math.round(m.ms));
			results.openHeap[key].push(Math.round(m.peakMb));
			log(
				`${key} chart open ${run + 1}/${RUNS.open}: ${Math.round(m.ms)} ms, heap peak +${m.peakMb.toFixed(0)} MB (of ${m.peakAbsMb.toFixed(0)} MB)`
			);
			// Settle: whatever the open left running (read log, refreshes) before the next measure.
			await page.waitForTimeout(1000);
		}
		results.export[key] = [];
		results.exportHeap[key] = [];
		for (let run = 0; run < RUNS.export; run++) {
			const m =
				run === RUNS.export - 1 && key === 'large'
					? await profiled('export-large', () => measured(exportChart))
					: await measured(exportChart);
			results.export[key].push(Number((m.ms / 1000).toFixed(2)));
			results.exportHeap[key].push(Math.round(m.peakMb));
			log(
				`${key} export ${run + 1}/${RUNS.export}: ${(m.ms / 1000).toFixed(2)} s, heap peak +${m.peakMb.toFixed(0)} MB (of ${m.peakAbsMb.toFixed(0)} MB)`
			);
			await page.waitForTimeout(1000);
		}
		const file = await exportedFile();
		results[`file_${key}`] = file;
		log(`${key} export file: ${(file.bytes / 1e6).toFixed(1)} MB, ${file.entries} entries`);
	}
} finally {
	await browser.close();
	await server.close();
}

const suffix = quick ? '10k' : '100k';
const metric = (name, value, unit, baseline, goal, samples) => ({
	metric: name,
	value,
	unit,
	baseline,
	baseline_name: `${SMALL} records`,
	goal,
	better: 'lower',
	ratio: baseline ? `${(value / baseline).toFixed(1)}x` : null,
	met: value < goal,
	samples
});
const metrics = [
	metric(`chart_open_${suffix}_records_ms`, median(results.open.large), 'ms', median(results.open.small), GOALS.open, results.open.large),
	metric(
		`chart_open_${suffix}_records_heap_mb`,
		Math.max(...results.openHeap.large),
		'MB',
		Math.max(...results.openHeap.small),
		GOALS.heap,
		results.openHeap.large
	),
	metric(`export_${suffix}_records_s`, median(results.export.large), 's', median(results.export.small), GOALS.export, results.export.large),
	metric(
		`export_${suffix}_records_heap_mb`,
		Math.max(...results.exportHeap.large),
		'MB',
		Math.max(...results.exportHeap.small),
		GOALS.heap,
		results.exportHeap.large
	)
];
console.log(
	`\nclinic-ledger records at scale${quick ? ' (--quick: 10,000 records, not comparable with the goals)' : ''}; Chromium ${results.chromium}`
);
console.log(
	`a patient with ${LARGE.toLocaleString('en')} records (imported in ${results.importS['Large Benchmark'].toFixed(0)} s), baseline a patient with ${SMALL}; export files ${(results.file_large.bytes / 1e6).toFixed(1)} MB (${results.file_large.entries} entries) and ${(results.file_small.bytes / 1e6).toFixed(2)} MB`
);
console.log('heap: peak over a collected heap before (MB); samples: every run\n');
console.log(metricTable(metrics, '-'));
for (const m of metrics) console.log(`  ${m.metric}: ${m.samples.join(', ')}`);
printMetricLines(metrics);
