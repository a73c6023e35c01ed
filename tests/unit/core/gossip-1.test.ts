// Seeds of the 100-node gossip simulation, shard 1 of 2 (tests/unit/support/gossip-seeds.ts),
// and the mesh graph's shape over 200 seeds.
import { describe, expect, it } from 'vitest';
import { MAX_MESH_CONNECTIONS } from '../../../src/lib/core/sync/mesh.js';
import { meshGraph } from '../../../src/lib/core/testing/gossip.js';
import { prng } from '../../../src/lib/core/testing/prng.js';
import { gossipShard } from '../support/gossip-seeds.js';

describe('the gossip mesh graph', () => {
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
});

gossipShard(1);
