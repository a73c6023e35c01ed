// Keyed folds (core/fold.ts FoldKeys, ledger/key-reapply.ts): a batch of late blocks that
// touches only keys' parts re-applies those keys from their first block, instead of the
// fold rewinding to a checkpoint; a late block that changes the shared part rewinds as
// before. Either way every node reaches the state of a fold over the blocks in order,
// whatever the arrival order and batching.
import { describe, expect, it } from 'vitest';
import {
	compareOrder,
	decodeBlock,
	orderKey,
	type Block,
	type Fold,
	type IndexFold,
	type OrderKey
} from '../../../../src/lib/core/index.js';
import { Ledger, type LedgerOptions } from '../../../../src/lib/core/ledger.js';
import { MemoryStore } from '../../../../src/lib/core/storage/memory.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSigner, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { foldBlocks } from '../../../../src/lib/core/testing/fold-contexts.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';
import { shuffled } from '../../support/arrival-orders.js';
import { canonicalState } from '../../support/canonical-state.js';

/** A note `key:<k>:<x>` adds x to key k's part; `share:<name>` changes the shared part. */
const parse = (block: Block) =>
	block.txs.flatMap((tx) => {
		const text = typeof tx.text === 'string' ? tx.text : '';
		const [kind, a, b] = text.split(':');
		return kind === 'key' || kind === 'share' ? [{ kind, a: a!, b: Number(b ?? 0) }] : [];
	});

/** Files a block under each key its notes name, and under `share` when it holds a shared note. */
const toyIndex: IndexFold = {
	name: 'toy-keys',
	version: 1,
	facts: (block) => [...new Set(parse(block).map((n) => (n.kind === 'key' ? n.a : 'share')))].map((k) => [k, null] as const)
};

interface Toy {
	/** The shared part: names, first writer wins (order-dependent: a late one rewinds), and when each was shared. */
	names: Record<string, string>;
	shared: OrderKey[];
	/** Each key's part: an order-dependent hash of its notes and of the shared part as of each note. */
	parts: Record<string, { acc: number; blocks: string[] }>;
}

/** Shared notes before `at`: the shared part as of a block, never ahead of it. */
const sharedBefore = (state: Toy, at: OrderKey) => state.shared.filter((key) => compareOrder(key, at) < 0).length;

function applyKey(state: Toy, block: Block, key: string) {
	for (const note of parse(block))
		if (note.kind === 'key' && note.a === key) {
			const part = (state.parts[key] ??= { acc: 1, blocks: [] });
			part.acc = (part.acc * 31 + note.b + 7 * sharedBefore(state, orderKey(block))) % 1_000_000_007;
			part.blocks.push(block.id);
		}
}

const toyFold: Fold<Toy> = {
	name: 'toy',
	version: 1,
	keyed: {
		index: toyIndex,
		keysOf: (block) => {
			const notes = parse(block);
			return notes.some((n) => n.kind === 'share') ? null : [...new Set(notes.map((n) => n.a))];
		},
		rowKeys: (key) => [key],
		clear: (state, key) => void delete state.parts[key],
		applyKey
	},
	init: () => ({ names: {}, shared: [], parts: {} }),
	apply(state, block) {
		for (const note of parse(block))
			if (note.kind === 'share') {
				state.names[note.a] ??= block.author;
				state.shared.push(orderKey(block));
			}
		for (const key of new Set(parse(block).flatMap((n) => (n.kind === 'key' ? [n.a] : [])))) applyKey(state, block, key);
		return state;
	},
	encode: (state) => JSON.stringify(state),
	decode: (value) => JSON.parse(value as string) as Toy
};

/**
 * The toy fold with its shared part rebuilt by itself when a late block changes it
 * (`FoldKeys.shared`): every shared note applied again in ledger order, and the keys whose
 * parts read it (all five) re-applied. A shared note named `boom` makes the rebuild throw:
 * the fold must rewind instead.
 */
const ALL_KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const toyPieceFold: Fold<Toy> = {
	...toyFold,
	keyed: {
		...toyFold.keyed!,
		keysOf: (block) => [...new Set(parse(block).flatMap((n) => (n.kind === 'key' ? [n.a] : [])))],
		shared: {
			rows: ['share'],
			touches: (block) => parse(block).some((n) => n.kind === 'share'),
			rebuild(state, blocks) {
				const piece: Pick<Toy, 'names' | 'shared'> = { names: {}, shared: [] };
				for (const { block } of blocks)
					for (const note of parse(block))
						if (note.kind === 'share') {
							if (note.a === 'boom') throw new Error('a rebuild that fails');
							piece.names[note.a] ??= block.author;
							piece.shared.push(orderKey(block));
						}
				const same = canonicalState(piece) === canonicalState({ names: state.names, shared: state.shared });
				return {
					rows: same ? [] : ALL_KEYS,
					commit: () => Object.assign(state, piece)
				};
			}
		}
	}
};

/** The blocks a fold saw, in the order it saw them: any late block changes it, unless the fold says which types can (`affectedBy`). */
const seenFold = (name: string, affectedBy?: (type: string) => boolean): Fold<string[]> => ({
	name,
	version: 1,
	...(affectedBy && { affectedBy }),
	init: () => [],
	apply(state, block) {
		if (!affectedBy || block.txs.some((tx) => affectedBy(tx.t))) state.push(block.id);
		return state;
	},
	encode: (state) => [...state],
	decode: (value) => [...(value as string[])]
});
/** Changed only by membership: a late batch of notes leaves it as it is, so the keyed fold needs no rewind. */
const membersSeen = seenFold('members-seen', (type) => type === 'member.add');
/** Changed by every block: a late batch rewinds it, and the keyed fold joins that rewind rather than re-reading its keys. */
const everySeen = seenFold('every-seen');

/** Three writers, each writing while it has not seen the others' latest blocks, so arrival orders put blocks before folded ones. */
async function concurrentLedger(
	seed: number,
	shares: number,
	others: Fold<unknown>[] = [membersSeen as Fold<unknown>],
	fold = toyFold,
	shareName = (i: number) => `n${i % 3}`
) {
	const random = prng(seed);
	const options = { folds: [fold as Fold<unknown>, ...others], checkpointEvery: 4 };
	const founder = await foundNetwork({ ...options, members: { a: 'clinician', b: 'clinician', c: 'clinician' } });
	const writers: Ledger[] = [];
	for (const label of ['a', 'b', 'c']) {
		const node = await joinNetwork(founder.net, label, options);
		await syncInto(node, founder);
		writers.push(node);
	}
	for (let i = 0; i < 40; i++) {
		const writer = writers[Math.floor(random() * 3)]!;
		const text = i < shares && random() < 0.5 ? `share:${shareName(i)}` : `key:k${Math.floor(random() * 5)}:${i}`;
		await writer.append([{ t: 'note', text }]);
		if (random() < 0.2) {
			const other = writers[Math.floor(random() * 3)]!;
			if (other !== writer) await syncInto(other, writer);
		}
	}
	for (const w of writers) await syncInto(founder, w);
	const wire: Uint8Array[] = [];
	for await (const bytes of founder.blocksSince({})) wire.push(bytes);
	const ordered = wire.map((b) => decodeBlock(b)).sort((x, y) => compareOrder(orderKey(x), orderKey(y)));
	return { founder, wire, reference: canonicalState(foldBlocks(fold, ordered)), options, ordered };
}

/** A new node of `net` that receives `wire` in a random order, in slices of `size`. */
async function observer(
	net: Ledger['net'],
	name: string,
	options: Partial<LedgerOptions>,
	wire: readonly Uint8Array[],
	random: () => number,
	size: number
) {
	const node = await joinNetwork(net, name, options);
	const order = shuffled(wire, random);
	for (let i = 0; i < order.length; i += size) await node.receive(order.slice(i, i + size));
	return node;
}

describe('keyed folds', () => {
	it('re-apply the keys of late blocks instead of rewinding, and reach the state of a fold in order in every arrival order and batching', async () => {
		const { founder, wire, reference, options } = await concurrentLedger(11, 0);
		expect(canonicalState(founder.state().toy)).toBe(reference);
		const random = prng(5);
		let reapplied = 0;
		for (let trial = 0; trial < 40; trial++) {
			const node = await observer(founder.net, `observer${trial}`, options, wire, random, 1 + (trial % 6));
			expect(node.size).toBe(wire.length);
			expect(canonicalState(node.state().toy)).toBe(reference);
			reapplied += node.reapplied.keys;
			expect(node.reapplied.blocks).toBeGreaterThanOrEqual(node.reapplied.keys);
		}
		// The arrival orders did put blocks before folded ones, and they were re-applied by key.
		expect(reapplied).toBeGreaterThan(40);
	});

	it('join a rewind that another fold needs anyway, and every fold still agrees with the fold in order', async () => {
		const { founder, wire, reference, options, ordered } = await concurrentLedger(14, 0, [
			everySeen as Fold<unknown>,
			membersSeen as Fold<unknown>
		]);
		const random = prng(15);
		for (let trial = 0; trial < 12; trial++) {
			const node = await observer(founder.net, `observer${trial}`, options, wire, random, 3);
			expect(canonicalState(node.state().toy)).toBe(reference);
			expect(node.state()['every-seen']).toEqual(ordered.map((b) => b.id));
			expect(node.state()['members-seen']).toEqual(foldBlocks(membersSeen, ordered));
			// Every late batch rewound every-seen: the keyed fold refolded with it instead of re-reading keys.
			expect(node.reapplied.keys).toBe(0);
		}
	});

	it('rewind as before when a late block changes the shared part, and still agree with the fold in order', async () => {
		const { founder, wire, reference, options } = await concurrentLedger(12, 40);
		expect(canonicalState(founder.state().toy)).toBe(reference);
		expect(Object.keys((founder.state().toy as Toy).names).length).toBeGreaterThan(0);
		const random = prng(6);
		for (let trial = 0; trial < 30; trial++) {
			const node = await observer(founder.net, `observer${trial}`, options, wire, random, 1 + (trial % 4));
			expect(canonicalState(node.state().toy)).toBe(reference);
		}
	});

	it('rebuild a shared piece a late block changes and re-apply the keys it names, or rewind when the rebuild fails, and agree with the fold in order', async () => {
		for (const [seed, boom] of [
			[21, false],
			[22, true]
		] as const) {
			const { founder, wire, reference, options } = await concurrentLedger(seed, 40, undefined, toyPieceFold, (i) =>
				boom && i % 4 === 0 ? 'boom' : `n${i % 3}`
			);
			expect(canonicalState(founder.state().toy)).toBe(reference);
			const random = prng(seed);
			let rebuilt = 0;
			for (let trial = 0; trial < 20; trial++) {
				const node = await observer(founder.net, `observer${trial}`, options, wire, random, 1 + (trial % 4));
				expect(canonicalState(node.state().toy)).toBe(reference);
				rebuilt += node.reapplied.shared;
			}
			// Late shared notes rebuilt the piece; with a note that makes the rebuild fail among them, never (the fold rewound).
			if (boom) expect(rebuilt).toBe(0);
			else expect(rebuilt).toBeGreaterThan(10);
		}
	});

	it('a node reopened from its store after late blocks holds the same state (checkpoints after them were dropped)', async () => {
		const { founder, wire, reference, options } = await concurrentLedger(13, 10);
		const store = new MemoryStore();
		const open = () =>
			Ledger.open({ store, verifier: testVerifier(), now: fixedNow, ...options, signer: testSigner('observer'), net: founder.net });
		const node = await open();
		const order = shuffled(wire, prng(9));
		for (let i = 0; i < order.length; i += 3) await node.receive(order.slice(i, i + 3));
		expect(node.reapplied.keys).toBeGreaterThan(0);
		expect(canonicalState(node.state().toy)).toBe(reference);
		const again = await open();
		expect(canonicalState(again.state().toy)).toBe(reference);
	});
});
