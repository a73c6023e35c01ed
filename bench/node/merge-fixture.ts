/**
 * The offline-merge fixture's store helpers (bench/node/offline-merge.ts): a store that
 * records the checkpoints written to it, and the folds' pages (rows beside the checkpoints,
 * core/ledger/fold-pages.ts) as of the day-start checkpoint, for a store or a decoded state
 * that holds only that checkpoint.
 */
import { compareOrder, MemoryStore, type Checkpoint, type Fold, type LedgerStore, type OrderKey } from '../../src/lib/core/index.js';
import type { FactRow } from '../../src/lib/core/index-fold.js';
import { pageLog, pageRows, unpackRow } from '../../src/lib/core/ledger/fold-pages.js';
import { APP_FOLDS } from '../../src/lib/domain/fold-registry.js';

/** A store that keeps the checkpoints written to it and stays open when the ledger closes. */
export function recording(store: MemoryStore) {
	const checkpoints = new Map<string, Checkpoint>();
	const proxy = new Proxy(store, {
		get(target, property, receiver) {
			if (property === 'close') return async () => {};
			if (property === 'putCheckpoint')
				return async (c: Checkpoint) => {
					await target.putCheckpoint(c);
					// An older one written again, compressed (core/ledger/checkpoint-bytes.ts): not the newest.
					const newest = [...checkpoints.values()].at(-1);
					if (newest && compareOrder(c.position, newest.position) < 0) return;
					// The merge starts from the newest alone (forFolds); a 1,000,000-block ledger writes
					// dozens of checkpoints of tens of MB, which the fixture need not hold.
					checkpoints.clear();
					checkpoints.set(JSON.stringify(c.position), c);
				};
			if (property === 'dropCheckpointsAfter')
				return async (position: Checkpoint['position']) => {
					await target.dropCheckpointsAfter(position);
					for (const [key, c] of checkpoints) if (compareOrder(c.position, position) > 0) checkpoints.delete(key);
				};
			const value = Reflect.get(target, property, receiver);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
	return { store: proxy as LedgerStore, checkpoints };
}

/**
 * The pages of the app's paged folds as of checkpoint `at` (the newest of each page row at or
 * before it), each put at `at`, with the log row naming them: what a store holding only
 * that checkpoint needs beside it.
 */
export async function pagesAt(store: MemoryStore, at: OrderKey): Promise<FactRow[]> {
	const out: FactRow[] = [];
	for (const fold of APP_FOLDS.filter((f) => f.pages)) {
		const keys = await store.factKeys(pageRows(fold.name), null, Number.MAX_SAFE_INTEGER);
		const rows = await store.lastFactsOfKeys(pageRows(fold.name), keys, [at[0], at[1], 1]);
		rows.forEach((row) => row && out.push({ ...row, clock: at[0], block: at[1], n: 0 }));
		const logged = out.filter((row) => row.fold === pageRows(fold.name)).map((row) => row.key);
		if (logged.length > 0) out.push({ fold: pageLog(fold.name), key: 'log', clock: at[0], block: at[1], n: 0, value: logged });
	}
	return out;
}

/** Reads into the decoded `states` of `folds` every page they have stored, from `rows` ({@link pagesAt}). */
export function putPages(folds: readonly Fold<unknown>[], states: unknown[], rows: readonly FactRow[]): void {
	folds.forEach((f, i) => {
		if (!f.pages) return;
		const set = f.pages.of(states[i]);
		for (const row of rows)
			if (row.fold === pageRows(f.name)) for (const [key, page] of unpackRow(row.value as Uint8Array)) set.put(key, page);
	});
}
