// `npm run bench` (FHIR part):
//
//   import_synthea_entries_per_s  every Bundle of ../shared/fhir-samples/synthea (real
//                                 Synthea output: patients with claims, procedures, care
//                                 plans…, and the hospital and practitioner directories)
//                                 through the Import FHIR panel of the built app in Debian's
//                                 Chromium: from choosing the file (read, R4 validation,
//                                 references, preview) to the "Imported" message. Entries of
//                                 all files over the sum of their times.
//   fhir_rest_read_p95_ms         the headless peer's FHIR API (peer/fhir-server.ts) on a node
//                                 holding 1,000 imported patients: 100 reads of random
//                                 records (GET Observation/<id>, bearer token, decrypted from
//                                 their blocks) over HTTP on 127.0.0.1, 95th percentile.
//                                 The first read of a record decodes its whole block (an
//                                 import packs up to 800 records in one): the same 100
//                                 reads again show the server once its block cache is warm.
//
//   node bench/fhir.js             full sizes (about 2-4 minutes on 2 cores)
//   node bench/fhir.js --quick     100 patients for the REST part
//   node bench/fhir.js --no-build  use build/ as it is
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { startServer as startApp } from '../server/start.js';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.js';
import { appDriver } from './app-page.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const PATIENTS = quick ? 100 : 1000;
const PER_PATIENT = 20;
const READS = 100;
const PASSPHRASE = 'benchmark passphrase';
const GOALS = { import_synthea_entries_per_s: 100, fhir_rest_read_p95_ms: 50 };
const root = fileURLToPath(new URL('..', import.meta.url));
const samples = resolve(root, '../shared/fhir-samples/synthea');
const started = performance.now();
const log = (message) =>
	process.stderr.write(`[bench fhir ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

if (!existsSync(samples)) throw new Error(`FHIR samples missing: ${samples} (see ../shared/fhir-samples/README.md)`);
const files = readdirSync(samples)
	.filter((f) => f.endsWith('.json'))
	.sort()
	.map((name) => ({ name, text: readFileSync(join(samples, name), 'utf8') }));

if (!argv.includes('--no-build')) {
	log('building the app (vite build)');
	const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] });
	if (build.status !== 0) throw new Error('vite build failed');
}

// import_synthea_entries_per_s: the UI's import path, file by file into one clinic browser.
const results = { imports: [], reads: [], warm: [] };
const app = await startApp({ port: 0 });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
try {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
	const { byId, foundNetwork } = appDriver(page, PASSPHRASE);
	await foundNetwork(app.url);
	await byId('tab-patients').click();
	for (const file of files) {
		await byId('open-import').click();
		const entries = JSON.parse(file.text).entry.length;
		const t0 = performance.now();
		await byId('import-file').setInputFiles({ name: file.name, mimeType: 'application/fhir+json', buffer: Buffer.from(file.text) });
		await page.waitForSelector('[data-testid="import-run"]', { timeout: 300_000 });
		await byId('import-run').click();
		await page.waitForSelector('[data-testid="import-done"]', { timeout: 300_000 });
		const s = (performance.now() - t0) / 1000;
		results.imports.push({ name: file.name, entries, s });
		log(`import ${file.name.slice(0, 40)}: ${entries} entries in ${s.toFixed(2)} s`);
	}
} finally {
	await browser.close();
	await app.close();
}

// fhir_rest_read_p95_ms: the peer's FHIR server in this process, through Vite's module loader (as peer/main.js).
const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'error',
	clearScreen: false,
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null, ws: false },
	optimizeDeps: { noDiscovery: true, include: [] }
});
try {
	const load = (path) => vite.ssrLoadModule(path);
	const { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } = await load('/src/lib/core/testing/fixtures.ts');
	const { fromHex } = await load('/src/lib/core/index.ts');
	const { APP_FOLDS, APP_INDEXES } = await load('/src/lib/domain/fold-registry.ts');
	const { APP_RULES } = await load('/src/lib/domain/rule-registry.ts');
	const { CATEGORIES, encryptionSecretKey } = await load('/src/lib/domain/privacy/envelope.ts');
	const { RecordBook } = await load('/src/lib/domain/records/book.ts');
	const { Keyring } = await load('/src/lib/domain/records/keyring.ts');
	const { planImport, runImport } = await load('/src/lib/domain/records/bundle.ts');
	const { syntheticBundle } = await load('/tests/synthetic/records.ts');
	const { serveFhir } = await load('/peer/fhir-server.ts');
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
	const clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
	await clinic.append([{ t: 'member.add', key: fromHex(authorOf('peer')), role: 'clinician', clinic: fromHex(authorOf('clinic-a')) }]);
	const peer = await joinNetwork(clinic.net, 'peer', options);
	await syncInto(peer, clinic);
	const keyring = new Keyring(authorOf('peer'), encryptionSecretKey(testSecret('peer')));
	const book = new RecordBook(peer, keyring);
	const fixtureStarted = performance.now();
	const plan = planImport(JSON.stringify(syntheticBundle(PATIENTS, { seed: 2026, perPatient: PER_PATIENT })));
	if (plan.issues.length) throw new Error(`fixture Bundle refused: ${JSON.stringify(plan.issues.slice(0, 3))}`);
	const imported = await runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES });
	log(
		`REST fixture: ${PATIENTS} patients, ${imported.records} records in ${imported.blocks} blocks (${((performance.now() - fixtureStarted) / 1000).toFixed(0)} s)`
	);
	const observations = plan.patients.flatMap((p) => p.records.filter((r) => r.resource.resourceType === 'Observation').map((r) => r.rid));
	const server = await serveFhir({ ledger: peer, keyring, host: '127.0.0.1', port: 0 });
	try {
		const headers = { Authorization: `Bearer ${server.token}`, Accept: 'application/fhir+json' };
		let seed = 7;
		const pick = () => observations[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % observations.length];
		await (await fetch(`${server.url}/metadata`, { headers })).json(); // the connection and the route, not a record
		const ids = Array.from({ length: READS }, pick);
		for (const times of [results.reads, results.warm]) {
			for (const id of ids) {
				const t0 = performance.now();
				const response = await fetch(`${server.url}/Observation/${id}`, { headers });
				const body = await response.json();
				times.push(performance.now() - t0);
				if (response.status !== 200 || body.resourceType !== 'Observation')
					throw new Error(`read failed: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
			}
		}
	} finally {
		await server.close();
	}
} finally {
	await vite.close();
}

const entries = results.imports.reduce((n, r) => n + r.entries, 0);
const seconds = results.imports.reduce((n, r) => n + r.s, 0);
const metrics = [
	{
		metric: 'import_synthea_entries_per_s',
		value: Math.round(entries / seconds),
		unit: '/s',
		goal: GOALS.import_synthea_entries_per_s,
		better: 'higher',
		samples: results.imports.map((r) => Math.round(r.entries / r.s))
	},
	{
		metric: quick ? 'fhir_rest_read_p95_100p_ms' : 'fhir_rest_read_p95_ms',
		value: Number(percentile(results.reads, 95).toFixed(1)),
		unit: 'ms',
		goal: GOALS.fhir_rest_read_p95_ms,
		better: 'lower',
		samples: [percentile(results.reads, 50), percentile(results.reads, 99), percentile(results.warm, 50), percentile(results.warm, 95)].map(
			(x) => Number(x.toFixed(1))
		)
	}
];
console.log(`\nclinic-ledger FHIR benchmarks${quick ? ' (--quick: smaller sizes, not comparable with the goals)' : ''}`);
console.log(
	`import: ${files.length} Synthea files, ${entries} entries; REST: ${PATIENTS} patients × ${PER_PATIENT} resources, ${READS} reads (samples: p50, p99; the same reads again, warm: p50, p95)`
);
for (const m of metrics)
	console.log(
		`${m.metric.padEnd(30)}${String(m.value).padStart(8)}  ${m.unit.padEnd(4)}  ${`${m.better === 'higher' ? '>' : '<'} ${m.goal}`.padEnd(8)} ${m.samples.join(', ')}${(m.better === 'higher' ? m.value > m.goal : m.value < m.goal) ? ' met' : ' MISSED'}`
	);
for (const m of metrics) console.log(JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit, baseline: null, goal: m.goal }));
