/**
 * Suites timing the open of a large store: building a ledger and a Yjs doc of the same
 * entries as fixtures, then opening each until it answers.
 */
import { IndexedDBStore, Ledger } from '../../src/lib/core/index.js';
import { median } from '../lib/stats.js';
import { noteEntry, noteTxs } from '../lib/workload.js';
import { foundOnIndexedDB } from './ledger-fixtures.js';
import { freshName, log } from './page-databases.js';
import { PersistedDoc, timeOpen } from './yjs-idb.js';

export const openSuites = {
	/** Builds a single-author ledger of `count` blocks on IndexedDB (relaxed: it is only a fixture), then closes it. */
	async openBuild({ count, batch }: { count: number; batch: number }) {
		const name = freshName('open');
		const start = performance.now();
		const ledger = await foundOnIndexedDB(name, 'relaxed');
		// Blocks per second over each tenth of the build: does appending slow down as the store grows?
		const tenth = Math.max(batch, Math.round(count / 10 / batch) * batch);
		const rates: number[] = [];
		let mark = performance.now();
		let marked = ledger.size;
		for (let done = 1; done < count; done += batch) {
			await ledger.appendBatch(Array.from({ length: Math.min(batch, count - done) }, (_, i) => noteTxs(done + i)));
			if (ledger.size - marked >= tenth || ledger.size === count) {
				const now = performance.now();
				rates.push(((ledger.size - marked) / (now - mark)) * 1000);
				log(
					`ledger fixture: ${ledger.size}/${count} blocks, ${((now - start) / 1000).toFixed(1)} s, ${Math.round(rates.at(-1)!)} blocks/s lately`
				);
				mark = now;
				marked = ledger.size;
			}
		}
		const size = ledger.size;
		await ledger.close();
		return { name, blocks: size, ms: performance.now() - start, ratesPerTenth: rates };
	},

	/** Opening the built ledger until `state()` and `heads()` answer, `runs` times. */
	async openLedger({ name, runs, blocks }: { name: string; runs: number; blocks: number }) {
		const samples: number[] = [];
		const storeMs: number[] = [];
		for (let r = 0; r < runs; r++) {
			const start = performance.now();
			const store = await IndexedDBStore.open(name);
			const opened = performance.now();
			const ledger = await Ledger.open({ store });
			const summary = ledger.state().summary as { blocks: number };
			const heads = ledger.heads();
			const ms = performance.now() - start;
			if (summary.blocks !== blocks || heads.length !== 1)
				throw new Error(`opened ledger folds ${summary.blocks} blocks, ${heads.length} heads`);
			samples.push(ms);
			storeMs.push(opened - start);
			await ledger.close();
		}
		return { samplesMs: samples, ms: median(samples), indexedDBOpenMs: median(storeMs), first: samples[0]! };
	},

	async yjsOpenBuild({ count, batch }: { count: number; batch: number }) {
		const name = freshName('open-yjs');
		const start = performance.now();
		const doc = await PersistedDoc.open(name);
		for (let done = 0; done < count; done += batch) {
			doc.doc.transact(() => {
				for (let i = done; i < Math.min(count, done + batch); i++) doc.entries.push([noteEntry(i)]);
			});
			await doc.stored();
		}
		await doc.close();
		return { name, ms: performance.now() - start };
	},

	async yjsOpen({ name, runs, entries }: { name: string; runs: number; entries: number }) {
		const samples: number[] = [];
		for (let r = 0; r < runs; r++) samples.push(await timeOpen(name, entries));
		return { samplesMs: samples, ms: median(samples), first: samples[0]! };
	}
};
