// The ledger view holds only the newest blocks (state/ledger-view.svelte.ts): they must be
// exactly the last ones of the whole ledger in total order, for every size asked, on a
// many-author ledger with concurrent writers, equivocations and void blocks.
import { describe, expect, it } from 'vitest';
import { newestBlocks } from '../../../src/lib/state/ledger-view.svelte.js';
import { open, repair } from '../support/arrival-orders.js';
import { buildHostileDag } from '../support/hostile-dag.js';
import type { Block } from '../../../src/lib/core/types.js';

describe('ledger view: the newest blocks', () => {
	it('reads the last n blocks in ledger order, whatever n', async () => {
		for (const seed of [3, 11]) {
			const dag = await buildHostileDag(seed, 12);
			const node = await open(dag.net, `tail-${seed}`);
			await node.receive(dag.blocks);
			await repair(node, dag.blocks);
			const all: Block[] = [];
			for await (const b of node.blocks()) all.push(b);
			expect(all.length).toBeGreaterThan(60);
			// Many authors write at the same clocks: a clock span of n holds more than n blocks.
			expect(new Set(all.map((b) => b.clock)).size).toBeLessThan(all.length);
			for (const n of [1, 2, 5, 17, 40, all.length - 1, all.length, all.length + 10]) {
				const newest = await newestBlocks(node, n);
				expect(newest.map((b) => b.id)).toEqual(all.slice(-n).map((b) => b.id));
			}
			await node.close();
		}
	}, 60_000);
});
