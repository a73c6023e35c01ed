/**
 * The index-fold rows' part of the store acceptance suite (store-acceptance.ts runs it
 * for every store): rows come back per key in (clock, block, n) order whatever order
 * they were written in, pages forward and back agree with a model, keys list in order,
 * and rows are written with their blocks or not at all. Imports vitest: tests only.
 */
import { describe, expect, it } from 'vitest';
import type { CborValue } from '../codec.js';
import { compareFactPosition, compareFactRows, factPosition, type FactRow } from '../index-fold.js';
import type { BlockId } from '../types.js';
import { prng } from './prng.js';
import { row, type StoreHarness } from './store-harness.js';

const blockId = (n: number) => n.toString(16).padStart(64, '0') as BlockId;

/**
 * Keys that are prefixes of one another, with separators, spaces and non-ASCII text. All
 * below U+D800, where UTF-8 byte order (LevelDB) and UTF-16 order (IndexedDB) agree.
 */
const KEYS = ['a', 'ab', 'a b', 'a/b', 'a\u0001', 'b', 'Zoë', 'ü', '患者', '0', 'x'.repeat(256), 'a\\'];

function randomRows(seed: number, count: number): FactRow[] {
	const rand = prng(seed);
	const rows: FactRow[] = [];
	for (let i = 0; i < count; i++) {
		const value: CborValue = { i, bytes: new Uint8Array([i & 255, 7]), nested: { list: [i, 'v', -i - 1] } };
		rows.push({
			fold: rand() < 0.8 ? 'records' : 'claims',
			key: KEYS[Math.floor(rand() * KEYS.length)]!,
			clock: Math.floor(rand() * 5),
			block: blockId(1 + Math.floor(rand() * 8)),
			n: Math.floor(rand() * 3),
			value
		});
	}
	// One row per place: the last written wins, as in a store.
	const byPlace = new Map(rows.map((r) => [JSON.stringify([r.fold, r.key, ...factPosition(r)]), r]));
	return [...byPlace.values()];
}

async function allRows(store: Awaited<ReturnType<StoreHarness['create']>>, fold: string, key: string, page: number, reverse = false) {
	const out: FactRow[] = [];
	for (;;) {
		const last = out[out.length - 1];
		const got = await store.facts(fold, key, last ? factPosition(last) : null, page, reverse);
		out.push(...got);
		if (got.length < page) return out;
	}
}

export function runFactAcceptance(name: string, harness: StoreHarness): void {
	describe(`LedgerStore index-fold rows: ${name}`, () => {
		it('reads each key in position order whatever the write order, paged both ways', async () => {
			for (const seed of [1, 2, 3]) {
				const store = await harness.create();
				const rows = randomRows(seed, 120);
				const rand = prng(seed + 100);
				const shuffled = [...rows].sort(() => rand() - 0.5);
				// Some with blocks, some alone, in several writes.
				await store.append([row(1, 0, 0)], {}, shuffled.slice(0, 40));
				await store.writeFacts(shuffled.slice(40, 80), []);
				await store.append([row(1, 1, 1)], {}, shuffled.slice(80));
				const sorted = [...rows].sort(compareFactRows);
				for (const fold of ['records', 'claims']) {
					const keys = [...new Set(sorted.filter((r) => r.fold === fold).map((r) => r.key))];
					expect(await store.factKeys(fold, null, 1000)).toEqual(keys);
					expect(await store.factKeys(fold, keys[1] ?? null, 2)).toEqual(keys.slice(2, 4));
					for (const key of KEYS) {
						const expected = sorted.filter((r) => r.fold === fold && r.key === key);
						expect(await allRows(store, fold, key, 3)).toEqual(expected);
						expect(await allRows(store, fold, key, 2, true)).toEqual([...expected].reverse());
					}
					// Many keys in one read: each key's rows as a read of that key alone, in the order asked, repeats and keys without rows included.
					const asked = [...KEYS].reverse().concat(KEYS[0]!, 'no such key');
					const each = asked.map((key) => sorted.filter((r) => r.fold === fold && r.key === key));
					expect(await store.factsOfKeys(fold, asked)).toEqual(each);
					// The last row of each key strictly before a place: at every row's place, and between rows.
					for (const r of sorted.filter((x) => x.fold === fold))
						for (const before of [factPosition(r), [r.clock, r.block, r.n + 1] as const]) {
							const last = (key: string) =>
								sorted.filter((x) => x.fold === fold && x.key === key && compareFactPosition(factPosition(x), before) < 0).at(-1);
							expect(await store.lastFactsOfKeys(fold, asked, before)).toEqual(asked.map(last));
						}
				}
				expect(await store.lastFactsOfKeys('nothing', ['a'], [1, blockId(1), 0])).toEqual([undefined]);
				expect(await store.lastFactsOfKeys('records', [], [1, blockId(1), 0])).toEqual([]);
				expect(await store.facts('nothing', 'a', null, 10)).toEqual([]);
				expect(await store.factKeys('nothing', null, 10)).toEqual([]);
				expect(await store.factsOfKeys('nothing', ['a', 'b'])).toEqual([[], []]);
				expect(await store.factsOfKeys('records', [])).toEqual([]);
				await store.close();
			}
		});

		it('drops and puts in one write, replaces a row at the same place, clears one fold only', async () => {
			const store = await harness.create();
			const at = (key: string, clock: number, n: number, value: CborValue): FactRow => ({
				fold: 'f',
				key,
				clock,
				block: blockId(clock + 1),
				n,
				value
			});
			await store.append([row(1, 0, 0)], {}, [at('p', 1, 0, 'one'), at('p', 2, 0, 'two'), at('q', 1, 0, 'q')]);
			await store.writeFacts([at('p', 2, 0, 'two again'), at('p', 0, 0, 'zero')], [at('p', 1, 0, null), at('p', 9, 0, null)], { m: 1 });
			expect((await store.facts('f', 'p', null, 10)).map((r) => r.value)).toEqual(['zero', 'two again']);
			expect(await store.getMeta('m')).toBe(1);
			await store.writeFacts([], [at('q', 1, 0, null)]);
			expect(await store.factKeys('f', null, 10)).toEqual(['p']);
			await store.writeFacts([{ ...at('p', 5, 0, 'other fold'), fold: 'g' }], []);
			await store.clearFacts('f', { cleared: true });
			expect(await store.factKeys('f', null, 10)).toEqual([]);
			expect(await store.getMeta('cleared')).toBe(true);
			expect((await store.facts('g', 'p', null, 10)).map((r) => r.value)).toEqual(['other fold']);
			await store.close();
		});

		it('writes no row of an append it refuses', async () => {
			const store = await harness.create();
			await store.append([row(1, 0, 0)]);
			const rows: FactRow[] = [{ fold: 'f', key: 'k', clock: 0, block: blockId(1), n: 0, value: 1 }];
			await expect(store.append([row(2, 0, 0), row(1, 0, 0)], {}, rows)).rejects.toThrow();
			expect(await store.facts('f', 'k', null, 10)).toEqual([]);
			await store.close();
		});

		if (harness.reopen) {
			const reopen = harness.reopen;
			it('keeps rows across a reopen', async () => {
				const store = await harness.create();
				const rows = randomRows(9, 60);
				await store.append([row(1, 0, 0)], {}, rows);
				const again = await reopen(store);
				for (const key of KEYS)
					expect(await allRows(again, 'records', key, 1000)).toEqual(
						[...rows].sort(compareFactRows).filter((r) => r.fold === 'records' && r.key === key)
					);
				await again.close();
			});
		}
	});
}
