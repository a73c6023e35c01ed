/**
 * The segmented IndexedDB store (schema 3) against the memory store, on workloads that
 * make segments overlap: batches arriving with clocks and seqs inside earlier segments'
 * ranges, equivocations split over segments, batches bigger than one segment. Every read
 * method must answer as the memory store does, paged in many ways. Plus what the in-memory
 * directory must not get wrong: a second connection's appends (another tab), and scans
 * reading what is on disk rather than a cached copy.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IndexedDBStore } from '../../../../src/lib/core/storage/indexeddb.js';
import { MemoryStore } from '../../../../src/lib/core/storage/memory.js';
import type { LedgerStore, OrderKey, StoredBlock } from '../../../../src/lib/core/storage/store.js';
import { row } from '../../../../src/lib/core/testing/store-acceptance.js';
import type { AuthorId, BlockId } from '../../../../src/lib/core/types.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number) {
	let a = seed;
	return (n: number) => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
	};
}

const flat = (b: StoredBlock | undefined) => b && { ...b, bytes: [...b.bytes], vv: [...b.vv] };

async function orderedPages(store: LedgerStore, limit: number, after: OrderKey | null = null) {
	const ids: BlockId[] = [];
	for (;;) {
		const page = await store.ordered(after, limit);
		ids.push(...page.map((b) => b.id));
		if (page.length < limit) return ids;
		after = [page[limit - 1]!.clock, page[limit - 1]!.id];
	}
}

async function rangePages(store: LedgerStore, author: AuthorId, from: number, limit: number) {
	const ids: BlockId[] = [];
	for (;;) {
		const page = await store.range(author, from, limit);
		ids.push(...page.map((b) => b.id));
		if (page.length < limit) return ids;
		from = page[limit - 1]!.seq + 1;
	}
}

/** The same reads on both stores. */
async function compare(store: LedgerStore, memory: MemoryStore, all: StoredBlock[], next: (n: number) => number) {
	expect(await store.count()).toBe(await memory.count());
	const sortHeads = (heads: { author: string }[]) => heads.sort((a, b) => (a.author < b.author ? -1 : 1));
	expect(sortHeads(await store.heads())).toEqual(sortHeads(await memory.heads()));
	expect((await store.ordered(null, 100_000)).map(flat)).toEqual((await memory.ordered(null, 100_000)).map(flat));
	for (const limit of [13, 333, 500, 501, 1_000]) expect(await orderedPages(store, limit)).toEqual(await orderedPages(memory, limit));
	for (let i = 0; i < 20; i++) {
		const from = all[next(all.length)]!;
		const after: OrderKey = i % 2 ? [from.clock, from.id] : [from.clock, '' as BlockId];
		const limit = 1 + next(700);
		expect((await store.ordered(after, limit)).map(flat)).toEqual((await memory.ordered(after, limit)).map(flat));
	}
	const authors = [...new Set(all.map((b) => b.author))];
	for (const author of authors) {
		for (const [from, limit] of [
			[0, 100_000],
			[0, 1],
			[next(200), 1 + next(300)],
			[next(50), 500]
		] as const) {
			expect((await store.range(author, from, limit)).map(flat)).toEqual((await memory.range(author, from, limit)).map(flat));
			expect(await rangePages(store, author, from, Math.max(limit, 40))).toEqual(
				await rangePages(memory, author, from, Math.max(limit, 40))
			);
		}
	}
	for (let i = 0; i < 60; i++) {
		const b = all[next(all.length)]!;
		const seq = i % 5 === 0 ? b.seq + 1_000 : b.seq;
		expect(flat(await store.at(b.author, seq))).toEqual(flat(await memory.at(b.author, seq)));
	}
	const ids = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? (`${i}ab` as BlockId) : all[next(all.length)]!.id));
	expect((await store.getMany(ids)).map(flat)).toEqual((await memory.getMany(ids)).map(flat));
	expect(flat(await store.get(all[0]!.id))).toEqual(flat(await memory.get(all[0]!.id)));
}

describe('IndexedDB segments against the memory store', () => {
	for (const seed of [1, 2, 3]) {
		it(`answers every read as the memory store does, segments overlapping (seed ${seed})`, { timeout: 30_000 }, async () => {
			const next = random(seed);
			const name = `segments-${seed}`;
			let store = await IndexedDBStore.open(name);
			const memory = new MemoryStore();
			const seqs = new Map<number, number>();
			const all: StoredBlock[] = [];
			for (let batch = 0; batch < 9; batch++) {
				const size = [1, 37, 500, 501, 900][next(5)]!;
				const blocks: StoredBlock[] = [];
				const base = next(4) === 0 ? next(300) : batch * 100; // some batches arrive late
				for (let i = 0; i < size; i++) {
					const a = 1 + next(6);
					const seq = seqs.get(a) ?? 0;
					seqs.set(a, seq + 1);
					blocks.push({ ...row(a, seq, base + next(150)), vv: [a, seq, next(9)] });
				}
				// An equivocation: another block at a position already taken.
				const taken = all.length > 0 ? all[next(all.length)]! : undefined;
				if (taken && next(2) === 0) {
					const twin = row(Number.parseInt(taken.author, 16), taken.seq, taken.clock + next(3), 1 + batch);
					if (!all.some((b) => b.id === twin.id)) blocks.push(twin);
				}
				await store.append(blocks);
				await memory.append(blocks);
				all.push(...blocks);
				if (batch === 4) {
					await compare(store, memory, all, next);
					await store.close();
					store = await IndexedDBStore.open(name);
				}
			}
			await compare(store, memory, all, next);
			await store.close();
		});
	}

	it("sees another connection's appends (another tab) in every read", async () => {
		const a = await IndexedDBStore.open('segments-tabs');
		const b = await IndexedDBStore.open('segments-tabs');
		await a.append([row(1, 0, 5), row(1, 1, 6)]);
		await b.append([row(2, 0, 1)]);
		await a.append([row(3, 0, 3)]);
		await b.append([row(2, 1, 9)]);
		for (const store of [a, b]) {
			expect(await store.count()).toBe(5);
			expect((await store.ordered(null, 10)).map((r) => r.clock)).toEqual([1, 3, 5, 6, 9]);
			expect((await store.range(row(2, 0, 0).author, 0, 10)).map((r) => r.seq)).toEqual([0, 1]);
			expect((await store.at(row(3, 0, 0).author, 0))?.clock).toBe(3);
		}
		await a.close();
		await b.close();
	});

	it('scans read the bytes on disk, even of a segment a point lookup holds in memory', async () => {
		const store = await IndexedDBStore.open('segments-tamper');
		const rows = [row(1, 0, 0), row(1, 1, 1), row(2, 0, 1)];
		await store.append(rows);
		expect([...(await store.get(rows[1]!.id))!.bytes]).toEqual([...rows[1]!.bytes]);
		// Change the stored bytes behind the store's back, as the tamper e2e test does.
		await new Promise<void>((resolve, reject) => {
			const open = indexedDB.open('segments-tamper');
			open.onsuccess = () => {
				const tx = open.result.transaction('segments', 'readwrite');
				const segments = tx.objectStore('segments');
				const cursor = segments.openCursor();
				cursor.onsuccess = () => {
					const record = cursor.result!.value as { bytes: Uint8Array };
					record.bytes[0] = 0xee;
					cursor.result!.update(record);
				};
				tx.oncomplete = () => {
					open.result.close();
					resolve();
				};
				tx.onerror = () => reject(tx.error);
			};
			open.onerror = () => reject(open.error);
		});
		const first = (await store.ordered(null, 10))[0]!;
		expect(first.bytes[0]).toBe(0xee);
		expect((await store.range(first.author, 0, 10))[0]!.bytes[0]).toBe(0xee);
		await store.close();
	});
});
