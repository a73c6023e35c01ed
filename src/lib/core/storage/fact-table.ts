/**
 * Index-fold rows in memory (index-fold.ts): per fold, per key, rows kept sorted by
 * position. The memory store's and the file store's fact storage.
 */
import { compareFactPosition, factPosition, type FactPosition, type FactRow } from '../index-fold.js';

export class FactTable {
	readonly #folds = new Map<string, Map<string, FactRow[]>>();
	/** Per fold, its keys sorted; dropped when a key is added or emptied. */
	readonly #sortedKeys = new Map<string, string[]>();

	/** Index of the first row of `rows` at or after `position`. */
	static #lowerBound(rows: readonly FactRow[], position: FactPosition): number {
		let lo = 0;
		let hi = rows.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (compareFactPosition(factPosition(rows[mid]!), position) < 0) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	put(row: FactRow): void {
		let keys = this.#folds.get(row.fold);
		if (!keys) this.#folds.set(row.fold, (keys = new Map()));
		let rows = keys.get(row.key);
		if (!rows) {
			keys.set(row.key, (rows = []));
			this.#sortedKeys.delete(row.fold);
		}
		const stored = structuredClone(row);
		const last = rows[rows.length - 1];
		if (!last || compareFactPosition(factPosition(last), factPosition(row)) < 0) {
			rows.push(stored);
			return;
		}
		const at = FactTable.#lowerBound(rows, factPosition(row));
		const same = rows[at] && compareFactPosition(factPosition(rows[at]), factPosition(row)) === 0;
		rows.splice(at, same ? 1 : 0, stored);
	}

	drop(row: FactRow): void {
		const keys = this.#folds.get(row.fold);
		const rows = keys?.get(row.key);
		if (!keys || !rows) return;
		const at = FactTable.#lowerBound(rows, factPosition(row));
		if (rows[at] && compareFactPosition(factPosition(rows[at]), factPosition(row)) === 0) rows.splice(at, 1);
		if (rows.length === 0) {
			keys.delete(row.key);
			this.#sortedKeys.delete(row.fold);
		}
	}

	clear(fold: string): void {
		this.#folds.delete(fold);
		this.#sortedKeys.delete(fold);
	}

	rows(fold: string, key: string, after: FactPosition | null, limit: number, reverse = false): FactRow[] {
		const rows = this.#folds.get(fold)?.get(key) ?? [];
		if (reverse) {
			const end = after ? FactTable.#lowerBound(rows, after) : rows.length;
			return rows
				.slice(Math.max(0, end - limit), end)
				.reverse()
				.map((r) => structuredClone(r));
		}
		let start = after ? FactTable.#lowerBound(rows, after) : 0;
		const first = rows[start];
		if (after && first && compareFactPosition(factPosition(first), after) === 0) start++;
		return rows.slice(start, start + limit).map((r) => structuredClone(r));
	}

	keys(fold: string, after: string | null, limit: number): string[] {
		let sorted = this.#sortedKeys.get(fold);
		if (!sorted) {
			sorted = [...(this.#folds.get(fold)?.keys() ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
			this.#sortedKeys.set(fold, sorted);
		}
		let lo = 0;
		let hi = sorted.length;
		while (after !== null && lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (sorted[mid]! <= after) lo = mid + 1;
			else hi = mid;
		}
		return sorted.slice(lo, lo + limit);
	}
}
