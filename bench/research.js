// `npm run bench` (research part): one aggregate query answered at a clinic node.
//
//   cohort_query_10k_ms   10,000 synthetic patients (500,000 FHIR resources, decrypted, in
//                         memory), 80 % of them consented: cohort "type 2 diabetes dated
//                         2018-2024, age 18+, an HbA1c ≥ 6.5 % in that range", measured as a
//                         sex × age-band cross-tab with small-cell and complementary
//                         suppression. Median of 5 runs after one warm-up. Goal < 2,000 ms.
//
// The code measured is src/lib/domain/research (answerQuery), loaded through Vite's SSR
// module loader. Generating the patients is not timed; reading them from the record
// store (decryption) is not part of this figure either (docs/research.md).
//
//   node bench/research.js            full size
//   node bench/research.js --quick    1,000 patients, for checking the harness
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const quick = process.argv.includes('--quick');
const PATIENTS = quick ? 1_000 : 10_000;
const RESOURCES = 50;
const RUNS = 5;
const GOAL_MS = 2_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (message) => process.stderr.write(`[bench research] ${message}\n`);

const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'error',
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null },
	optimizeDeps: { noDiscovery: true }
});
try {
	const { answerQuery } = await vite.ssrLoadModule('/src/lib/domain/research/query.ts');
	const { syntheticPatients } = await vite.ssrLoadModule('/src/lib/demo/synthetic-patients.ts');
	log(`generating ${PATIENTS} patients × ${RESOURCES} resources`);
	const patients = syntheticPatients(2026, PATIENTS, RESOURCES);
	const resources = patients.reduce((n, p) => n + p.resources.length, 0);
	const consented = new Set(patients.filter((_, i) => i % 5 !== 0).map((p) => p.patient));
	const spec = {
		cohort: {
			conditions: ['SNOMED|44054006'],
			ageMin: 18,
			observations: [{ code: 'LOINC|4548-4', min: 6.5 }],
			from: '2018-01-01',
			to: '2024-12-31'
		},
		measure: { kind: 'crosstab', rows: { by: 'sex' }, cols: { by: 'age' } }
	};
	const now = Date.UTC(2026, 0, 1);
	const run = () => {
		const t = performance.now();
		const answer = answerQuery(patients, (p) => consented.has(p), spec, { now });
		return { ms: performance.now() - t, answer };
	};
	run();
	const times = [];
	let last;
	for (let i = 0; i < RUNS; i++) {
		const { ms, answer } = run();
		times.push(ms);
		last = answer;
	}
	const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
	const table = last.table;
	console.log('metric                 value      goal       detail');
	console.log(
		`cohort_query_10k_ms    ${median.toFixed(0).padEnd(10)} < ${GOAL_MS}    ${PATIENTS} patients, ${resources} resources, cohort ${table.total ?? 'hidden'}, ${table.primary} small + ${table.complementary} complementary cells hidden; runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`
	);
	console.log(
		JSON.stringify({ metric: 'cohort_query_10k_ms', value: Math.round(median), unit: 'ms', goal: GOAL_MS, patients: PATIENTS, resources })
	);
} finally {
	await vite.close();
}
