// Late batches handed to the ledger together (as a sync session does: the next batch is
// queued while one is written) rewind the folds that are not commutative once, when the
// last of them is folded, not once per batch (FoldEngine.advance with `defer`). Whatever
// the batching, the state, the checkpoints and a reopen end where in-order folding does.
import { describe, expect, it, vi } from 'vitest';
import { Ledger, MemoryStore, type Block, type Fold } from '../../../../src/lib/core/index.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSigner, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { note } from '../ledger-support.js';

/** A fold that depends on order (a running list), counting how often it starts again (from a checkpoint, or empty). */
function orderedFold(counter: { starts: number }): Fold<string[]> {
	return {
		name: 'ordered',
		version: 1,
		init: () => {
			counter.starts++;
			return [];
		},
		apply: (state, block: Block) => {
			state.push(`${block.clock}:${block.id.slice(0, 6)}`);
			return state;
		},
		encode: (state) => [...state],
		decode: (value) => {
			counter.starts++;
			return [...(value as string[])];
		}
	};
}

async function scenario() {
	// A writes 60 blocks; B, joined early, writes 40 whose clocks interleave with A's.
	const a = await foundNetwork({ members: { b: 'clinician' } });
	const b = await joinNetwork(a.net, 'b');
	await syncInto(b, a);
	for (let i = 0; i < 40; i++) {
		await a.append(note(`a${i}`));
		await b.append(note(`b${i}`));
	}
	for (let i = 40; i < 60; i++) await a.append(note(`a${i}`));
	const fromA: Uint8Array[] = [];
	for await (const x of a.blocksSince({})) fromA.push(x);
	const fromB: Uint8Array[] = [];
	for await (const x of b.blocksSince(a.versionVector())) fromB.push(x);
	return { net: a.net, fromA, fromB };
}

async function node(net: string, counter: { starts: number }, store = new MemoryStore()) {
	return Ledger.open({
		store,
		verifier: testVerifier(),
		now: fixedNow,
		signer: testSigner('x'),
		net: net as never,
		folds: [orderedFold(counter) as Fold<unknown>],
		checkpointEvery: 10
	});
}

describe('late batches queued together', () => {
	it('rewind fewer times than one by one, and reach the in-order state, a reopen included', async () => {
		const { net, fromA, fromB } = await scenario();
		const reference = await node(net, { starts: 0 });
		await reference.receive([...fromA, ...fromB]);
		const expected = reference.state();

		const results: Record<string, number> = {};
		for (const mode of ['one by one', 'queued'] as const) {
			const counter = { starts: 0 };
			const store = new MemoryStore();
			const x = await node(net, counter, store);
			await x.receive(fromA); // A's chain first: B's blocks then sort among folded ones
			const batches = [0, 10, 20, 30].map((i) => fromB.slice(i, i + 10));
			const before = counter.starts;
			if (mode === 'one by one') for (const batch of batches) expect((await x.receive(batch)).accepted).toHaveLength(10);
			else for (const r of await Promise.all(batches.map((batch) => x.receive(batch)))) expect(r.accepted).toHaveLength(10);
			results[mode] = counter.starts - before;
			expect(x.state()).toEqual(expected);
			// What close writes is the settled state: a reopen starts from it (the store stays open for it).
			store.close = async () => {};
			await x.close();
			const again = await node(net, { starts: 0 }, store);
			expect(again.state()).toEqual(expected);
			await again.close();
		}
		expect(results['one by one']).toBe(4); // each late batch rewound
		expect(results['queued']).toBe(1); // handed over together: one rewind, by the last
	});

	it('a reader during a rewind sees the state before it or after it, never one cut short (a write just appended missing)', async () => {
		const { net, fromA, fromB } = await scenario();
		const store = new MemoryStore();
		const x = await node(net, { starts: 0 }, store);
		await x.receive(fromA);
		const before = [...(x.state().ordered as string[])];
		// Each page the rewind reads from the store, a reader looks at the state (the UI, a use case between two awaits).
		const seen: string[][] = [];
		const ordered = store.ordered.bind(store);
		store.ordered = async (...args) => {
			seen.push([...(x.state().ordered as string[])]);
			await new Promise((r) => setTimeout(r, 1));
			return ordered(...args);
		};
		await x.receive(fromB.slice(0, 10)); // late: the folds rewind to a checkpoint and fold forward
		const after = x.state().ordered as string[];
		expect(seen.length).toBeGreaterThan(0);
		for (const state of seen) expect([before, after]).toContainEqual(state);
		expect(after.length).toBe(before.length + 10);
	});

	it('a queue of refused input behind a late batch does not keep the folds behind: they catch up when it drains, or after MAX_DEFER_MS', async () => {
		const { net, fromA, fromB } = await scenario();
		const reference = await node(net, { starts: 0 });
		await reference.receive([...fromA, ...fromB.slice(0, 10)]);
		for (const clock of ['still', 'racing'] as const) {
			const counter = { starts: 0 };
			const x = await node(net, counter);
			await x.receive(fromA);
			const before = counter.starts;
			let t = 0;
			// 'racing': every reading of the clock is 5 s later, so the wait runs out at once.
			const spy = clock === 'racing' ? vi.spyOn(performance, 'now').mockImplementation(() => (t += 5000)) : null;
			try {
				const junk = Array.from({ length: 30 }, (_, i) => [new Uint8Array([0x83, i, 1, 2])]);
				const late = x.receive(fromB.slice(0, 10));
				const refused = junk.map((batch) => x.receive(batch));
				expect((await late).accepted).toHaveLength(10);
				// With the refused input still queued: still waiting for more, or caught up once the wait ran out.
				if (clock === 'still') expect(x.state()).not.toEqual(reference.state());
				else expect(x.state()).toEqual(reference.state());
				for (const r of await Promise.all(refused)) expect(r.accepted).toEqual([]);
			} finally {
				spy?.mockRestore();
			}
			expect(x.state()).toEqual(reference.state());
			expect(counter.starts - before).toBe(1); // one rewind
		}
	});
});
