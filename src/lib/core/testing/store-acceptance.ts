/**
 * The acceptance suite every `LedgerStore` must pass, run against the in-memory and
 * file stores and IndexedDB (fake-indexeddb in Node, and real Chromium). Imports vitest: use from tests only.
 */
import { describe, expect, it } from 'vitest';
import type { BlockId } from '../types.js';
import { compareOrder, type OrderKey } from '../storage/store.js';
import { author, hex, row, type StoreHarness } from './store-harness.js';
import { runFactAcceptance } from './fact-acceptance.js';

export { row, type StoreHarness } from './store-harness.js';

export function runStoreAcceptance(name: string, harness: StoreHarness): void {
	runFactAcceptance(name, harness);
	describe(`LedgerStore acceptance: ${name}`, () => {
		it('starts empty', async () => {
			const store = await harness.create();
			expect(await store.count()).toBe(0);
			expect(await store.heads()).toEqual([]);
			expect(await store.ordered(null, 10)).toEqual([]);
			expect(await store.getMeta('x')).toBeUndefined();
			await store.close();
		});

		it('appends and reads back by id, position and range', async () => {
			const store = await harness.create();
			const rows = [row(1, 0, 0), row(1, 1, 1), row(2, 0, 1), row(1, 2, 2)];
			await store.append(rows);
			expect(await store.count()).toBe(4);
			const got = await store.get(rows[1]!.id);
			expect(got?.id).toBe(rows[1]!.id);
			expect([...got!.bytes]).toEqual([...rows[1]!.bytes]);
			expect(got?.vv).toEqual([1, 1]);
			expect((await store.getMany([rows[0]!.id, 'ff' as BlockId, rows[2]!.id])).map((r) => r?.id)).toEqual([
				rows[0]!.id,
				undefined,
				rows[2]!.id
			]);
			expect((await store.at(author(1), 2))?.id).toBe(rows[3]!.id);
			expect(await store.at(author(1), 3)).toBeUndefined();
			expect((await store.range(author(1), 1, 10)).map((r) => r.seq)).toEqual([1, 2]);
			expect((await store.range(author(1), 0, 2)).map((r) => r.seq)).toEqual([0, 1]);
			expect(await store.range(author(3), 0, 10)).toEqual([]);
			await store.close();
		});

		it('iterates in (clock, id) order whatever the append order, with paging', async () => {
			const store = await harness.create();
			const rows = [row(3, 0, 5), row(1, 0, 0), row(2, 0, 5), row(1, 1, 2), row(4, 0, 1)];
			for (const r of rows) await store.append([r]);
			const all = await store.ordered(null, 100);
			const expected = [...rows].sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : 1)).map((r) => r.id);
			expect(all.map((r) => r.id)).toEqual(expected);
			const first = await store.ordered(null, 2);
			const rest = await store.ordered([first[1]!.clock, first[1]!.id], 100);
			expect([...first, ...rest].map((r) => r.id)).toEqual(expected);
			await store.close();
		});

		it('keeps the newest block of each author as its head', async () => {
			const store = await harness.create();
			await store.append([row(1, 0, 0), row(1, 1, 1)]);
			await store.append([row(2, 0, 2), row(1, 2, 3)]);
			const heads = (await store.heads()).sort((a, b) => (a.author < b.author ? -1 : 1));
			expect(heads.map((h) => [h.author, h.seq, h.clock])).toEqual([
				[author(1), 2, 3],
				[author(2), 0, 2]
			]);
			await store.close();
		});

		it('rejects a batch holding an id already stored, and stores none of it', async () => {
			const store = await harness.create();
			const a = row(1, 0, 0);
			await store.append([a]);
			await expect(store.append([row(2, 0, 1), a])).rejects.toThrow();
			expect(await store.count()).toBe(1);
			expect(await store.at(author(2), 0)).toBeUndefined();
			expect((await store.heads()).length).toBe(1);
			await store.close();
		});

		it('refuses an id stored before wherever it sits: below, at or beside its author head, alone or among new blocks; keeps a second block at a stored seq', async () => {
			const store = await harness.create();
			// Author 1: seqs 0-5 in three appends; author 2: one block. Heads: 1 at seq 5, 2 at seq 0.
			const chain = [0, 1, 2, 3, 4, 5].map((seq) => row(1, seq, seq * 2));
			await store.append(chain.slice(0, 2));
			await store.append([...chain.slice(2, 4), row(2, 0, 3)]);
			await store.append(chain.slice(4));
			const before = (await store.ordered(null, 100)).map((r) => r.id);
			const fresh = row(3, 0, 7);
			for (const again of [chain[0]!, chain[3]!, chain[5]!, row(2, 0, 3)]) {
				for (const batch of [[again], [fresh, again], [row(1, 6, 20), again]]) {
					await expect(store.append(batch), `${again.author.slice(0, 4)}/${again.seq}`).rejects.toThrow();
					expect((await store.ordered(null, 100)).map((r) => r.id)).toEqual(before);
				}
			}
			expect((await store.heads()).map((h) => [h.author, h.seq]).sort()).toEqual([
				[author(1), 5],
				[author(2), 0]
			]);
			// Equivocation: another block at seq 3 (another id) is stored beside the first.
			const other = row(1, 3, 9, 5);
			await store.append([other, fresh]);
			expect((await store.getMany([other.id, chain[3]!.id, fresh.id])).map((r) => r?.id)).toEqual([other.id, chain[3]!.id, fresh.id]);
			expect(await store.count()).toBe(9);
			await store.close();
		});

		it('writes meta atomically with blocks and on its own', async () => {
			const store = await harness.create();
			await store.append([row(1, 0, 0)], { authors: ['a'], n: 1 });
			expect(await store.getMeta('authors')).toEqual(['a']);
			await store.putMeta('n', { deep: [1, 2] });
			expect(await store.getMeta('n')).toEqual({ deep: [1, 2] });
			await store.close();
		});

		it('keeps evidence and checkpoints', async () => {
			const store = await harness.create();
			const a = row(1, 0, 0);
			await store.putEvidence({
				id: 'e1' as BlockId,
				author: a.author,
				seq: 0,
				conflictsWith: a.id,
				bytes: new Uint8Array([9]),
				seenAt: 5
			});
			expect((await store.evidence()).map((e) => e.conflictsWith)).toEqual([a.id]);
			for (const clock of [10, 20, 30]) {
				await store.putCheckpoint({ position: [clock, hex(clock) as BlockId], count: clock, state: new Uint8Array([clock]) });
			}
			expect((await store.checkpointAtOrBefore(null))?.count).toBe(30);
			expect((await store.checkpointAtOrBefore([25, hex(0) as BlockId]))?.count).toBe(20);
			expect((await store.checkpointAtOrBefore([20, hex(20) as BlockId]))?.count).toBe(20);
			expect(await store.checkpointAtOrBefore([5, hex(0) as BlockId])).toBeUndefined();
			await store.dropCheckpointsAfter([15, hex(0) as BlockId]);
			expect((await store.checkpointAtOrBefore(null))?.count).toBe(10);
			await store.close();
		});

		it('lists checkpoint positions in order and drops the ones named, whatever was written between', async () => {
			const store = await harness.create();
			const clocks = [40, 7, 300, 12, 7, 99, 1000];
			for (const [i, clock] of clocks.entries())
				await store.putCheckpoint({ position: [clock, hex(i) as BlockId], count: i + 1, state: new Uint8Array([i]) });
			const all = await store.checkpointPositions();
			expect(all).toEqual(clocks.map((c, i): OrderKey => [c, hex(i) as BlockId]).sort(compareOrder));
			// Drop two, one of them twice and one not stored: the others stay, states and counts whole.
			await store.dropCheckpoints([all[1]!, all[4]!, all[1]!, [5, hex(99) as BlockId]]);
			const kept = all.filter((_, i) => i !== 1 && i !== 4);
			expect(await store.checkpointPositions()).toEqual(kept);
			for (const position of kept) {
				const c = await store.checkpointAtOrBefore(position);
				expect(c?.position).toEqual(position);
				expect(c?.state).toEqual(new Uint8Array([c!.count - 1]));
			}
			expect((await store.checkpointAtOrBefore(all[4]!))?.position).toEqual(all[3]);
			await store.dropCheckpoints([]);
			expect(await store.checkpointPositions()).toEqual(kept);
			// A checkpoint written again at its position (compressed, once no longer the newest) replaces it.
			const replaced = Uint8Array.from({ length: 3000 }, (_, i) => i % 7);
			await store.putCheckpoint({ position: kept[1]!, count: 77, state: replaced });
			expect(await store.checkpointPositions()).toEqual(kept);
			const again = harness.reopen ? await harness.reopen(store) : store;
			expect(await again.checkpointPositions()).toEqual(kept);
			expect(await again.checkpointAtOrBefore(kept[1]!)).toEqual({ position: kept[1], count: 77, state: replaced });
			expect((await again.checkpointAtOrBefore(kept[2]!))?.state).toEqual(
				new Uint8Array([(await again.checkpointAtOrBefore(kept[2]!))!.count - 1])
			);
			await again.close();
		});

		if (harness.reopen) {
			const reopen = harness.reopen;
			it('still holds everything after being closed and reopened', async () => {
				const store = await harness.create();
				const rows = Array.from({ length: 50 }, (_, i) => row(1 + (i % 3), Math.floor(i / 3), i));
				await store.append(rows, { net: 'abc' });
				await store.putCheckpoint({ position: [3, rows[3]!.id], count: 4, state: new Uint8Array([4]) });
				const again = await reopen(store);
				expect(await again.count()).toBe(50);
				expect(await again.getMeta('net')).toBe('abc');
				expect((await again.ordered(null, 100)).map((r) => r.id)).toEqual(rows.map((r) => r.id));
				expect((await again.heads()).length).toBe(3);
				expect((await again.checkpointAtOrBefore(null))?.count).toBe(4);
				await again.close();
			});

			it('stores a block once when two appends of it race, and still opens afterwards', async () => {
				const store = await harness.create();
				const results = await Promise.allSettled([store.append([row(1, 0, 0)], { n: 1 }), store.append([row(1, 0, 0)], { n: 2 })]);
				expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
				const kept = results[0]!.status === 'fulfilled' ? 1 : 2;
				const again = await reopen(store);
				expect(await again.count()).toBe(1);
				expect(await again.getMeta('n')).toBe(kept);
				await again.close();
			});
		}
	});
}
