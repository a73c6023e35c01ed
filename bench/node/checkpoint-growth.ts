/**
 * The Node side of bench/checkpoints.js (loaded through scripts/source-loader.js): a clinic
 * ledger grown block batch by block batch with the app's rules and folds and the default
 * checkpoint policy, recording every checkpoint written, which of them the store keeps
 * (thinned: core/ledger/checkpoint-ladder.ts), and which it would keep without thinning
 * (every checkpoint written and not dropped for a late block), in the same run; and the
 * memory the folded ledger holds once the last block is folded.
 */
import {
	MemoryStore,
	compareOrder,
	encodeCanonical,
	type CborValue,
	type Checkpoint,
	type LedgerStore,
	type OrderKey
} from '../../src/lib/core/index.js';
import { bytesEqual } from '../../src/lib/core/bytes.js';
import { encodeCanonicalReference } from '../../src/lib/core/codec.js';
import type { FactRow } from '../../src/lib/core/index-fold.js';
import { pageRows, unpackRow } from '../../src/lib/core/ledger/fold-pages.js';
import { APP_FOLDS } from '../../src/lib/domain/fold-registry.js';
import type { ClaimsState } from '../../src/lib/domain/contracts/claims-state.js';
import { growWorkload } from './offline-merge.js';

export interface Growth {
	blocks: number;
	buildMs: number;
	written: number;
	writtenMb: number;
	/** After the last block: the checkpoints the store holds, and what they take. */
	kept: number;
	keptMb: number;
	/** The same checkpoints as written, before the older ones were compressed (core/ledger/checkpoint-bytes.ts). */
	keptRawMb: number;
	/** The same without thinning: every checkpoint written and not dropped for a late block, as written. */
	unthinned: number;
	unthinnedMb: number;
	/** Checkpoints compressed once a newer one was written, and the time from reading each to storing it compressed. */
	compressed: number;
	compressMs: number;
	newestMb: number;
	/**
	 * The CBOR step of writing the newest checkpoint (the folds' `encode` values of the state
	 * after the last block, each encoded, then the whole), by the ledger's writer and by the
	 * encoder it replaced (a check pass, then cborg), best of 3 each.
	 */
	encodeMs: number;
	encodeReferenceMs: number;
	/** Time in the store's listing and dropping of checkpoints (the thinning's cost). */
	thinMs: number;
	/** The JS heap after the last block, after a collection (0 without --expose-gc), with the ledger open: its folded state and caches, and the memory store's rows. */
	heapMb: number;
	/** Array buffers outside that heap at the same moment (blocks' bytes, packed pages). */
	buffersMb: number;
	/** Of that, the claims fold's pages held decoded and packed. */
	claimsPages: { decoded: number; packed: number };
	/**
	 * The paged folds' rows (core/ledger/page-rows.ts) over the ledger's life: rows written
	 * (with the ladder's moves) and their MB; of those bytes, the pages that differ from the
	 * row's last version (what changed: the rest is written because a row is written whole);
	 * the rows the store holds after the last block and their MB, and the newest of each alone.
	 */
	pageRows: { written: number; writtenMb: number; changedMb: number; kept: number; keptMb: number; newestMb: number };
	/** Kept and unthinned at each 10,000 blocks. */
	steps: { blocks: number; kept: number; keptMb: number; keptRawMb: number; unthinned: number; unthinnedMb: number }[];
}

const key = (p: OrderKey) => `${p[0]}/${p[1]}`;
const mb = (bytes: number) => bytes / 1024 / 1024;

export async function grow(blocks: number, patients: number, log: (m: string) => void): Promise<Growth> {
	const memory = new MemoryStore();
	/** Bytes stored at each position, and as first written (before compression). */
	const sizes = new Map<string, number>();
	const rawSizes = new Map<string, number>();
	/** The last checkpoint read by position, and when: a write at that position next is its compression. */
	let lastRead: { at: string; started: number } | null = null;
	let unthinned: OrderKey[] = [];
	const out: Growth = {
		blocks,
		buildMs: 0,
		written: 0,
		writtenMb: 0,
		kept: 0,
		keptMb: 0,
		keptRawMb: 0,
		unthinned: 0,
		unthinnedMb: 0,
		compressed: 0,
		compressMs: 0,
		newestMb: 0,
		encodeMs: 0,
		encodeReferenceMs: 0,
		thinMs: 0,
		heapMb: 0,
		buffersMb: 0,
		claimsPages: { decoded: 0, packed: 0 },
		pageRows: { written: 0, writtenMb: 0, changedMb: 0, kept: 0, keptMb: 0, newestMb: 0 },
		steps: []
	};
	/** Each page row's pages as last written. */
	const lastRows = new Map<string, Map<string, Uint8Array>>();
	const paged = new Set(APP_FOLDS.flatMap((f) => (f.pages ? [pageRows(f.name)] : [])));
	const store = new Proxy(memory, {
		get(target, property, receiver) {
			// The ledger's close writes the checkpoint at the head; the store stays open to be read after it.
			if (property === 'close') return async () => {};
			if (property === 'putCheckpoint')
				return async (c: Checkpoint) => {
					const at = key(c.position);
					if (rawSizes.has(at) && lastRead?.at === at) {
						await target.putCheckpoint(c);
						out.compressed++;
						out.compressMs += performance.now() - lastRead.started;
						sizes.set(at, c.state.length);
						return;
					}
					out.written++;
					out.writtenMb += mb(c.state.length);
					sizes.set(at, c.state.length);
					rawSizes.set(at, c.state.length);
					unthinned = [...unthinned.filter((p) => compareOrder(p, c.position) !== 0), c.position].sort(compareOrder);
					await target.putCheckpoint(c);
				};
			if (property === 'writeFacts')
				return async (put: FactRow[], drop: FactRow[]) => {
					for (const row of put) {
						if (!paged.has(row.fold) || !(row.value instanceof Uint8Array)) continue;
						const pages = unpackRow(row.value);
						const before = lastRows.get(`${row.fold}|${row.key}`);
						out.pageRows.written++;
						out.pageRows.writtenMb += mb(row.value.length);
						for (const [page, bytes] of pages)
							if (!before?.has(page) || !bytesEqual(before.get(page)!, bytes)) out.pageRows.changedMb += mb(bytes.length);
						lastRows.set(`${row.fold}|${row.key}`, pages);
					}
					return target.writeFacts(put, drop);
				};
			if (property === 'checkpointAtOrBefore')
				return async (position: OrderKey | null) => {
					lastRead = position ? { at: key(position), started: performance.now() } : null;
					return target.checkpointAtOrBefore(position);
				};
			if (property === 'dropCheckpointsAfter')
				return async (position: OrderKey) => {
					unthinned = unthinned.filter((p) => compareOrder(p, position) <= 0);
					await target.dropCheckpointsAfter(position);
				};
			if (property === 'checkpointPositions' || property === 'dropCheckpoints')
				return async (...args: unknown[]) => {
					const started = performance.now();
					try {
						return await (target[property] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
					} finally {
						out.thinMs += performance.now() - started;
					}
				};
			const value = Reflect.get(target, property, receiver);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	}) as LedgerStore;
	const sum = (positions: readonly OrderKey[], of = sizes) => mb(positions.reduce((s, p) => s + (of.get(key(p)) ?? 0), 0));
	const step = async (made: number) => {
		const kept = await memory.checkpointPositions();
		const [keptMb, keptRawMb, unthinnedMb] = [sum(kept), sum(kept, rawSizes), sum(unthinned, rawSizes)];
		out.steps.push({ blocks: made, kept: kept.length, keptMb, keptRawMb, unthinned: unthinned.length, unthinnedMb });
		log(
			`${made.toLocaleString('en')} blocks: ${kept.length} checkpoints kept (${keptMb.toFixed(1)} MB; ${keptRawMb.toFixed(1)} MB as written), ${unthinned.length} without thinning (${unthinnedMb.toFixed(1)} MB)`
		);
	};
	const started = performance.now();
	const { ledger } = await growWorkload(store, 'Checkpoint Bench Clinic', { blocks, patients }, async (made) => {
		if (Math.floor(made / 10_000) > out.steps.length || made === blocks) await step(made);
	});
	const gc = (globalThis as { gc?: () => void }).gc;
	if (gc) {
		gc();
		const { heapUsed, arrayBuffers } = process.memoryUsage();
		out.heapMb = mb(heapUsed);
		out.buffersMb = mb(arrayBuffers);
	}
	const states = ledger.state();
	const values = APP_FOLDS.map((f) => f.encode(states[f.name]) as CborValue);
	const timeEncode = (encode: (v: CborValue) => Uint8Array) => {
		let best = Infinity;
		for (let run = 0; run < 3; run++) {
			const t = performance.now();
			encode({ folds: 'x', states: values.map((v) => encode(v)) });
			best = Math.min(best, performance.now() - t);
		}
		return best;
	};
	out.encodeReferenceMs = timeEncode(encodeCanonicalReference);
	out.encodeMs = timeEncode(encodeCanonical);
	const pages = (ledger.state().claims as ClaimsState).pages;
	out.claimsPages = pages.counts;
	await ledger.close();
	out.buildMs = performance.now() - started;
	for (const fold of paged)
		for (const row of await memory.factKeys(fold, null, Number.MAX_SAFE_INTEGER)) {
			const facts = await memory.facts(fold, row, null, Number.MAX_SAFE_INTEGER);
			for (const fact of facts) {
				out.pageRows.kept++;
				out.pageRows.keptMb += mb((fact.value as Uint8Array).length);
			}
			out.pageRows.newestMb += mb((facts.at(-1)!.value as Uint8Array).length);
		}
	const kept = await memory.checkpointPositions();
	Object.assign(out, {
		kept: kept.length,
		keptMb: sum(kept),
		keptRawMb: sum(kept, rawSizes),
		unthinned: unthinned.length,
		unthinnedMb: sum(unthinned, rawSizes),
		newestMb: mb(sizes.get(key(kept.at(-1)!)) ?? 0)
	});
	return out;
}
