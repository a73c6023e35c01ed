// `npm run bench` (contracts part): claims adjudication in the fold, in Node, on the same
// TypeScript modules the app runs (loaded through Vite's ssrLoadModule).
//
//   adjudicate_per_s     claims (5 lines each) adjudicated per second by the claims fold,
//                        counting the whole synthetic ledger folded (encounter records,
//                        remittances and payments included): median of 3 runs of 5,000 claims
//   fold_20k_claims_s    cold fold of 100,000 decoded blocks holding 20,000 claims through
//                        every app fold (no signature checks or storage reads: those are
//                        measured by bench/run.js)
//   checkpoint_start_s   start from a checkpoint of that state: CBOR decode of the
//                        checkpoint bytes and every fold's decode
//
// Each figure is wall-clock time; the CPU time of the process (process.cpuUsage: all its
// threads, the garbage collector's included) is printed next to it, because on a shared
// machine the wall clock also counts the time spent waiting for a core.
//
//   node bench/contracts.js [--quick]   --quick: a tenth of the sizes, for checking the harness
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));
const GOALS = { adjudicate_per_s: 5000, fold_20k_claims_s: 10, checkpoint_start_s: 1 };
const CLAIMS = quick ? 500 : 5_000;
const BIG = quick ? { claims: 2_000, blocks: 10_000 } : { claims: 20_000, blocks: 100_000 };
const log = (m) => process.stderr.write(`[bench contracts] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Runs `work`, returning its result with the wall and CPU seconds it took. */
function timed(work) {
	const cpu = process.cpuUsage();
	const started = performance.now();
	const result = work();
	const used = process.cpuUsage(cpu);
	return { result, wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'warn',
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null }
});
try {
	const contracts = await vite.ssrLoadModule('/src/lib/domain/contracts/index.ts');
	const { syntheticClaims } = await vite.ssrLoadModule('/tests/synthetic/claims.ts');
	const { APP_FOLDS } = await vite.ssrLoadModule('/src/lib/domain/fold-registry.ts');
	const core = await vite.ssrLoadModule('/src/lib/core/index.ts');
	const { foldContexts } = await vite.ssrLoadModule('/src/lib/core/testing/fold-contexts.ts');
	const folds = [core.summaryFold, ...APP_FOLDS];

	const small = syntheticClaims({ seed: 11, claims: CLAIMS, linesPerClaim: 5 });
	const rates = [];
	const cpuRates = [];
	for (let run = 0; run < 5; run++) {
		const {
			result: state,
			wall,
			cpu
		} = timed(() => {
			const causal = foldContexts(contracts.claimsFold.reads);
			let state = contracts.claimsFold.init();
			for (const block of small.blocks) state = contracts.claimsFold.apply(state, block, causal(block));
			return state;
		});
		if (state.count !== CLAIMS) throw new Error(`expected ${CLAIMS} claims, folded ${state.count}`);
		rates.push(Math.round(CLAIMS / wall));
		cpuRates.push(Math.round(CLAIMS / cpu));
		log(`adjudication run ${run + 1}: ${rates[run]} claims/s wall, ${cpuRates[run]} per CPU second (${small.blocks.length} blocks)`);
	}

	log(`generating ${BIG.blocks} blocks with ${BIG.claims} claims`);
	const big = syntheticClaims({ seed: 12, claims: BIG.claims, linesPerClaim: 5, totalBlocks: BIG.blocks, patients: BIG.claims / 5 });
	const fold = timed(() => {
		const causal = foldContexts(folds.flatMap((f) => f.reads ?? []));
		let states = folds.map((f) => f.init());
		for (const block of big.blocks) {
			const seen = causal(block);
			states = states.map((s, i) => folds[i].apply(s, block, seen));
		}
		return states;
	});
	const states = fold.result;
	const foldSeconds = fold.wall;
	const claimsState = states[folds.findIndex((f) => f.name === 'claims')];
	log(`cold fold: ${foldSeconds.toFixed(2)} s for ${big.blocks.length} blocks, ${claimsState.count} claims`);

	const bytes = core.encodeCanonical({ states: folds.map((f, i) => f.encode(states[i])) });
	const start = timed(() => {
		const decoded = core.decodeCanonical(bytes);
		return folds.map((f, i) => f.decode(decoded.states[i]));
	});
	const restored = start.result;
	for (const [i, f] of folds.entries()) {
		const own = core.encodeCanonical(f.encode(states[i]));
		const t = timed(() => f.decode(core.decodeCanonical(own)));
		log(`checkpoint part ${f.name}: ${(own.length / 1e6).toFixed(1)} MB, decoded in ${t.wall.toFixed(2)} s (${t.cpu.toFixed(2)} s CPU)`);
	}
	const startSeconds = start.wall;
	if (restored[folds.findIndex((f) => f.name === 'claims')].count !== claimsState.count) throw new Error('checkpoint lost claims');
	log(`checkpoint: ${(bytes.length / 1e6).toFixed(1)} MB, start ${startSeconds.toFixed(2)} s`);

	const metrics = [
		{
			metric: 'adjudicate_per_s',
			value: median(rates),
			unit: 'claims/s',
			goal: GOALS.adjudicate_per_s,
			better: 'higher',
			cpu: median(cpuRates),
			samples: rates
		},
		{
			metric: quick ? 'fold_2k_claims_s' : 'fold_20k_claims_s',
			value: Number(foldSeconds.toFixed(2)),
			unit: 's',
			goal: GOALS.fold_20k_claims_s,
			better: 'lower',
			cpu: Number(fold.cpu.toFixed(2)),
			samples: []
		},
		{
			metric: 'checkpoint_start_s',
			value: Number(startSeconds.toFixed(2)),
			unit: 's',
			goal: GOALS.checkpoint_start_s,
			better: 'lower',
			cpu: Number(start.cpu.toFixed(2)),
			samples: [`${(bytes.length / 1e6).toFixed(1)} MB`]
		}
	];
	console.log(
		`\nclinic-ledger contracts benchmarks${quick ? ' (--quick: a tenth of the sizes, not comparable with the goals)' : ''}; Node ${process.version}; load average ${loadavg()
			.map((x) => x.toFixed(1))
			.join(' ')}`
	);
	console.log(`${'metric'.padEnd(22)}${'value'.padStart(10)}  ${'unit'.padEnd(9)} ${'goal'.padEnd(14)} ${'CPU'.padStart(8)}  samples`);
	for (const m of metrics) {
		const met = m.better === 'higher' ? m.value >= m.goal : m.value < m.goal;
		console.log(
			`${m.metric.padEnd(22)}${String(m.value).padStart(10)}  ${m.unit.padEnd(9)} ${`${m.better === 'higher' ? '≥' : '<'} ${m.goal}${met ? ' met' : ' MISSED'}`.padEnd(14)} ${String(m.cpu).padStart(8)}  ${m.samples.join(', ')}`
		);
	}
	console.log('CPU: the same figure counted in CPU time of this process (claims per CPU second, CPU seconds).');
	for (const m of metrics)
		console.log(JSON.stringify({ metric: m.metric, value: m.value, unit: m.unit, baseline: null, goal: m.goal, cpu: m.cpu }));
} finally {
	await vite.close();
}
