// `npm test`: type check, unit/property/simulation tests (Node), browser tests (vitest in
// real Chromium), build, end-to-end tests (Playwright driving Debian's Chromium against
// the built app). Runs every stage even after a failure, then prints one line
// `total: N passed, M failed` counted from the runners' JSON reports.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const out = 'test-results/reports';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** @type {{name: string, passed: number, failed: number}[]} */
const stages = [];
/** Names of failed tests, printed again beside the summary (CI shows only the end of the log). */
const failures = [];

function run(name, command, args, env = {}) {
	console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
	const started = Date.now();
	const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	console.log(`=== ${name}: ended after ${((Date.now() - started) / 1000).toFixed(1)} s`);
	return result.status === 0;
}

/** Like {@link run}, without a terminal: the output is kept and printed whole when the command ends. */
function runQuiet(name, command, args) {
	return new Promise((resolve) => {
		const started = Date.now();
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
		let output = '';
		child.stdout.on('data', (chunk) => (output += chunk));
		child.stderr.on('data', (chunk) => (output += chunk));
		child.on('error', (error) => (output += `${error.message}\n`));
		child.on('close', (code) => {
			console.log(`\n=== ${name}: ${command} ${args.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
			process.stdout.write(output);
			resolve(code === 0);
		});
	});
}

function vitestCounts(file) {
	if (!existsSync(file)) return null;
	const report = JSON.parse(readFileSync(file, 'utf8'));
	for (const suite of report.testResults ?? []) {
		for (const test of suite.assertionResults ?? []) {
			if (test.status === 'failed')
				failures.push(
					`${suite.name.replace(process.cwd() + '/', '')} > ${test.fullName}: ${(test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300)}`
				);
		}
	}
	return {
		passed: report.numPassedTests,
		failed: report.numFailedTests + (report.numTotalTestSuites > 0 && report.success === false && report.numFailedTests === 0 ? 1 : 0)
	};
}

function playwrightCounts(file) {
	if (!existsSync(file)) return null;
	const { stats, suites } = JSON.parse(readFileSync(file, 'utf8'));
	const walk = (suite) => {
		for (const spec of suite.specs ?? []) {
			for (const test of spec.tests ?? []) {
				if (test.status === 'unexpected') {
					const error = test.results?.at(-1)?.error?.message ?? '';
					failures.push(`${spec.file} > ${spec.title}: ${error.split('\n')[0].slice(0, 300)}`);
				}
			}
		}
		for (const child of suite.suites ?? []) walk(child);
	};
	for (const suite of suites ?? []) walk(suite);
	return { passed: stats.expected + stats.flaky, failed: stats.unexpected + (stats.skipped ?? 0) };
}

function record(name, ok, counts) {
	// A stage that crashed before writing its report counts as one failure.
	const c = counts ?? { passed: 0, failed: 0 };
	if (!ok && c.failed === 0) c.failed = 1;
	stages.push({ name, ...c });
}

// The static checks read the tree and write nothing: they run side by side (each mostly on
// one core), their output printed whole as each one ends. svelte-kit sync first (svelte-check
// reads the .svelte-kit it writes); the build after them, since it rewrites .svelte-kit.
const synced = run('type check', 'npx', ['svelte-kit', 'sync']);
const [checkOk, layersOk, prettierOk, eslintOk] = await Promise.all([
	runQuiet('type check', 'npx', ['svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings']).then((ok) => synced && ok),
	runQuiet('layers', 'node', ['scripts/layers.js']),
	runQuiet('lint', 'npx', ['prettier', '--check', '.']),
	runQuiet('lint', 'npx', ['eslint', '.'])
]);
record('type check', checkOk, { passed: checkOk ? 1 : 0, failed: checkOk ? 0 : 1 });

// Layer rule (.dependency-cruiser.cjs), then layout and lint rules (.prettierrc, eslint.config.js).
record('layers', layersOk, { passed: layersOk ? 1 : 0, failed: layersOk ? 0 : 1 });
if (!layersOk) failures.push('layers: an import breaks the layer rule (scripts/layers.js output above; docs/architecture.md, "Layers")');
const lintChecks = [
	['prettier', prettierOk, "files not in prettier's layout (npm run format)"],
	['eslint', eslintOk, 'eslint problems (output above)']
];
for (const [tool, ok, what] of lintChecks) if (!ok) failures.push(`lint: ${tool}: ${what}`);
record(
	'lint',
	lintChecks.every(([, ok]) => ok),
	{ passed: lintChecks.filter(([, ok]) => ok).length, failed: lintChecks.filter(([, ok]) => !ok).length }
);

// The unit stage: the Node files, sharing each worker's module cache, and those that must run alone (native WebRTC, the heap-bounded fuzzer), each in a process of its own (vite.config.ts ISOLATED).
const vitestStages = { unit: ['unit', 'unit-isolated'], browser: ['browser'] };
for (const [project, projects] of Object.entries(vitestStages)) {
	const file = `${out}/vitest-${project}.json`;
	const ok = run(`vitest ${project}`, 'npx', [
		'vitest',
		'run',
		...projects.flatMap((p) => ['--project', p]),
		'--reporter=default',
		'--reporter=json',
		`--outputFile.json=${file}`
	]);
	record(`vitest ${project}`, ok, vitestCounts(file));
}

const buildOk = run('build', 'npx', ['vite', 'build']);
record('build', buildOk, { passed: buildOk ? 1 : 0, failed: buildOk ? 0 : 1 });
if (buildOk) {
	const file = `${out}/playwright.json`;
	const ok = run('end-to-end', 'npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: file });
	record('end-to-end', ok, playwrightCounts(file));
}

if (failures.length > 0) {
	console.log('\n=== failed tests');
	for (const f of failures) console.log(`FAILED ${f}`);
}
console.log('\n=== summary');
for (const s of stages) console.log(`${s.name.padEnd(16)} ${s.passed} passed, ${s.failed} failed`);
const passed = stages.reduce((n, s) => n + s.passed, 0);
const failed = stages.reduce((n, s) => n + s.failed, 0);
console.log(`total: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
