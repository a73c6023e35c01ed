// Fold pages in the store (core/fold.ts FoldPages, ledger/fold-pages.ts): a fold's pages
// are rows written beside each checkpoint, read before the blocks that name them, and not
// held in memory after. Checkpoints every two blocks, so in every arrival order and batching
// checkpoints are written, thinned by the ladder (their rows moved forward), and dropped by
// late blocks (their rows dropped, or kept in memory by a fold that is not rewound); the
// pages read back equal those of a fold over the blocks in order, in memory alone, and so do
// a reopened node's, and what a reader sees while blocks are being folded.
import { describe, expect, it } from 'vitest';
import {
	CodedError,
	compareOrder,
	decodeBlock,
	orderKey,
	StoredPages,
	type Block,
	type Fold,
	type IndexFold,
	type OrderKey
} from '../../../../src/lib/core/index.js';
import { Ledger, type LedgerOptions } from '../../../../src/lib/core/ledger.js';
import { MemoryStore } from '../../../../src/lib/core/storage/memory.js';
import { foundNetwork, joinNetwork, syncInto, testSigner, fixedNow, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { foldBlocks } from '../../../../src/lib/core/testing/fold-contexts.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';
import { packRow, pageLog, pageRows, unpackRow } from '../../../../src/lib/core/ledger/fold-pages.js';
import { shuffled } from '../../support/arrival-orders.js';
import { KeptStore } from '../../support/kept-store.js';

/** A note `key:<k>:<x>` changes page k; `share:<n>` the shared part; `drop:<k>` removes page k. */
const parse = (block: Block) =>
	block.txs.flatMap((tx) => {
		const [kind, a, b] = (typeof tx.text === 'string' ? tx.text : '').split(':');
		return kind === 'key' || kind === 'share' || kind === 'drop' ? [{ kind, a: a!, b: Number(b ?? 0) }] : [];
	});

interface Part {
	acc: number;
	blocks: string[];
}

interface Toy {
	/** The shared part: when each shared note was made (pages read how many came before them). */
	shared: OrderKey[];
	pages: StoredPages<Part>;
}

const text = new TextDecoder();
const utf8 = new TextEncoder();
const newPages = () =>
	new StoredPages<Part>({ pack: (part) => utf8.encode(JSON.stringify(part)), unpack: (bytes) => JSON.parse(text.decode(bytes)) as Part });

function applyKey(state: Toy, block: Block, key: string) {
	for (const note of parse(block)) {
		if (note.a !== key) continue;
		if (note.kind === 'drop') state.pages.delete(key);
		else if (note.kind === 'key') {
			const part = state.pages.page(key, () => ({ acc: 1, blocks: [] }));
			const before = state.shared.filter((at) => compareOrder(at, orderKey(block)) < 0).length;
			part.acc = (part.acc * 31 + note.b + 7 * before) % 1_000_000_007;
			part.blocks.push(block.id);
		}
	}
}

const keysOf = (block: Block) => [...new Set(parse(block).flatMap((n) => (n.kind === 'share' ? [] : [n.a])))];

/** Pages p0, p3, p6 share a row, and so on: a checkpoint writes a row whole when one of its pages changed. */
const rowOf = (key: string) => `r${Number(key.slice(1)) % 3}`;

/** A fold keeping its pages three rows, rewinding for late blocks (not keyed). */
const toyFold: Fold<Toy> = {
	name: 'toy',
	version: 1,
	pages: { keysOf: (block) => keysOf(block), of: (state) => state.pages, rowOf },
	init: () => ({ shared: [], pages: newPages() }),
	apply(state, block) {
		for (const note of parse(block)) if (note.kind === 'share') state.shared.push(orderKey(block));
		for (const key of keysOf(block)) applyKey(state, block, key);
		return state;
	},
	encode: (state) => ({ shared: JSON.stringify(state.shared), stored: state.pages.storedKeys(), inline: state.pages.inline().flat() }),
	decode(value) {
		const v = value as { shared: string; stored: string[]; inline: (string | Uint8Array)[] };
		const pages = newPages();
		const inline: [string, Uint8Array][] = [];
		for (let i = 0; i < v.inline.length; i += 2) inline.push([v.inline[i] as string, Uint8Array.from(v.inline[i + 1] as Uint8Array)]);
		pages.add(v.stored, inline);
		return { shared: JSON.parse(v.shared) as OrderKey[], pages };
	}
};

const toyIndex: IndexFold = { name: 'toy-keys', version: 1, facts: (block) => keysOf(block).map((k) => [k, null] as const) };

/** The same fold keyed by page: late notes re-apply their keys (a late shared note rewinds), so a drop keeps pages in memory. */
const keyedToy: Fold<Toy> = {
	...toyFold,
	name: 'toy',
	keyed: {
		index: toyIndex,
		keysOf: (block) => (parse(block).some((n) => n.kind === 'share') ? null : keysOf(block)),
		rowKeys: (key) => [key],
		clear: (state, key) => state.pages.delete(key),
		applyKey
	}
};

/** The rewinding fold with a row for each page. */
const rowPerPage: Fold<Toy> = { ...toyFold, pages: { keysOf: (block) => keysOf(block), of: (state) => state.pages } };

/** The keys of the pages in the newest of each row of `store`: what a reopened node reads. */
async function keysInRows(store: MemoryStore): Promise<string[]> {
	const keys: string[] = [];
	for (const row of await store.factKeys(pageRows('toy'), null, 100)) {
		const newest = (await store.facts(pageRows('toy'), row, null, 1000)).at(-1)!;
		keys.push(...unpackRow(newest.value as Uint8Array).keys());
	}
	return keys.sort();
}

/** A kept store (open after the ledger closes) that counts the checkpoints written. */
class CountingStore extends KeptStore {
	written = 0;
	override putCheckpoint(checkpoint: Parameters<MemoryStore['putCheckpoint']>[0]) {
		this.written++;
		return super.putCheckpoint(checkpoint);
	}
}
const written = (store: CountingStore) => store.written;

/** The ledger in `store` opened again by node `label`, with `fold` and a checkpoint after every block. */
const reopen = (store: MemoryStore, label: string, fold: Fold<Toy>) =>
	Ledger.open({
		store,
		verifier: testVerifier(),
		now: fixedNow,
		signer: testSigner(label),
		folds: [fold as Fold<unknown>],
		checkpointEvery: 1
	});

/** What a node's pages are, read as a reader reads them (from memory or the store). */
async function pagesOf(node: Ledger): Promise<string> {
	const state = node.state().toy as Toy;
	const pages = await node.readPages<Part>('toy', state.pages.keys());
	return JSON.stringify({ shared: state.shared, pages: [...pages].sort((a, b) => (a[0] < b[0] ? -1 : 1)) });
}

/** The same of a fold in memory alone. */
function expected(state: Toy): string {
	const pages = state.pages.keys().map((key): [string, Part] => [key, state.pages.view(key)!]);
	return JSON.stringify({ shared: state.shared, pages: pages.sort((a, b) => (a[0] < b[0] ? -1 : 1)) });
}

/** Three writers writing concurrently (so arrival orders put blocks before folded ones): 60 notes over 8 pages, some shared, some removing a page. */
async function concurrentLedger(seed: number, fold: Fold<Toy>) {
	const random = prng(seed);
	const options: Partial<LedgerOptions> = { folds: [fold as Fold<unknown>], checkpointEvery: 1 };
	const founder = await foundNetwork({ ...options, members: { a: 'clinician', b: 'clinician', c: 'clinician' } });
	const writers: Ledger[] = [];
	for (const label of ['a', 'b', 'c']) {
		const node = await joinNetwork(founder.net, label, options);
		await syncInto(node, founder);
		writers.push(node);
	}
	for (let i = 0; i < 150; i++) {
		const writer = writers[Math.floor(random() * 3)]!;
		const roll = random();
		const key = `p${Math.floor(random() * 8)}`;
		const note = roll < 0.08 ? `share:s${i}` : roll < 0.14 ? `drop:${key}` : `key:${key}:${i}`;
		await writer.append([
			{ t: 'note', text: note },
			...(random() < 0.3 ? [{ t: 'note', text: `key:p${Math.floor(random() * 8)}:${i + 100}` }] : [])
		]);
		if (random() < 0.25) {
			const other = writers[Math.floor(random() * 3)]!;
			if (other !== writer) await syncInto(other, writer);
		}
	}
	for (const w of writers) await syncInto(founder, w);
	const wire: Uint8Array[] = [];
	for await (const bytes of founder.blocksSince({})) wire.push(bytes);
	const ordered = wire.map((b) => decodeBlock(b)).sort((x, y) => compareOrder(orderKey(x), orderKey(y)));
	return { founder, wire, reference: expected(foldBlocks(fold, ordered)), options };
}

async function receiveShuffled(node: Ledger, wire: readonly Uint8Array[], random: () => number, size: number, together: boolean) {
	const order = shuffled(wire, random);
	const batches: Uint8Array[][] = [];
	for (let i = 0; i < order.length; i += size) batches.push(order.slice(i, i + size));
	if (together) await Promise.all(batches.map((batch) => node.receive(batch)));
	else for (const batch of batches) await node.receive(batch);
}

/** Node `label` on a store kept for reopening: the toy ledger of `seed` received whole, then closed (a checkpoint at its head). */
async function receivedAndClosed(seed: number, label: string) {
	const { founder, wire, reference } = await concurrentLedger(seed, toyFold);
	const store = new CountingStore();
	const node = await joinNetwork(founder.net, label, { folds: [toyFold as Fold<unknown>], checkpointEvery: 1, store });
	await node.receive(wire);
	await node.close();
	return { store, reference };
}

describe('fold pages in the store', () => {
	for (const [name, fold] of [
		['a fold that rewinds', toyFold],
		['a keyed fold (late blocks re-apply keys; dropped checkpoints’ pages kept in memory)', keyedToy],
		['a fold with a row for each page', rowPerPage]
	] as const)
		it(`${name}: every arrival order and batching reads back the pages of a fold in order, from rows, holding few in memory`, async () => {
			const { founder, wire, reference } = await concurrentLedger(name.length, fold);
			expect(await pagesOf(founder)).toBe(reference);
			const random = prng(17);
			let checkpoints = 0;
			for (let trial = 0; trial < 24; trial++) {
				const store = new CountingStore();
				const node = await joinNetwork(founder.net, `observer${trial}`, { folds: [fold as Fold<unknown>], checkpointEvery: 1, store });
				await receiveShuffled(node, wire, random, 1 + (trial % 7), trial % 3 === 0);
				expect(node.size).toBe(wire.length);
				expect(await pagesOf(node)).toBe(reference);
				// Closing writes a checkpoint: every page changed since the last one becomes a row.
				await node.close();
				// The newest rows hold exactly the pages (none left in a row after it was removed).
				expect(await keysInRows(store)).toEqual((JSON.parse(reference) as { pages: [string, Part][] }).pages.map(([key]) => key));
				const names = await store.factKeys(pageRows('toy'), null, 100);
				expect(names.length).toBeGreaterThan(0);
				for (const name of names) expect(name).toMatch(fold === rowPerPage ? /^p\d$/ : /^r[012]$/);
				// Every log row sits at a checkpoint that is kept: none is left behind by a drop, a move or a failed write.
				const kept = (await store.checkpointPositions()).map((p) => `${p[0]}/${p[1]}`);
				const logs = await store.facts(pageLog('toy'), 'log', null, 1000);
				for (const log of logs) expect(kept).toContain(`${log.clock}/${log.block}`);
				// A reopened node holds no page until it reads it, and reads every page from the rows as of its newest checkpoint.
				const again = await reopen(store, `observer${trial}`, fold);
				const pages = (again.state().toy as Toy).pages;
				expect(pages.counts).toEqual({ decoded: 0, packed: 0, stored: JSON.parse(reference).pages.length });
				expect(await pagesOf(again)).toBe(reference);
				checkpoints += written(store);
			}
			// Checkpoints (with their rows) were written while the blocks came in, not only at close.
			expect(checkpoints).toBeGreaterThan(24 * 5);
		}, 120_000);

	it('a keyed fold given a block before a page’s removal keeps the removal: no row holds the removed page again', async () => {
		const options: Partial<LedgerOptions> = { folds: [keyedToy as Fold<unknown>], checkpointEvery: 1 };
		const founder = await foundNetwork({ ...options, members: { a: 'clinician', b: 'clinician' } });
		const [a, b] = [await joinNetwork(founder.net, 'a', options), await joinNetwork(founder.net, 'b', options)];
		await syncInto(a, founder);
		await syncInto(b, founder);
		// p0, p3 and p6 share row r0. b's p6 note comes after p0's page and before its removal.
		await a.append([{ t: 'note', text: 'key:p0:1' }]);
		await syncInto(b, a);
		for (const text of ['other', 'drop:p0', 'key:p3:5']) await a.append([{ t: 'note', text }]);
		await b.append([{ t: 'note', text: 'key:p6:7' }]);
		const store = new CountingStore();
		const node = await joinNetwork(founder.net, 'observer', { ...options, store });
		await syncInto(node, a);
		// Late: the checkpoints after it go, the fold re-applies p6 alone (keyed), keeping the rest as it was.
		await syncInto(node, b);
		await node.close();
		expect(await keysInRows(store)).toEqual(['p3', 'p6']);
		const again = await reopen(store, 'observer', keyedToy);
		expect(JSON.parse(await pagesOf(again)).pages.map(([key]: [string]) => key)).toEqual(['p3', 'p6']);
	});

	it('a page row: its pages round-trip whatever their keys and bytes, and bytes that are not a row throw PAGE_ROW_BAD', () => {
		const random = prng(4);
		for (let trial = 0; trial < 50; trial++) {
			const pages = new Map<string, Uint8Array>();
			for (let i = Math.floor(random() * 20); i > 0; i--)
				pages.set(
					`${String.fromCodePoint(0x20 + Math.floor(random() * 0x2000))}${i}`,
					Uint8Array.from({ length: Math.floor(random() * 300) }, () => random() * 256)
				);
			const bytes = packRow(pages);
			expect(new Map([...unpackRow(bytes)].map(([k, v]) => [k, [...v]]))).toEqual(new Map([...pages].map(([k, v]) => [k, [...v]])));
			// Cut short, grown, or with a length that runs past the end: refused, never a page read from other bytes.
			if (bytes.length > 4)
				expect(() => unpackRow(bytes.subarray(0, 4 + Math.floor(random() * (bytes.length - 4))))).toThrow(/PAGE_ROW_BAD|does not decode/);
			expect(() => unpackRow(Uint8Array.from([...bytes, 0]))).toThrow(/does not decode/);
		}
		expect(() => unpackRow(new Uint8Array(3))).toThrow(/does not decode/);
		expect(() => unpackRow(Uint8Array.from([0, 0, 0, 1, 255, 255, 255, 255]))).toThrow(/does not decode/);
	});

	it('a page the fold uses without having read it throws PAGE_NOT_READ, never starts empty', () => {
		const pages = newPages();
		pages.add(['p1'], []);
		expect(() => pages.page('p1', () => ({ acc: 1, blocks: [] }))).toThrow(CodedError);
		expect(() => pages.find('p1')).toThrow(/PAGE_NOT_READ|not read/);
		expect(() => pages.view('p1')).toThrow(/not read/);
		expect(pages.peek('p1')).toBeNull();
		pages.put('p1', utf8.encode(JSON.stringify({ acc: 5, blocks: ['x'] })));
		expect(pages.find('p1')).toEqual({ acc: 5, blocks: ['x'] });
		// Read, then changed: written at the next checkpoint; a removed page is written as removed.
		pages.delete('p2');
		expect(pages.changed().map(([key, bytes]) => [key, bytes && text.decode(bytes)])).toEqual([
			['p1', JSON.stringify({ acc: 5, blocks: ['x'] })],
			['p2', null]
		]);
		pages.stored(['p1', 'p2']);
		pages.retain(new Set());
		expect(pages.counts).toEqual({ decoded: 0, packed: 0, stored: 1 });
	});

	it('a reader while blocks are folded and checkpoints written and dropped sees whole pages, and the last answer equals the fold in order', async () => {
		const { founder, wire, reference } = await concurrentLedger(3, toyFold);
		const random = prng(99);
		const node = await joinNetwork(founder.net, 'reader', { folds: [toyFold as Fold<unknown>], checkpointEvery: 1 });
		let reading = true;
		let reads = 0;
		const reader = (async () => {
			while (reading) {
				const state = node.state().toy as Toy;
				const pages = await node.readPages<Part>('toy', state.pages.keys());
				for (const part of pages.values()) expect(part.blocks.length).toBeGreaterThan(0);
				reads++;
				await new Promise((resolve) => setTimeout(resolve, 0));
			}
		})();
		// Batches a task apart, as a sync session hands them over.
		for (const [i, bytes] of shuffled(wire, random).entries()) {
			await node.receive([bytes]);
			if (i % 3 === 2) await new Promise((resolve) => setTimeout(resolve, 0));
		}
		reading = false;
		await reader;
		expect(reads).toBeGreaterThan(3);
		expect(await pagesOf(node)).toBe(reference);
	});

	it('a checkpoint that cannot be stored leaves its pages changed: the next one writes them, and a reopen reads them', async () => {
		const { founder, wire, reference } = await concurrentLedger(5, toyFold);
		const store = new CountingStore();
		let fail = 3;
		const put = store.putCheckpoint.bind(store);
		store.putCheckpoint = (checkpoint) => (fail-- === 1 ? Promise.reject(new Error('disk full')) : put(checkpoint));
		const node = await joinNetwork(founder.net, 'faulty', { folds: [toyFold as Fold<unknown>], checkpointEvery: 1, store });
		let failed = 0;
		for (const bytes of wire)
			await node.receive([bytes]).catch((error: unknown) => {
				expect(String(error)).toMatch(/disk full/);
				failed++;
			});
		expect(failed).toBe(1);
		// The block whose checkpoint failed is stored: a repair pass delivers nothing new, and the pages are whole.
		expect(node.size).toBe(wire.length);
		expect(await pagesOf(node)).toBe(reference);
		await node.close();
		const again = await reopen(store, 'faulty', toyFold);
		expect(await pagesOf(again)).toBe(reference);
	});

	it('a store whose page rows are gone (damaged on disk) found so while refolding: refolds from the first block, never a page missing', async () => {
		const { store, reference } = await receivedAndClosed(12, 'damaged');
		// Every page row and log gone; the checkpoints still name the pages.
		const rows = [];
		for (const fold of [pageRows('toy'), pageLog('toy')])
			for (const key of await store.factKeys(fold, null, 1000)) rows.push(...(await store.facts(fold, key, null, 1000)));
		expect(rows.length).toBeGreaterThan(8);
		await store.writeFacts([], rows);
		// And the newest checkpoint: the open refolds blocks after an older one, which read pages that are gone.
		const positions = await store.checkpointPositions();
		expect(positions.length).toBeGreaterThan(2);
		await store.dropCheckpoints([positions.at(-1)!]);
		const open = () => reopen(store, 'damaged', toyFold);
		const again = await open();
		expect(await pagesOf(again)).toBe(reference);
		// The refold wrote checkpoints and rows again: the next open reads them.
		await again.close();
		expect((await store.factKeys(pageRows('toy'), null, 100)).length).toBeGreaterThan(0);
		expect(await pagesOf(await open())).toBe(reference);
	});

	it('a store whose page rows are damaged (bytes that do not decode) found so while refolding: refolds from the first block', async () => {
		const { store, reference } = await receivedAndClosed(13, 'garbled');
		const rows = [];
		for (const key of await store.factKeys(pageRows('toy'), null, 1000))
			rows.push(...(await store.facts(pageRows('toy'), key, null, 1000)));
		expect(rows.length).toBeGreaterThan(3);
		await store.writeFacts(
			rows.map((row) => ({ ...row, value: (row.value as Uint8Array).subarray(0, 7) })),
			[]
		);
		await store.dropCheckpoints([(await store.checkpointPositions()).at(-1)!]);
		const again = await reopen(store, 'garbled', toyFold);
		expect(await pagesOf(again)).toBe(reference);
	});

	it('keeps no page in a checkpoint under a ledger: the pages are rows beside it', async () => {
		const { store, reference } = await receivedAndClosed(8, 'node');
		const pageBytes = (JSON.parse(reference) as { pages: [string, Part][] }).pages.reduce(
			(n, [, part]) => n + JSON.stringify(part).length,
			0
		);
		expect(pageBytes).toBeGreaterThan(5_000);
		const checkpoint = (await store.checkpointAtOrBefore(null))!;
		expect(checkpoint.state.length).toBeLessThan(pageBytes / 4);
	});
});
