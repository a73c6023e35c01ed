// Seeds of the 100-node gossip simulation, shard 2 of 2 (tests/unit/support/gossip-seeds.ts),
// and what a node sends: it grows with the node's links, not with the size of the network
// (the same per-node traffic at 50 and at 100 nodes).
import { describe, expect, it } from 'vitest';
import { MAX_MESH_CONNECTIONS } from '../../../src/lib/core/sync/mesh.js';
import { runGossip } from '../../../src/lib/core/testing/gossip.js';
import { gossipShard } from '../support/gossip-seeds.js';

describe('gossip traffic', () => {
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

gossipShard(2);
