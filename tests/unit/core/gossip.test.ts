/**
 * Issue 19, network scale: 100 nodes, each with at most 8 links (as the browser mesh caps
 * its connections), 50 ms links. For each seed (random graph and writers) every block
 * written reaches every node, and what a node sends grows with its links, not with the
 * size of the network (the same per-node traffic at 50 and at 100 nodes).
 */
import { describe, expect, it } from 'vitest';
import { meshGraph, percentile, runGossip } from '../../../src/lib/core/testing/gossip.js';
import { prng } from '../../../src/lib/core/testing/prng.js';
import { MAX_MESH_CONNECTIONS } from '../../../src/lib/core/sync/mesh.js';

// 5 seeds here (about 2 s of CPU each); `npm run bench` (bench/gossip.js) runs 50 and reports the p95.
const SEEDS = Number(process.env.GOSSIP_SEEDS ?? 5);

describe('gossip over 100 nodes with at most 8 links each', () => {
	it('the graph is connected and no node has more links than the mesh allows, for every seed', () => {
		for (let seed = 1; seed <= 200; seed++) {
			const edges = meshGraph(100, MAX_MESH_CONNECTIONS, prng(seed));
			const adjacent = Array.from({ length: 100 }, () => [] as number[]);
			for (const [i, j] of edges) {
				adjacent[i]!.push(j);
				adjacent[j]!.push(i);
			}
			expect(Math.max(...adjacent.map((a) => a.length))).toBeLessThanOrEqual(MAX_MESH_CONNECTIONS);
			const seen = new Set([0]);
			const queue = [0];
			while (queue.length) {
				for (const n of adjacent[queue.shift()!]!) {
					if (seen.has(n)) continue;
					seen.add(n);
					queue.push(n);
				}
			}
			expect(seen.size, `seed ${seed}`).toBe(100);
		}
	});

	it(`every block reaches every node, over ${SEEDS} seeds`, async () => {
		const worst: number[] = [];
		for (let seed = 1; seed <= SEEDS; seed++) {
			const run = await runGossip({ seed, nodes: 100, maxLinks: MAX_MESH_CONNECTIONS, writes: 2 });
			expect(run.latencies.length, `seed ${seed}`).toBe(2 * 99);
			expect(
				run.latencies.filter((l) => !Number.isFinite(l)),
				`seed ${seed}: nodes never reached`
			).toEqual([]);
			expect(Math.max(...run.degrees)).toBeLessThanOrEqual(MAX_MESH_CONNECTIONS);
			worst.push(percentile(run.latencies, 95));
		}
		console.log(
			`gossip, 100 nodes, ${SEEDS} seeds: p95 delivery (virtual ms, 50 ms links) median ${percentile(worst, 50)}, worst ${Math.max(...worst)}`
		);
	}, 300_000);

	it('per-node traffic follows a node’s links, not the network size', async () => {
		const perLinkPerBlock = async (nodes: number) => {
			const run = await runGossip({ seed: 7, nodes, maxLinks: MAX_MESH_CONNECTIONS, writes: 6 });
			const ratios = run.bytesSent.map((b, i) => b / run.degrees[i]! / 6);
			return { mean: ratios.reduce((a, b) => a + b, 0) / ratios.length, max: Math.max(...run.bytesSent), blockBytes: run.blockBytes };
		};
		const small = await perLinkPerBlock(50);
		const large = await perLinkPerBlock(100);
		console.log(
			`bytes sent per link per block: 50 nodes ${small.mean.toFixed(0)}, 100 nodes ${large.mean.toFixed(0)} (block ${large.blockBytes} B)`
		);
		expect(large.mean / small.mean).toBeLessThan(1.5);
		expect(large.mean / small.mean).toBeGreaterThan(1 / 1.5);
		// A node sends each block over each link at most a few times (offer, block, acks), never once per node of the network.
		expect(large.max).toBeLessThan(MAX_MESH_CONNECTIONS * 6 * large.blockBytes * 4);
	}, 120_000);
});
