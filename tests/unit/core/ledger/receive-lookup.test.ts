/**
 * The duplicate lookups of `receive` (issue 19): blocks past the author's known head are
 * not looked up in the store, neither early (`getMany`) nor by the `DUPLICATE` check of
 * `checkInContext` (`get`); blocks at or below it still are, and no outcome changes for
 * genuine blocks, forks included. A store wrapper records every id asked of `getMany` and `get`.
 */
import { describe, expect, it } from 'vitest';
import { peekAuthorSeq } from '../../../../src/lib/core/block.js';
import {
	Ledger,
	type Block,
	MAX_BLOCK_BYTES,
	MemoryStore,
	decodeBlock,
	decodeCanonical,
	encodeCanonical,
	type BlockId,
	type ReceiveResult
} from '../../../../src/lib/core/index.js';
import {
	authorOf,
	fixedNow,
	foundNetwork,
	joinNetwork,
	makeBlock,
	syncInto,
	testSigner,
	testVerifier
} from '../../../../src/lib/core/testing/fixtures.js';

const note = (text: string) => [{ t: 'note', text }];

/** A memory store that records the ids asked of `getMany` and of `get`; `blind`: `getMany` finds nothing. */
class CountingStore extends MemoryStore {
	readonly looked: BlockId[] = [];
	readonly got: BlockId[] = [];
	blind = false;

	override async getMany(ids: readonly BlockId[]) {
		this.looked.push(...ids);
		const found = await super.getMany(ids);
		return this.blind ? found.map(() => undefined) : found;
	}

	override get(id: BlockId) {
		this.got.push(id);
		if (process.env.DBG) console.log('GET', new Error().stack);
		return super.get(id);
	}
}

/** A network of two authors (founder, b) with `perAuthor` notes each, and its wire blocks in chain order. */
async function source(perAuthor: number) {
	const a = await foundNetwork({ members: { b: 'clinician' } });
	const b = await joinNetwork(a.net, 'b');
	await syncInto(b, a);
	for (let i = 0; i < perAuthor; i++) {
		await a.append(note(`a${i}`));
		await b.append(note(`b${i}`));
	}
	await syncInto(a, b);
	const blocks: Uint8Array[] = [];
	const ids: BlockId[] = [];
	for await (const block of a.blocks()) {
		blocks.push(block.bytes);
		ids.push(block.id);
	}
	return { a, net: a.net, blocks, ids };
}

/** A fresh receiving node of `net` on a counting store. */
async function fresh(net: BlockId, store = new CountingStore()) {
	const ledger = await Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('receiver'), net });
	return { ledger, store };
}

/** The same store opened again: the in-memory cache of known blocks is empty. */
function reopen(store: CountingStore) {
	return Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('receiver') });
}

const codes = (r: ReceiveResult) => r.rejected.map((x) => x.code);

describe('receive: early duplicate lookup', () => {
	it('looks nothing up for a chain of new blocks past the heads, in one batch or several', async () => {
		const { net, blocks, ids } = await source(10);
		const one = await fresh(net);
		const r = await one.ledger.receive(blocks);
		expect(r.accepted.length).toBe(blocks.length);
		expect(r.duplicates).toBe(0);
		expect(r.rejected).toEqual([]);
		expect(one.store.looked).toEqual([]);

		const batched = await fresh(net);
		for (let i = 0; i < blocks.length; i += 4) {
			const part = await batched.ledger.receive(blocks.slice(i, i + 4));
			expect(part.accepted.length).toBe(Math.min(4, blocks.length - i));
		}
		expect(batched.ledger.heads()).toEqual(one.ledger.heads());
		expect(batched.store.looked.filter((id) => ids.includes(id))).toEqual([]);
	});

	it('still finds stored blocks below the head as duplicates when the cache is cold', async () => {
		const { net, blocks, ids } = await source(10);
		const { ledger, store } = await fresh(net);
		await ledger.receive(blocks);
		const cold = await reopen(store);
		store.looked.length = 0;
		const again = await cold.receive(blocks);
		expect(again).toMatchObject({ accepted: [], duplicates: blocks.length, rejected: [], pending: 0, missing: [] });
		expect(new Set(store.looked)).toEqual(new Set(ids));
		expect(cold.rejectedCounts()).toEqual({});
		expect(cold.size).toBe(blocks.length);
		expect(await store.count()).toBe(blocks.length);
	});

	it('looks up only the stored part of a batch that mixes stored and new blocks', async () => {
		const { a, net, blocks, ids } = await source(6);
		const { ledger, store } = await fresh(net);
		await ledger.receive(blocks);
		const newer = [await a.append(note('n1')), await a.append(note('n2'))];
		const cold = await reopen(store);
		store.looked.length = 0;
		// The new blocks first: the order of the input does not matter.
		const r = await cold.receive([...newer.map((b) => b.bytes), ...blocks, newer[0]!.bytes]);
		expect(r.accepted).toEqual(newer.map((b) => b.id));
		expect(r.duplicates).toBe(blocks.length + 1);
		expect(r.rejected).toEqual([]);
		expect(new Set(store.looked)).toEqual(new Set(ids));
	});

	it('never stores a block twice when forged bytes claim a seq past the head with a stored id', async () => {
		const { net, blocks } = await source(3);
		const { ledger, store } = await fresh(net);
		await ledger.receive(blocks);
		const cold = await reopen(store);
		const stored = (await store.ordered(null, blocks.length)).at(-1)!;
		const [id, body, signature] = decodeCanonical(stored.bytes) as [Uint8Array, Uint8Array, Uint8Array];
		const fields = decodeCanonical(body) as Record<string, never>;
		const forged = encodeCanonical([id, encodeCanonical({ ...fields, seq: 1000 as never }), signature]);
		store.looked.length = 0;
		const r = await cold.receive([forged, forged]);
		// Not looked up early (it claims to be new): the hash check refuses it.
		expect(store.looked).toEqual([]);
		expect(codes(r)).toEqual(['BAD_HASH', 'BAD_HASH']);
		expect(r.rejected[0]!.id).toBe(stored.id);
		expect(r.accepted).toEqual([]);
		expect(cold.size).toBe(blocks.length);
		expect(await store.count()).toBe(blocks.length);
		// The genuine bytes are still a duplicate.
		expect(await cold.receive([stored.bytes])).toMatchObject({ accepted: [], duplicates: 1, rejected: [] });
	});

	it('keeps the refusal codes of malformed bytes, stored ids or not', async () => {
		const { a, net, blocks } = await source(3);
		const { ledger, store } = await fresh(net);
		await ledger.receive(blocks);
		const cold = await reopen(store);
		const stored = (await store.ordered(null, blocks.length)).at(-1)!;
		const next = await a.append(note('next'));
		const other = await (await foundNetwork({ founder: 'elsewhere' })).append(note('foreign'));
		const r = await cold.receive([
			new Uint8Array([0xff, 0x00]),
			new Uint8Array(MAX_BLOCK_BYTES + 1),
			encodeCanonical({ hello: 'world' }),
			encodeCanonical([new Uint8Array(32), encodeCanonical({ v: 1 }), new Uint8Array(64)]),
			next.bytes.subarray(0, next.bytes.length - 1),
			new Uint8Array([0x98, 0x03, ...next.bytes.subarray(1)]),
			new Uint8Array([...next.bytes, 0]),
			other.bytes
		]);
		expect(codes(r)).toEqual([
			'NON_CANONICAL',
			'TOO_LARGE',
			'MALFORMED',
			'MALFORMED',
			'NON_CANONICAL',
			'NON_CANONICAL',
			'NON_CANONICAL',
			'WRONG_NETWORK'
		]);
		expect(r.accepted).toEqual([]);
		// A damaged copy of a stored block carries its id: dropped as a duplicate, as before.
		const damaged = await cold.receive([stored.bytes.subarray(0, stored.bytes.length - 1), new Uint8Array([...stored.bytes, 0])]);
		expect(damaged).toMatchObject({ accepted: [], duplicates: 2, rejected: [] });
		expect(cold.size).toBe(blocks.length);
	});
});

/** `source(perAuthor)` and a second version of b's last block (same seq, prev, deps, clock; another note). */
async function forked(perAuthor: number) {
	const src = await source(perAuthor);
	const one = src.blocks.map((bytes) => decodeBlock(bytes)).findLast((b) => b.author === authorOf('b'))!;
	const { block: twin } = await makeBlock(testSigner('b'), {
		net: src.net,
		seq: one.seq,
		prev: one.prev,
		deps: one.deps,
		clock: one.clock,
		txs: note('twin')
	});
	expect(twin.id).not.toBe(one.id);
	const rest = src.blocks.filter((_, i) => src.ids[i] !== one.id);
	return { ...src, one, twin, rest };
}

/** What a receiver ends up with after the fork of `forked`: both versions kept, void, as evidence (as before issue 19). */
async function expectFork(ledger: Ledger, one: Block, twin: Block, size: number) {
	const [low, high] = [one.id, twin.id].sort();
	expect(ledger.size).toBe(size);
	expect(ledger.rejectedCounts()).toEqual({ EQUIVOCATION: 2 });
	expect([...ledger.voided().keys()].sort()).toEqual([low, high]);
	expect((await ledger.evidence()).map((e) => [e.id, e.conflictsWith])).toEqual([[high, low]]);
	expect(ledger.flaggedAuthors()).toEqual([authorOf('b')]);
	expect(ledger.heads().find((h) => h.author === authorOf('b'))).toMatchObject({ seq: one.seq, id: low });
	expect(ledger.pendingCount).toBe(0);
	// Either version again is a duplicate.
	expect(await ledger.receive([twin.bytes, one.bytes])).toMatchObject({ accepted: [], duplicates: 2, rejected: [] });
	expect(ledger.size).toBe(size);
}

describe('receive: the DUPLICATE check of checkInContext', () => {
	it('reads no block past its author head, received in one batch, in several, backwards, or appended', async () => {
		const { net, blocks } = await source(10);
		const one = await fresh(net);
		expect((await one.ledger.receive(blocks)).accepted.length).toBe(blocks.length);
		expect(one.store.got).toEqual([]);

		const batched = await fresh(net);
		for (let i = 0; i < blocks.length; i += 4) await batched.ledger.receive(blocks.slice(i, i + 4));
		expect(batched.ledger.heads()).toEqual(one.ledger.heads());
		expect(batched.store.got).toEqual([]);

		// Newest first, one block per batch: each parks until the genesis releases them all.
		const backwards = await fresh(net);
		for (const bytes of [...blocks].reverse()) await backwards.ledger.receive([bytes]);
		expect(backwards.ledger.size).toBe(blocks.length);
		expect(backwards.ledger.heads()).toEqual(one.ledger.heads());
		// What is read: only deps named before they are held (a dep check, not the DUPLICATE check).
		const deps = new Set(blocks.flatMap((bytes) => decodeBlock(bytes).deps));
		expect(backwards.store.got.filter((id) => !deps.has(id))).toEqual([]);

		const store = new CountingStore();
		const author = await foundNetwork({ store });
		const own = [await author.append(note('x')), await author.append(note('y')), ...(await author.appendBatch([note('z1'), note('z2')]))];
		expect(author.size).toBe(5);
		expect(store.got.filter((id) => own.some((b) => b.id === id))).toEqual([]);
	});

	it('predecessors named before they arrive are looked up once per batch, not once each; stored ones are found, whatever the order', async () => {
		const { a, net, blocks } = await source(12);
		const reference = await fresh(net);
		await reference.ledger.receive(blocks);
		for (const seed of [1, 2, 3, 4, 5]) {
			// A shuffled order in batches of 1 to 6: many blocks come before what they build on.
			let x = seed;
			const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
			const order = blocks
				.map((b) => ({ b, k: random() }))
				.sort((p, q) => p.k - q.k)
				.map((e) => e.b);
			const node = await fresh(net);
			let batches = 0;
			for (let i = 0; i < order.length; batches++) {
				const n = 1 + Math.floor(random() * 6);
				await node.ledger.receive(order.slice(i, i + n));
				i += n;
			}
			expect(node.ledger.heads()).toEqual(reference.ledger.heads());
			expect(node.ledger.state()).toEqual(reference.ledger.state());
			expect(node.ledger.pendingCount).toBe(0);
			expect(node.store.got).toEqual([]);
			expect(node.store.looked.length).toBeGreaterThan(0);
		}
		// A cold node (cache empty) given a new block whose prev and deps are stored: found, accepted at once.
		const newer = await a.append(note('later'));
		const cold = await reopen(reference.store);
		reference.store.got.length = 0;
		const r = await cold.receive([newer.bytes]);
		expect(r).toMatchObject({ accepted: [newer.id], rejected: [], pending: 0 });
		expect(reference.store.got).toEqual([]);
	});

	it('still finds stored blocks with a cold cache when the early lookup did not drop them', async () => {
		const { net, blocks, ids } = await source(6);
		const { ledger, store } = await fresh(net);
		await ledger.receive(blocks);
		const cold = await reopen(store);
		store.blind = true;
		store.got.length = 0;
		const again = await cold.receive(blocks);
		expect(again).toMatchObject({ accepted: [], duplicates: blocks.length, rejected: [], pending: 0, missing: [] });
		// Every block is at or below its author's head: each is read, and found.
		expect(ids.every((id) => store.got.includes(id))).toBe(true);
		expect(cold.rejectedCounts()).toEqual({});
		expect(await store.count()).toBe(blocks.length);
	});

	it('keeps two versions at a new seq in one batch, as before', async () => {
		const { net, blocks, one, twin, rest } = await forked(4);
		// A fresh node: both versions arrive with the rest.
		const first = await fresh(net);
		const r = await first.ledger.receive([...blocks, twin.bytes]);
		expect(r).toMatchObject({ duplicates: 0, rejected: [], pending: 0, missing: [] });
		expect(r.accepted.length).toBe(blocks.length + 1);
		await expectFork(first.ledger, one, twin, blocks.length + 1);

		// A node holding the rest (cold cache): both versions at its head + 1, in one batch, each twice.
		const second = await fresh(net);
		await second.ledger.receive(rest);
		const cold = await reopen(second.store);
		const both = await cold.receive([twin.bytes, one.bytes, twin.bytes, one.bytes]);
		expect(both).toMatchObject({ duplicates: 2, rejected: [], pending: 0, missing: [] });
		expect([...both.accepted].sort()).toEqual([one.id, twin.id].sort());
		await expectFork(cold, one, twin, blocks.length + 1);
	});

	it('keeps a second version at the committed head across batches, as before, reading the store for it', async () => {
		const { net, blocks, one, twin, rest } = await forked(4);
		for (const coldCache of [false, true]) {
			for (const [firstBatch, second] of [
				[blocks, twin],
				[[...rest, twin.bytes], one]
			] as const) {
				const node = await fresh(net);
				await node.ledger.receive(firstBatch);
				const ledger = coldCache ? await reopen(node.store) : node.ledger;
				node.store.got.length = 0;
				const r = await ledger.receive([second.bytes]);
				expect(r).toMatchObject({ accepted: [second.id], duplicates: 0, rejected: [], pending: 0, missing: [] });
				// At the author's head: the DUPLICATE check still reads the store.
				expect(node.store.got).toContain(second.id);
				await expectFork(ledger, one, twin, blocks.length + 1);
			}
		}
	});
});

describe('peekAuthorSeq', () => {
	it('reads what decodeBlock reads, for every body layout and seq width', async () => {
		const { net, blocks } = await source(2);
		const signer = testSigner('peek');
		const prev = 'ab'.repeat(32) as BlockId;
		const made = [];
		for (const seq of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1])
			made.push(await makeBlock(signer, { net, seq, prev: seq ? prev : null }));
		// Bodies over 255 and over 65,535 bytes: two- and four-byte length heads.
		for (const size of [300, 70_000]) made.push(await makeBlock(signer, { net, txs: [{ t: 'note', text: 'x'.repeat(size) }] }));
		for (const bytes of [...blocks, ...made.map((m) => m.bytes)]) {
			const block = decodeBlock(bytes);
			expect(peekAuthorSeq(bytes)).toEqual({ author: block.author, seq: block.seq });
		}
		// An eight-byte seq is not read: the caller falls back to the lookup.
		expect(peekAuthorSeq((await makeBlock(signer, { net, seq: 2 ** 32, prev })).bytes)).toBeNull();
	});

	it('is null for anything without the layout', async () => {
		const { blocks } = await source(1);
		const last = blocks.at(-1)!;
		for (const bytes of [
			new Uint8Array(0),
			new Uint8Array([0xff, 0x00]),
			new Uint8Array(200),
			last.subarray(0, last.length - 1),
			new Uint8Array([...last, 0]),
			encodeCanonical({ hello: 'world' }),
			encodeCanonical([new Uint8Array(32), encodeCanonical({ v: 1 }), new Uint8Array(64)]),
			encodeCanonical([new Uint8Array(32), encodeCanonical({ v: 1, seq: 1, author: new Uint8Array(31) }), new Uint8Array(64)]),
			encodeCanonical([new Uint8Array(32), encodeCanonical({ v: 1, seq: -1, author: new Uint8Array(32) }), new Uint8Array(64)]),
			[] as unknown as Uint8Array
		])
			expect(peekAuthorSeq(bytes)).toBeNull();
		const minimal = encodeCanonical([
			new Uint8Array(32),
			encodeCanonical({ v: 1, seq: 7, author: new Uint8Array(32) }),
			new Uint8Array(64)
		]);
		expect(peekAuthorSeq(minimal)).toEqual({ author: '00'.repeat(32), seq: 7 });
	});
});
