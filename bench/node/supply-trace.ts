/**
 * The Node side of bench/supply.js, loaded through Vite's `ssrLoadModule`: a 100,000-block
 * supply ledger folded by the supply fold, its recall index rows written to a LevelDB
 * store (the headless peer's), then the recall trace of one lot read from that index a
 * page at a time, against the baseline of scanning every stored block for it.
 *
 * The blocks are the fold's input (author, time, transactions) with each block's
 * transactions also kept as canonical CBOR, as a store holds them; they are not signed:
 * signatures are checked before a block reaches the fold and play no part in a trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	decodeCanonical,
	encodeCanonical,
	factRows,
	fromHex,
	type AuthorId,
	type Block,
	type BlockId,
	type FactPosition,
	type Tx
} from '../../src/lib/core/index.js';
import { foldContexts } from '../../src/lib/core/testing/fold-contexts.js';
import { LevelStore } from '../../src/lib/core/storage/level.js';
import { lotKey, supplyFold, supplyView, type SupplyState } from '../../src/lib/domain/supply/fold.js';
import { gs1CheckDigit } from '../../src/lib/domain/supply/gs1.js';
import { administerTx, receiveTx, recallTx } from '../../src/lib/domain/supply/transactions.js';
import { lotIndex, recallTrace } from '../../src/lib/domain/supply/lot-index.js';
import { median } from '../lib/stats.js';

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const key = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i < 4 ? (n >>> (8 * i)) & 255 : 7));

export async function runSupplyTrace({
	blocks: count,
	clinics,
	gtins,
	lotsPerGtin,
	runs
}: {
	blocks: number;
	clinics: number;
	gtins: number;
	lotsPerGtin: number;
	runs: number;
}) {
	const gtinList = Array.from({ length: gtins }, (_, g) => {
		const body = `0950600${String(g).padStart(6, '0')}`;
		return body + gs1CheckDigit(body);
	});
	const lots = gtinList.flatMap((gtin) => Array.from({ length: lotsPerGtin }, (_, l) => ({ gtin, lot: `LOT-${l}` })));
	const authors = Array.from({ length: clinics }, (_, c) => hex(c + 1, 32) as AuthorId);
	const target = lots[0]!;
	// A deterministic spread: every 40th block a clinic receives a lot, the rest are doses given.
	const blocks: Block[] = [];
	const stored: Uint8Array[] = [];
	const t0 = Date.UTC(2026, 0, 1);
	for (let i = 0; i < count; i++) {
		const author = authors[i % clinics]!;
		const lot = lots[(i * 7919) % lots.length]!;
		let txs: Tx[];
		if (i % 40 === 39 || i < lots.length) txs = [receiveTx({ ...lot, expiry: '2030-12-31', qty: 500, supplier: 'Wholesaler' })];
		else {
			// A visit: the encounter record (ciphertext, as the records layer writes it) and the dose linked to it, in one block.
			const rid = Uint8Array.from({ length: 16 }, (_, b) => (b < 4 ? (i >>> (8 * b)) & 255 : 1));
			const encounter = {
				t: 'record.put',
				patient: key(i),
				category: 'encounters',
				kid: 0,
				rid,
				ver: 0,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(96)
			};
			txs = [encounter, administerTx({ ...lot, patient: key(i), kind: 'immunization', encounter: { block: fromHex(hex(i, 32)), rid } })];
		}
		if (i === count - 1) txs = [recallTx({ ...target, reason: 'benchmark recall' })];
		blocks.push({
			id: hex(i, 32) as BlockId,
			net: null,
			author,
			seq: Math.floor(i / clinics),
			prev: null,
			deps: [],
			clock: i + 1,
			time: t0 + i * 60_000,
			txs,
			body: new Uint8Array(),
			signature: new Uint8Array(),
			bytes: new Uint8Array()
		});
		stored.push(encodeCanonical(txs as unknown as Tx[]));
	}

	const foldStart = performance.now();
	let state: SupplyState = supplyFold.init();
	const contexts = foldContexts(supplyFold.reads);
	for (const block of blocks) state = supplyFold.apply(state, block, contexts(block));
	const foldMs = performance.now() - foldStart;

	// The recall index's rows, as the ledger writes them with their blocks, in a LevelDB store.
	const dir = mkdtempSync(join(tmpdir(), 'supply-trace-'));
	const store = await LevelStore.open(dir);
	try {
		for (let from = 0; from < blocks.length; from += 1000)
			await store.writeFacts(
				blocks.slice(from, from + 1000).flatMap((b) => factRows(lotIndex, b)),
				[]
			);
		const source = {
			facts: (fold: string, key: string, o: { after?: FactPosition | null; limit?: number; reverse?: boolean } = {}) =>
				store.facts(fold, key, o.after ?? null, o.limit ?? 500, o.reverse ?? false)
		};
		return await measure(source);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}

	async function measure(source: Parameters<typeof recallTrace>[0]) {
		// Warm up both paths, then the median of `runs` each.
		const view = supplyView(state);
		const fromIndex = () => recallTrace(source, view, target.gtin, target.lot);
		const fromScan = () => {
			const found: { block: string; patient: Uint8Array }[] = [];
			for (let i = 0; i < stored.length; i++) {
				for (const tx of decodeCanonical(stored[i]!) as unknown as Tx[]) {
					if (tx.t === 'supply.administer' && tx.gtin === target.gtin && tx.lot === target.lot)
						found.push({ block: blocks[i]!.id, patient: tx.patient as Uint8Array });
				}
			}
			return found;
		};
		const indexed = await fromIndex();
		const scanned = fromScan();
		if (indexed.administrations.length !== scanned.length || indexed.administrations.some((a, i) => a.block !== scanned[i]!.block)) {
			throw new Error(`index and scan disagree: ${indexed.administrations.length} vs ${scanned.length} administrations`);
		}
		const time = async (f: () => unknown) => {
			const samples: number[] = [];
			for (let r = 0; r < runs; r++) {
				const start = performance.now();
				await f();
				samples.push(performance.now() - start);
			}
			return median(samples);
		};
		return {
			blocks: count,
			lots: lots.length,
			administrations: indexed.administrations.length,
			patients: indexed.patients.length,
			foldMs,
			traceMs: await time(fromIndex),
			scanMs: await time(fromScan),
			flags: Object.keys(view.flags).length,
			lot: lotKey(target.gtin, target.lot)
		};
	}
}
