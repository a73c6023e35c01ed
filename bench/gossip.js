// `node bench/gossip.js`: gossip over a simulated network of 100 nodes, each with at most
// 8 links (the mesh's connection cap), 50 ms links, virtual time (issue 19, network scale).
// Prints `gossip_100_nodes_p95_ms` (95th percentile of the time from a write to a node
// accepting the block, over every written block, node and seed) beside the goal, and the
// bytes a node sends per link per block at 50 and 100 nodes (traffic follows links, not
// network size). The baseline is y-webrtc's default mesh cap (20 to 34 connections).
//
//   node bench/gossip.js            50 seeds
//   node bench/gossip.js --quick    5 seeds
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const quick = process.argv.includes('--quick');
const SEEDS = quick ? 5 : 50;
const GOALS = { gossip_100_nodes_p95_ms: 1000 };
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (m) => process.stderr.write(`[bench gossip] ${m}\n`);

const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'warn',
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null }
});
try {
	const { runGossip, percentile } = await vite.ssrLoadModule('/src/lib/core/testing/gossip.ts');
	const { MAX_MESH_CONNECTIONS } = await vite.ssrLoadModule('/src/lib/core/sync/mesh.ts');
	const started = performance.now();
	const measure = async (nodes, maxLinks, seeds) => {
		const latencies = [];
		const perLink = [];
		for (let seed = 1; seed <= seeds; seed++) {
			const run = await runGossip({ seed, nodes, maxLinks, writes: 3 });
			latencies.push(...run.latencies);
			perLink.push(...run.bytesSent.map((b, i) => b / run.degrees[i] / 3));
			if (seed % 10 === 0) log(`${nodes} nodes, cap ${maxLinks}: ${seed}/${seeds} seeds`);
		}
		return {
			p50: percentile(latencies, 50),
			p95: percentile(latencies, 95),
			max: Math.max(...latencies),
			perLink: perLink.reduce((a, b) => a + b, 0) / perLink.length,
			perNode: 0
		};
	};
	const capped = await measure(100, MAX_MESH_CONNECTIONS, SEEDS);
	const half = await measure(50, MAX_MESH_CONNECTIONS, Math.max(1, Math.round(SEEDS / 5)));
	const baseline = await measure(100, 27, Math.max(1, Math.round(SEEDS / 5)));
	const fmt = (x) => x.toFixed(0);
	console.log(
		`\ngossip, ${SEEDS} seeds of 100 nodes, 50 ms links (virtual time), ${((performance.now() - started) / 1000).toFixed(0)} s, load ${loadavg()[0].toFixed(1)}`
	);
	console.log('| metric | measured | baseline (y-webrtc default cap, 27 links) | goal |');
	console.log('|---|---|---|---|');
	console.log(
		`| gossip_100_nodes_p95_ms (cap ${MAX_MESH_CONNECTIONS}) | ${fmt(capped.p95)} (p50 ${fmt(capped.p50)}, max ${fmt(capped.max)}) | ${fmt(baseline.p95)} | < ${GOALS.gossip_100_nodes_p95_ms} |`
	);
	console.log(
		`| bytes sent per link per block, 100 nodes / 50 nodes | ${fmt(capped.perLink)} / ${fmt(half.perLink)} (ratio ${(capped.perLink / half.perLink).toFixed(2)}) | ${fmt(baseline.perLink)} per link, ${27 / MAX_MESH_CONNECTIONS}x the links | ratio ≈ 1 |`
	);
	console.log(
		JSON.stringify({
			metric: 'gossip_100_nodes_p95_ms',
			value: capped.p95,
			goal: GOALS.gossip_100_nodes_p95_ms,
			baseline: baseline.p95,
			seeds: SEEDS
		})
	);
} finally {
	await vite.close();
}
