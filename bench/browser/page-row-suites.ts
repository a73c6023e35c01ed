/**
 * How fold pages are grouped into rows of the store (core/ledger/page-rows.ts): reading
 * every page of 10,000 patients, as the Billing screen does at 1,000,000 blocks, through
 * the IndexedDB store's `lastFactsOfKeys` in slices of 256 pages, with one page per row
 * against rows of 4, 16 and 64 pages. Each key has an older row and a newer one (what the
 * checkpoint ladder leaves). Each page is `bytes` of text like a packed claims page
 * (claims as JSON arrays: a block id of 64 random hex digits, numbers, codes, dates), so
 * the store compresses it about as it does a real page.
 */
import { IndexedDBStore } from '../../src/lib/core/index.js';
import type { FactRow } from '../../src/lib/core/index-fold.js';
import { packRow } from '../../src/lib/core/ledger/page-rows.js';
import { median } from '../lib/stats.js';
import { freshName } from './page-databases.js';

const SLICE = 256;
const WRITE_PER_TRANSACTION = 500;

const utf8 = new TextEncoder();
const CODES = ['99213', '99214', '36415', '90471', '87880'];
const hex = () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('');
const int = (n: number) => Math.floor(Math.random() * n);

/** `n` bytes of text shaped like a packed claims page (page-bytes.ts). */
function pageLike(n: number): Uint8Array {
	let text = '[';
	while (text.length < n) {
		const code = CODES[int(CODES.length)]!;
		text += `[${int(100_000)},"${hex()}",0,${int(1e6)},${int(40)},"2025-0${1 + int(9)}-1${int(10)}",[["${code}",1,${9_000 + int(900)},"2025-03-0${1 + int(8)}"]],[["original","ppo",1,"paid",${int(9_000)},${int(900)}]],null],`;
	}
	return utf8.encode(text.slice(0, n - 1) + ']');
}

/** Rows of `perRow` pages each (1: a row per page, its bytes the page's), at clocks 1 and 2. */
function rowsOf(fold: string, pages: number, bytes: number, perRow: number): FactRow[] {
	const out: FactRow[] = [];
	for (const clock of [1, 2])
		for (let first = 0; first < pages; first += perRow) {
			const content = new Map<string, Uint8Array>();
			for (let key = first; key < Math.min(pages, first + perRow); key++) content.set(String(key), pageLike(bytes));
			const value = perRow === 1 ? content.get(String(first))! : packRow(content);
			out.push({ fold, key: String(perRow === 1 ? first : first / perRow), clock, block: `b${clock}` as FactRow['block'], n: 0, value });
		}
	return out;
}

export const pageRowSuites = {
	/** Reads every page of `pages` (in slices of 256 pages, the next asked for before the last is used), `runs` times per grouping. */
	async pageRows({ pages, bytes, groupings, runs }: { pages: number; bytes: number; groupings: number[]; runs: number }) {
		const store = await IndexedDBStore.open(freshName('page-rows'), { durability: 'relaxed' });
		const out: Record<string, { rows: number; rowKb: number; ms: number; runsMs: number[] }> = {};
		try {
			for (const perRow of groupings) {
				const fold = `bench-${perRow}:page-rows`;
				const rows = rowsOf(fold, pages, bytes, perRow);
				for (let at = 0; at < rows.length; at += WRITE_PER_TRANSACTION)
					await store.writeFacts(rows.slice(at, at + WRITE_PER_TRANSACTION), []);
				const keys = Array.from({ length: Math.ceil(pages / perRow) }, (_, i) => String(i));
				const slice = Math.max(1, Math.round(SLICE / perRow));
				const runsMs: number[] = [];
				for (let run = 0; run < runs; run++) {
					const start = performance.now();
					let read = 0;
					let next = store.lastFactsOfKeys(fold, keys.slice(0, slice), [3, 'b3' as FactRow['block'], 0]);
					for (let at = 0; at < keys.length; at += slice) {
						const found = await next;
						next = store.lastFactsOfKeys(fold, keys.slice(at + slice, at + 2 * slice), [3, 'b3' as FactRow['block'], 0]);
						for (const row of found) read += (row!.value as Uint8Array).length;
					}
					await next;
					runsMs.push(performance.now() - start);
					if (read < pages * bytes) throw new Error(`page rows: read ${read} bytes of ${pages * bytes}`);
				}
				out[String(perRow)] = { rows: keys.length, rowKb: (bytes * perRow) / 1000, ms: median(runsMs), runsMs };
			}
		} finally {
			await store.close();
		}
		return { pages, bytes, slice: SLICE, groupings: out };
	}
};
