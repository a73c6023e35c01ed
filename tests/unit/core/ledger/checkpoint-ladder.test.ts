// Checkpoints are thinned as the ledger grows (core/ledger/checkpoint-ladder.ts): their
// number stays logarithmic in the ledger's clock, and a block landing anywhere rewinds to a
// checkpoint at most as far before it as it is before the newest checkpoint (or one gap
// between two written checkpoints). First the rule alone over long random runs, then a
// ledger whose late batches land at random depths.
import { describe, expect, it } from 'vitest';
import { Ledger, MemoryStore, compareOrder, type Block, type BlockId, type Fold, type OrderKey } from '../../../../src/lib/core/index.js';
import { checkpointsToDrop } from '../../../../src/lib/core/ledger/checkpoint-ladder.js';
import { fixedNow, foundNetwork, joinNetwork, testSigner, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';
import { shuffled } from '../../support/arrival-orders.js';
import { note } from '../ledger-support.js';

const at = (clock: number): OrderKey => [clock, clock.toString(16).padStart(8, '0') as BlockId];

/** The kept checkpoint at or before `clock` (the one a rewind for a block there starts from), if any. */
const startOf = (kept: readonly number[], clock: number) => kept.filter((c) => c <= clock).at(-1);

describe('checkpoint ladder: the rule', () => {
	it('keeps O(log) checkpoints, the oldest and the newest, and one no further before any place than that place is before the newest', () => {
		for (let seed = 1; seed <= 60; seed++) {
			const random = prng(seed);
			let kept: number[] = [];
			let clock = 0;
			let widest = 0;
			let worst = 0;
			for (let step = 0; step < 1500; step++) {
				const gap = 1 + Math.floor(random() * (seed % 3 === 0 ? 5 : 20_000));
				widest = Math.max(widest, gap);
				clock += gap;
				const first = kept[0] ?? clock;
				kept.push(clock);
				const drop = new Set(checkpointsToDrop(kept.map(at)).map((p) => p[0]));
				kept = kept.filter((c) => !drop.has(c));
				if (kept[0] !== first || kept.at(-1) !== clock) throw new Error(`seed ${seed}: the oldest or the newest was dropped`);
				// About 2 log2 of the clock: each kept pair is further apart than the next pair's age.
				if (kept.length > 2 * Math.ceil(Math.log2(clock + 1)) + 3) throw new Error(`seed ${seed}: ${kept.length} kept at clock ${clock}`);
				for (let probe = 0; probe < 20; probe++) {
					const place = first + Math.floor(random() * (clock - first + 1));
					// Refold beyond what the place needs, over what the rule allows (≤ 1).
					worst = Math.max(worst, (place - startOf(kept, place)!) / Math.max(clock - place, widest));
				}
			}
			expect(worst).toBeLessThanOrEqual(1);
			expect(worst).toBeGreaterThan(0.5);
		}
	});

	it('drops nothing of two, and ignores equal clocks', () => {
		expect(checkpointsToDrop([at(5), at(9)])).toEqual([]);
		expect(checkpointsToDrop([at(1), at(2), at(3), at(100)]).map((p) => p[0])).toEqual([2]);
		expect(checkpointsToDrop([at(1), at(2), at(100)])).toEqual([]);
		expect(checkpointsToDrop([at(7), at(7), at(7), at(9)]).map((p) => p[0])).toEqual([7]);
	});
});

/** A fold that depends on order (a running list of the blocks). */
const ordered: Fold<string[]> = {
	name: 'ordered',
	version: 1,
	init: () => [],
	apply: (state, block: Block) => {
		state.push(`${block.clock}:${block.id.slice(0, 6)}`);
		return state;
	},
	encode: (state) => [...state],
	decode: (value) => [...(value as string[])]
};

/**
 * A memory store that records where every rewind starts, beside where it would start had no
 * checkpoint been thinned (`unthinned`: every checkpoint written and not dropped for a late
 * block), and the newest clock any checkpoint was written at.
 */
class WatchedStore extends MemoryStore {
	readonly rewinds: { place: number; start: number; unthinned: number; newest: number }[] = [];
	#unthinned: OrderKey[] = [];
	written = 0;
	#newest = 0;
	override async putCheckpoint(c: Parameters<MemoryStore['putCheckpoint']>[0]) {
		this.written++;
		this.#newest = Math.max(this.#newest, c.position[0]);
		this.#unthinned = [...this.#unthinned.filter((p) => compareOrder(p, c.position) !== 0), c.position].sort(compareOrder);
		return super.putCheckpoint(c);
	}
	override async dropCheckpointsAfter(position: OrderKey) {
		this.#unthinned = this.#unthinned.filter((p) => compareOrder(p, position) <= 0);
		return super.dropCheckpointsAfter(position);
	}
	override async checkpointAtOrBefore(position: OrderKey | null) {
		const found = await super.checkpointAtOrBefore(position);
		if (position && this.#newest > 0) {
			const unthinned = this.#unthinned.filter((p) => compareOrder(p, position) <= 0).at(-1);
			this.rewinds.push({ place: position[0], start: found?.position[0] ?? 0, unthinned: unthinned?.[0] ?? 0, newest: this.#newest });
		}
		return found;
	}
	/** Stays open when the ledger closes, for the reopen. */
	override async close() {}
}

describe('checkpoint ladder: on a ledger', () => {
	it('late blocks at every depth reach the in-order state, from a checkpoint no further back than the rule allows, with few checkpoints kept', async () => {
		// A writes 400 blocks; each of 10 other members writes one block after receiving A's
		// chain up to a depth of its own, so its block sorts there among A's.
		const writers = Array.from({ length: 10 }, (_, i) => `w${i}`);
		const a = await foundNetwork({ members: Object.fromEntries(writers.map((w) => [w, 'clinician'])) });
		for (let i = 0; i < 400; i++) await a.append(note(`a${i}`));
		const fromA: Uint8Array[] = [];
		for await (const x of a.blocksSince({})) fromA.push(x);
		const late: Uint8Array[] = [];
		for (const [i, w] of writers.entries()) {
			const node = await joinNetwork(a.net, w);
			await node.receive(fromA.slice(0, 20 + i * 38));
			late.push((await node.append(note(w))).bytes);
		}
		const open = (store: MemoryStore) =>
			Ledger.open({
				store,
				verifier: testVerifier(),
				now: fixedNow,
				signer: testSigner('x'),
				net: a.net,
				folds: [ordered as Fold<unknown>],
				checkpointEvery: 3
			});
		const reference = await open(new MemoryStore());
		await reference.receive([...fromA, ...late]);

		let thinnedStarts = 0;
		for (let seed = 1; seed <= 6; seed++) {
			const random = prng(seed);
			const store = new WatchedStore();
			const x = await open(store);
			// A's chain in order (checkpoints every 3 blocks, thinned as they go), then the late blocks one by one in a random order.
			for (let i = 0; i < fromA.length; i += 50) expect((await x.receive(fromA.slice(i, i + 50))).rejected).toEqual([]);
			expect(store.written).toBeGreaterThan(100);
			const clock = (await store.checkpointPositions()).at(-1)![0];
			expect((await store.checkpointPositions()).length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(clock + 1)) + 3);
			for (const bytes of shuffled(late, random)) expect((await x.receive([bytes])).accepted).toHaveLength(1);
			expect(x.state()).toEqual(reference.state());
			// Thinning adds refold only where the rule allows: no more than the place is before the newest checkpoint.
			expect(store.rewinds.length).toBeGreaterThanOrEqual(late.length);
			for (const r of store.rewinds) expect(r.place - r.start).toBeLessThanOrEqual(Math.max(r.newest - r.place, r.place - r.unthinned));
			thinnedStarts += store.rewinds.filter((r) => r.start < r.unthinned).length;
			const kept = await store.checkpointPositions();
			expect(kept.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(kept.at(-1)![0] + 1)) + 3);
			expect([...kept].sort(compareOrder)).toEqual(kept);
			// A reopen starts from the newest kept checkpoint and reaches the same state.
			await x.close();
			const again = await open(store);
			expect(again.state()).toEqual(reference.state());
		}
		// Some rewinds did start further back than they would have with every checkpoint kept.
		expect(thinnedStarts).toBeGreaterThan(0);
	});

	it('thins the checkpoints an older release left at the next checkpoint it writes, and opens from the newest', async () => {
		const store = new WatchedStore();
		const a = await foundNetwork({ store, checkpointEvery: 2 });
		// Every checkpoint kept, as before thinning: written straight into the store.
		const thin = store.dropCheckpoints.bind(store);
		store.dropCheckpoints = async () => {};
		for (let i = 0; i < 120; i++) await a.append(note(`a${i}`));
		await a.close();
		expect((await store.checkpointPositions()).length).toBeGreaterThan(55);
		store.dropCheckpoints = thin;
		const again = await Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('founder'), checkpointEvery: 2 });
		expect(again.size).toBe(121);
		expect((await store.checkpointPositions()).length).toBeGreaterThan(55); // opening writes nothing
		await again.append(note('after the update'));
		await again.append(note('and one more'));
		const kept = await store.checkpointPositions();
		expect(kept.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(kept.at(-1)![0] + 1)) + 3);
		expect(kept.at(-1)![0]).toBe(122);
	});
});
