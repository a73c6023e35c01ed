import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger, decodeBlock, type Block, type ReasonCode } from '../../../src/lib/core/index.js';
import { foundNetwork, joinNetwork, syncInto } from '../../../src/lib/core/testing/fixtures.js';

/** A small network history: three members writing and syncing in a fixed pattern. */
async function history(): Promise<{ net: Ledger; blocks: Uint8Array[] }> {
	const a = await foundNetwork({ members: { b: 'clinician', c: 'front-desk' } });
	const b = await joinNetwork(a.net, 'b');
	const c = await joinNetwork(a.net, 'c');
	await syncInto(b, a);
	await syncInto(c, a);
	for (let round = 0; round < 4; round++) {
		await a.append([{ t: 'note', text: `a${round}` }]);
		await b.append([{ t: 'note', text: `b${round}` }]);
		if (round % 2 === 0) await syncInto(b, a);
		await c.append([{ t: 'note', text: `c${round}` }]);
		await syncInto(c, b);
		await syncInto(a, c);
	}
	await syncInto(a, b);
	const blocks: Uint8Array[] = [];
	for await (const x of a.blocksSince({})) blocks.push(x);
	return { net: a, blocks };
}

const ids = async (ledger: Ledger) => {
	const out: string[] = [];
	for await (const b of ledger.blocks()) out.push(b.id);
	return out;
};

describe('properties of the ledger', async () => {
	const { net, blocks } = await history();
	const expectedOrder = await ids(net);

	it('the history has blocks from all three authors woven by deps', () => {
		const authors = new Set(blocks.map((b) => decodeBlock(b).author));
		expect(authors.size).toBe(3);
		expect(blocks.some((b) => decodeBlock(b).deps.length > 0)).toBe(true);
	});

	it('shuffled arrival order, in any batching → identical final state and order', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.shuffledSubarray(blocks, { minLength: blocks.length, maxLength: blocks.length }),
				fc.integer({ min: 1, max: 8 }),
				async (shuffled, batch) => {
					const node = await joinNetwork(net.net, 'observer');
					for (let i = 0; i < shuffled.length; i += batch) await node.receive(shuffled.slice(i, i + batch));
					expect(node.pendingCount).toBe(0);
					expect(node.size).toBe(blocks.length);
					expect(await ids(node)).toEqual(expectedOrder);
					expect(node.state()).toEqual(net.state());
				}
			),
			{ numRuns: 40 }
		);
	});

	it('flipping any byte of a valid block → rejected with a reason code, store untouched', async () => {
		const target = await joinNetwork(net.net, 'observer');
		const inOrder: Uint8Array[] = [];
		for await (const b of net.blocks()) inOrder.push(b.bytes);
		await target.receive(inOrder.slice(0, 4));
		const victim = inOrder[4]!;
		const codes = new Set<ReasonCode>();
		// Every byte position, each flipped by a random non-zero mask.
		await fc.assert(
			fc.asyncProperty(fc.integer({ min: 0, max: victim.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, mask) => {
				const bad = victim.slice();
				bad[pos]! ^= mask;
				const before = target.size;
				const r = await target.receive([bad]);
				expect(r.accepted).toEqual([]);
				expect(r.rejected.length, JSON.stringify({ pos, mask, r })).toBe(1);
				codes.add(r.rejected[0]!.code);
				expect(target.size).toBe(before);
			}),
			{ numRuns: 300 }
		);
		for (let pos = 0; pos < victim.length; pos++) {
			const bad = victim.slice();
			bad[pos]! ^= 0x01;
			const r = await target.receive([bad]);
			expect(r.accepted, `byte ${pos}`).toEqual([]);
		}
		expect(codes.size).toBeGreaterThan(1);
		expect((await target.receive([victim])).accepted.length).toBe(1);
	});

	it('truncated blocks are rejected, never crash', async () => {
		const target = await joinNetwork(net.net, 'observer');
		for (const b of blocks.slice(0, 3)) {
			for (let len = 0; len < b.length; len += 7) {
				const r = await target.receive([b.subarray(0, len)]);
				expect(r.rejected.length).toBe(1);
			}
		}
		expect(target.size).toBe(0);
	});

	it('a replayed block is a duplicate, a replayed batch changes nothing', async () => {
		const node = await joinNetwork(net.net, 'observer');
		await node.receive(blocks);
		const again = await node.receive(blocks);
		expect(again.accepted).toEqual([]);
		expect(again.duplicates).toBe(blocks.length);
		expect(await ids(node)).toEqual(expectedOrder);
	});

	it('blocks decode to what was signed', () => {
		const decoded: Block[] = blocks.map((b) => decodeBlock(b));
		expect(decoded.every((b) => b.net === net.net || b.id === net.net)).toBe(true);
	});
});
