// Index folds (index-fold.ts, ledger/index-engine.ts): rows written with their blocks, late
// blocks writing only their own rows, rebuilds at open (new fold, new version, a rebuild a
// crash cut short), folds that throw or name keys no store keeps, and unknown indexes.
import { describe, expect, it, vi } from 'vitest';
import { Ledger } from '../../../../src/lib/core/ledger.js';
import type { IndexFold } from '../../../../src/lib/core/index-fold.js';
import { MemoryStore } from '../../../../src/lib/core/storage/memory.js';
import type { LedgerStore } from '../../../../src/lib/core/storage/store.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSigner, testVerifier } from '../../../../src/lib/core/testing/fixtures.js';
import { expectedIndex, indexDump, txIndex } from '../../support/test-index.js';

const notes = (n: number, tag = '') => Array.from({ length: n }, (_, i) => [{ t: 'note', text: `${tag}${i}` }]);
const reopen = (store: LedgerStore, net: Ledger['net'], indexes: IndexFold[]) =>
	Ledger.open({ store, verifier: testVerifier(), now: fixedNow, indexes, signer: testSigner('founder'), net });

/** The same store's data under another object, with some methods replaced (a ledger reopening it). */
function sameData(store: MemoryStore, overrides: Partial<LedgerStore> = {}): LedgerStore {
	return new Proxy(store, {
		get(target, name) {
			if (name in overrides) return overrides[name as keyof LedgerStore];
			const value = Reflect.get(target, name, target) as unknown;
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		}
	});
}

describe('index folds', () => {
	it('stores a late equivocating block without rows, naming it left out in the same append', async () => {
		const a = await foundNetwork({ indexes: [txIndex] });
		const b = await joinNetwork(a.net, 'b', { indexes: [txIndex] });
		await a.appendBatch(notes(20));
		await syncInto(b, a);
		const append = vi.spyOn(b.store, 'append');
		// One block built on the genesis only: it sorts before the 20 notes b already holds.
		const c = await joinNetwork(a.net, 'founder', { indexes: [txIndex] });
		const genesis = [];
		for await (const g of a.blocks(null, 1)) {
			genesis.push(g.bytes);
			break;
		}
		await c.receive(genesis);
		const late = await c.append([{ t: 'note', text: 'late' }]);
		// The founder's key wrote a second block at seq 1: an equivocation, void on every node.
		await b.receive([late.bytes]);
		expect(append).toHaveBeenCalledTimes(1);
		const [, meta, rows] = append.mock.calls[0]!;
		expect(rows).toEqual([]);
		expect(Object.keys(meta ?? {})).toContain('index.voids');
		expect(await indexDump(b)).toEqual(await expectedIndex(b));
	});

	it('keeps rows in ledger order when blocks arrive newest first, touching only the keys they name', async () => {
		const a = await foundNetwork({ indexes: [txIndex] });
		await a.appendBatch(notes(30));
		const b = await joinNetwork(a.net, 'b', { indexes: [txIndex] });
		const all: Uint8Array[] = [];
		for await (const block of a.blocks()) all.push(block.bytes);
		const append = vi.spyOn(b.store, 'append');
		await b.receive([all[0]!]);
		// Newest first: every block but the genesis waits for its predecessor, then all land in one append.
		for (const bytes of all.slice(1).reverse()) await b.receive([bytes]);
		expect(await indexDump(b)).toEqual(await indexDump(a));
		expect(await indexDump(b)).toEqual(await expectedIndex(b));
		const written = append.mock.calls.flatMap((call) => call[2] ?? []);
		expect(written.length).toBe((await expectedIndex(b)).length);
	});

	it('builds an index at open for blocks stored before it existed, rebuilds it on a new version, clears a dropped one', async () => {
		const a = await foundNetwork();
		await a.appendBatch(notes(1_200));
		const store = a.store as MemoryStore;
		const first = await reopen(sameData(store), a.net, [txIndex]);
		expect((await indexDump(first)).length).toBe((await expectedIndex(first)).length);
		expect(await indexDump(first)).toEqual(await expectedIndex(first));

		const v2: IndexFold = { name: txIndex.name, version: 2, facts: (block) => [[`seq:${block.seq % 3}`, block.seq]] };
		const second = await reopen(sameData(store), a.net, [v2]);
		expect(await indexDump(second)).toEqual(await expectedIndex(second, v2));
		expect(await second.factKeys(txIndex.name)).toEqual(['seq:0', 'seq:1', 'seq:2']);

		const third = await reopen(sameData(store), a.net, []);
		expect(await store.factKeys(txIndex.name, null, 10)).toEqual([]);
		await expect(third.factKeys(txIndex.name)).rejects.toMatchObject({ code: 'UNKNOWN_INDEX' });
	});

	it('upgrades a version that grows from the stored one by rewriting the blocks it filed under `growsUnder` alone; again after a crash', async () => {
		const a = await foundNetwork();
		await a.appendBatch(notes(1_300).map((txs, i) => (i % 97 === 0 ? [{ t: 'note', text: `tagged ${i}` }] : txs)));
		const store = a.store as MemoryStore;
		const tagged = (block: Parameters<IndexFold['facts']>[0]) => block.txs.some((tx) => String(tx.text).startsWith('tagged'));
		// Version 1 files every block under `all`, the tagged ones under `tagged` too; version 2 appends a row to each tagged block.
		const v1: IndexFold = {
			name: 'test-tags',
			version: 1,
			facts: (block) => [['all', null], ...(tagged(block) ? [['tagged', null] as const] : [])]
		};
		const v2: IndexFold = {
			...v1,
			version: 2,
			growsFrom: 1,
			growsUnder: ['tagged'],
			facts: (block) => [...v1.facts(block), ...(tagged(block) ? [[`seq:${block.seq}`, block.seq] as const] : [])]
		};
		await reopen(sameData(store), a.net, [v1]);
		const reads = { ordered: 0, blocks: 0 };
		const counting = (of: LedgerStore) =>
			sameData(store, {
				ordered: async (...args) => (reads.ordered++, of.ordered(...args)),
				getMany: async (ids) => ((reads.blocks += ids.length), of.getMany(ids))
			});
		// What an open reads with the index as it is (the folds' own reads).
		await reopen(counting(store), a.net, [v1]);
		const plain = { ...reads };
		const upgrade = async (of: LedgerStore) => {
			reads.ordered = reads.blocks = 0;
			const node = await reopen(of, a.net, [v2]);
			// No scan of the ledger: the 14 blocks filed under `tagged`, besides what any open reads.
			expect(reads).toEqual({ ordered: plain.ordered, blocks: plain.blocks + 14 });
			expect(await indexDump(node, v2.name)).toEqual(await expectedIndex(node, v2));
			expect((await node.factKeys(v2.name)).length).toBe(16);
		};
		await upgrade(counting(store));

		// A crash before the version is recorded: the next open holds version 1 still, and does the same again.
		await reopen(sameData(store), a.net, [v1]);
		let writes = 0;
		const crashing = sameData(store, {
			writeFacts: async (...args) => {
				if (++writes === 2) throw new Error('power cut');
				return store.writeFacts(...args);
			}
		});
		await expect(reopen(crashing, a.net, [v2])).rejects.toThrow('power cut');
		expect(await store.getMeta('index.folds')).toMatchObject({ 'test-tags': 1 });
		await upgrade(counting(store));
	});

	it('finishes a rebuild a crash cut short, with no row twice', async () => {
		const a = await foundNetwork();
		await a.appendBatch(notes(1_300));
		const store = a.store as MemoryStore;
		let writes = 0;
		const crashing = sameData(store, {
			writeFacts: async (...args) => {
				if (++writes === 2) throw new Error('power cut');
				return store.writeFacts(...args);
			}
		});
		await expect(reopen(crashing, a.net, [txIndex])).rejects.toThrow('power cut');
		expect((await store.factKeys(txIndex.name, null, 10)).length).toBeGreaterThan(0);
		const after = await reopen(sameData(store), a.net, [txIndex]);
		expect(await indexDump(after)).toEqual(await expectedIndex(after));
	});

	it('rebuilds with one page written while the next is read, never two writes at once, in page order', async () => {
		const a = await foundNetwork();
		await a.appendBatch(notes(2_300));
		const store = a.store as MemoryStore;
		let inFlight = 0;
		let most = 0;
		const firstBlocks: string[] = [];
		let readsDuringWrite = 0;
		const slow = sameData(store, {
			ordered: (...args) => {
				if (inFlight > 0) readsDuringWrite++;
				return store.ordered(...args);
			},
			writeFacts: async (put, drop, meta) => {
				most = Math.max(most, ++inFlight);
				if (put.length > 0) firstBlocks.push(`${put[0]!.clock}:${put[0]!.block}`);
				// A slow disk: the next page is read and folded meanwhile.
				await new Promise((resolve) => setTimeout(resolve, 5));
				await store.writeFacts(put, drop, meta);
				inFlight--;
			}
		});
		const after = await reopen(slow, a.net, [txIndex]);
		expect(firstBlocks.length).toBeGreaterThanOrEqual(5);
		expect(most).toBe(1);
		expect(readsDuringWrite).toBeGreaterThanOrEqual(3);
		const order = (k: string) => Number(k.split(':')[0]);
		expect(firstBlocks.map(order)).toEqual([...firstBlocks.map(order)].sort((x, y) => x - y));
		expect(await indexDump(after)).toEqual(await expectedIndex(after));
	});

	it('stores a block whose facts throw or name unkeepable keys, with no rows from it, the same on every node', async () => {
		const picky: IndexFold = {
			name: 'picky',
			version: 1,
			facts: (block) => {
				const text = block.txs[0]?.text;
				if (text === 'throw') throw new Error('fold bug');
				if (text === 'bad')
					return [
						['', 1],
						['nul\u0000key', 2],
						['x'.repeat(257), 3],
						['fine', 4]
					];
				return [['fine', block.seq]];
			}
		};
		const a = await foundNetwork({ indexes: [picky] });
		await a.appendBatch([[{ t: 'note', text: 'throw' }], [{ t: 'note', text: 'bad' }], [{ t: 'note', text: 'ok' }]]);
		const b = await joinNetwork(a.net, 'b', { indexes: [picky] });
		await syncInto(b, a);
		expect(b.size).toBe(4);
		for (const node of [a, b]) expect((await node.facts('picky', 'fine')).map((r) => r.value)).toEqual([0, 4, 3]);
	});
});

describe('progress while a ledger opens', () => {
	it('reports the index rebuild and the refold page by page, up to every stored block', async () => {
		const a = await foundNetwork();
		await a.appendBatch(notes(1_100));
		const seen: { phase: string; done: number; total: number }[] = [];
		const store = a.store as MemoryStore;
		const reopened = await Ledger.open({
			store: sameData(store),
			verifier: testVerifier(),
			now: fixedNow,
			indexes: [txIndex],
			signer: testSigner('founder'),
			net: a.net,
			onOpenProgress: (p) => seen.push({ ...p })
		});
		const total = reopened.size;
		// The index is built from every block (3 pages); the state only from the last checkpoint on.
		for (const [phase, pages] of [
			['index', 3],
			['fold', 1]
		] as const) {
			const steps = seen.filter((p) => p.phase === phase);
			expect(steps.length, phase).toBeGreaterThanOrEqual(pages);
			expect(steps.every((p) => p.total === total)).toBe(true);
			expect(steps.map((p) => p.done)).toEqual([...steps.map((p) => p.done)].sort((x, y) => x - y));
			expect(steps.at(-1)!.done).toBe(total);
		}
		// The index is built before the state is folded.
		expect(seen.findIndex((p) => p.phase === 'fold')).toBeGreaterThan(seen.findLastIndex((p) => p.phase === 'index'));
	});
});
