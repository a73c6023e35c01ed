/**
 * Issue 19, network scale: 100 nodes, each with at most 8 links (as the browser mesh caps
 * its connections), 50 ms links. For each seed (random graph and writers) every block
 * written reaches every node. The 50 seeds are shared out over two test files
 * (gossip-1.test.ts, gossip-2.test.ts) so Vitest runs them on both cores; a seed costs
 * about half a second of CPU (src/lib/core/testing/gossip.ts, Node's synchronous crypto).
 */
import { describe, expect, it } from 'vitest';
import { MAX_MESH_CONNECTIONS } from '../../../src/lib/core/sync/mesh.js';
import { percentile, runGossip } from '../../../src/lib/core/testing/gossip.js';

/** Seeds of the 100-node run, over all shards; GOSSIP_SEEDS=n for another count. */
export const GOSSIP_SEEDS = Number(process.env.GOSSIP_SEEDS ?? 50);
export const GOSSIP_SHARDS = 2;
const NODES = 100;
const WRITES = 2;
/** Issue 19's goal for the 95th percentile of delivery (`gossip_100_nodes_p95_ms`, bench/gossip.js). */
const P95_GOAL_MS = 1000;

/**
 * Registers shard `shard` (1-based) of the seeds: a contiguous range, so the files together
 * run every seed once. GOSSIP_SEED=n replays that seed alone.
 */
export function gossipShard(shard: number): void {
	const size = Math.ceil(GOSSIP_SEEDS / GOSSIP_SHARDS);
	const from = (shard - 1) * size + 1;
	const to = Math.min(GOSSIP_SEEDS, shard * size);
	const only = process.env.GOSSIP_SEED;
	const seeds = only ? [Number(only)] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
	describe(`gossip over ${NODES} nodes with at most ${MAX_MESH_CONNECTIONS} links each`, () => {
		it(`every block reaches every node, seeds ${from}-${to} of all ${GOSSIP_SEEDS} (replay one with GOSSIP_SEED=n)`, async () => {
			expect(seeds.length).toBeGreaterThan(0);
			const p95s: string[] = [];
			const worst: number[] = [];
			for (const seed of seeds) {
				const run = await runGossip({ seed, nodes: NODES, maxLinks: MAX_MESH_CONNECTIONS, writes: WRITES });
				expect(run.latencies.length, `seed ${seed}`).toBe(WRITES * (NODES - 1));
				expect(
					run.latencies.filter((l) => !Number.isFinite(l)),
					`seed ${seed}: nodes never reached`
				).toEqual([]);
				expect(Math.max(...run.degrees), `seed ${seed}`).toBeLessThanOrEqual(MAX_MESH_CONNECTIONS);
				const p95 = percentile(run.latencies, 95);
				expect(p95, `seed ${seed}: p95 delivery`).toBeLessThan(P95_GOAL_MS);
				p95s.push(`${seed}: ${p95.toFixed(0)}`);
				worst.push(p95);
			}
			console.log(
				`gossip, ${NODES} nodes, seeds ${seeds[0]}-${seeds.at(-1)}: p95 delivery per seed (virtual ms, 50 ms links) ${p95s.join(', ')}; median ${percentile(worst, 50).toFixed(0)}, worst ${Math.max(...worst).toFixed(0)}`
			);
		}, 300_000);
	});
}
