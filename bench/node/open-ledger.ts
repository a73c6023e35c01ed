/**
 * The ledger of bench/open-1m.js, built in Node with the app's own core: the clinic
 * workload of merge-workload.ts (its WorkloadWriter, signed with node:crypto) scaled to
 * `patients` patients in `blocks` blocks, exactly 10 visit cycles per patient: per cycle
 * one claim (`claim.submit`), a vaccine dose (`supply.administer`) every other cycle,
 * sealed FHIR records, stock received, notes. At 10,000 patients: 1,000,000 blocks,
 * 100,000 claims, 50,000 doses.
 *
 * Every block goes through `Ledger.receive` (signature, chain, clock, deps, roster and
 * the app's transaction rules: APP_RULES) in batches of RECEIVE_BATCH into a MemoryStore,
 * so every stored block is one the app accepts. That ledger receives with no app fold:
 * folding while receiving writes a whole-state checkpoint every 1,000 to 20,000 blocks,
 * and the state of this ledger is hundreds of MB (the 100,000-block merge ledger's is
 * 78.5 MB). The app's rules read no fold state, so the same blocks are accepted either
 * way. Then foldOpenLedger: a ledger with the app's folds (APP_FOLDS) and a checkpoint
 * spacing wider than the ledger opens a store of those blocks (`Ledger.open` folds every
 * block once) and closes, which writes the checkpoint at its head, as the app writes one.
 */
import {
	Ledger,
	MemoryStore,
	type BlockId,
	type Checkpoint,
	type FactRow,
	type Head,
	type ReceiveResult,
	type StoredBlock
} from '../../src/lib/core/index.js';
import { createNodeVerifier } from '../../src/lib/core/crypto/node-verifier.js';
import { nodeSigner } from '../../src/lib/core/crypto/node-signer.js';
import { testSecret } from '../../src/lib/core/testing/fixtures.js';
import { factRowsOf } from '../../src/lib/core/testing/store-harness.js';
import { pageLog, pageRows } from '../../src/lib/core/ledger/fold-pages.js';
import { APP_FOLDS, APP_INDEXES } from '../../src/lib/domain/fold-registry.js';
import { META_INDEX_FOLDS, META_INDEX_VOIDS } from '../../src/lib/core/ledger/index-engine.js';
import { APP_RULES } from '../../src/lib/domain/rule-registry.js';
import { LABELS, WorkloadWriter, members, T0 } from './merge-workload.js';

/** Blocks per receive while building (sync hands 500; a bigger batch is one store append of several segments). */
export const RECEIVE_BATCH = 2_000;
/** Visit cycles (ten blocks, one claim each) per patient. */
export const ROUNDS = 10;
/** Meta keys the ledger writes (pipeline, membership index, void set). */
const META_KEYS = ['net', 'authors', 'membership', 'void', 'forks', 'revalidate'];

export interface OpenLedger {
	readonly net: BlockId;
	readonly name: string;
	/** Every stored row in total (clock, id) order. */
	readonly rows: StoredBlock[];
	readonly heads: Head[];
	readonly meta: [string, unknown][];
	readonly counts: Record<string, number>;
	/** Where the build's time went, ms. */
	readonly timings: Record<string, number>;
}

/** A memory store that stays readable after the ledger closes it. */
class KeptStore extends MemoryStore {
	override async close() {}

	/** Every row of every app index and of the folds' pages (core/ledger/fold-pages.ts), in (fold, key, position) order, about `per` rows at a time (a key's rows together). */
	async *factRows(per: number): AsyncGenerator<FactRow[]> {
		let out: FactRow[] = [];
		const pageFolds = APP_FOLDS.flatMap((f) => (f.pages ? [pageRows(f.name), pageLog(f.name)] : []));
		for await (const rows of factRowsOf(this, [...APP_INDEXES.map((f) => f.name), ...pageFolds])) {
			for (const row of rows) out.push(row);
			if (out.length >= per) {
				yield out;
				out = [];
			}
		}
		if (out.length > 0) yield out;
	}
}

const fail = (result: ReceiveResult, expected: number) => {
	if (result.accepted.length !== expected)
		throw new Error(
			`open ledger: ${result.accepted.length}/${expected} accepted; ${result.rejected[0]?.code}: ${result.rejected[0]?.detail}`
		);
};

/** Makes and receives the ledger's blocks (no app fold); `log` reports progress. */
export async function receiveOpenLedger(
	{ blocks, patients }: { blocks: number; patients: number },
	log: (m: string) => void
): Promise<OpenLedger> {
	const started = performance.now();
	const timings = { make: 0, receive: 0, total: 0 };
	const counts: Record<string, number> = { blocks: 0, claims: 0, doses: 0, records: 0, notes: 0, stock: 0 };
	const name = 'Open Bench Clinic';
	const store = new KeptStore();
	const ledger = await Ledger.create({
		store,
		signer: nodeSigner(testSecret(LABELS.x)),
		verifier: await createNodeVerifier(),
		now: () => T0,
		rules: APP_RULES,
		folds: [],
		checkpointEvery: Number.MAX_SAFE_INTEGER,
		genesis: { name }
	});
	const memberBlock = await ledger.append(members());
	const writer = new WorkloadWriter(ledger.net, { id: memberBlock.id, clock: memberBlock.clock }, patients);
	const header = 3 + Math.ceil(patients / 100) + patients;
	// Blocks past `blocks` at ten per cycle: that many cycles leave out their last note (k = 9).
	const short = header + patients * ROUNDS * 10 - blocks;
	if (short < 0 || short > patients * ROUNDS) throw new Error(`open ledger: ${blocks} blocks do not fit ${patients} patients`);

	let batch: Uint8Array[] = [];
	let made = 2;
	let receiving: Promise<void> = Promise.resolve();
	const flush = async () => {
		const part = batch;
		batch = [];
		// One receive in flight beside the making of the next batch (signatures run in node:crypto, synchronously).
		await receiving;
		if (part.length === 0) return;
		receiving = (async () => {
			const t = performance.now();
			fail(await ledger.receive(part), part.length);
			timings.receive += performance.now() - t;
		})();
	};
	const make = async (who: keyof typeof LABELS, txs: Parameters<WorkloadWriter['block']>[1]) => {
		const t = performance.now();
		const b = await writer.block(who, txs);
		timings.make += performance.now() - t;
		for (const tx of txs) {
			if (tx.t === 'claim.submit') counts.claims!++;
			else if (tx.t === 'supply.administer') counts.doses!++;
			else if (tx.t === 'record.put') counts.records!++;
			else if (tx.t === 'note') counts.notes!++;
			else if (tx.t === 'supply.receive') counts.stock!++;
		}
		batch.push(b.bytes);
		if (++made % 50_000 === 0) log(`built ${made.toLocaleString('en')} blocks, ${((performance.now() - started) / 1000).toFixed(0)} s`);
		if (batch.length >= RECEIVE_BATCH) await flush();
		return b;
	};

	await make('payer', writer.deployTxs());
	for (let p = 0; p < patients; p += 100) await make('payer', writer.enrollTxs(p, 100));
	for (let p = 0; p < patients; p++) {
		const { who, txs } = writer.setupTxs(p, T0);
		await make(who, txs);
	}
	for (let cycle = 0; cycle < patients * ROUNDS; cycle++) {
		const p = cycle % patients;
		const round = Math.floor(cycle / patients);
		for (let k = 0; k < 10; k++) {
			if (k === 9 && cycle < short) continue;
			// A dose every other round; the other rounds' slot 3 is a record, as slot 2 is.
			const slot = k === 3 && round % 2 === 1 ? 2 : k;
			const next = writer.visitBlock(slot, p, writer.clock + 1);
			const b = await make(next.who, next.txs);
			if (next.encounter) writer.noteEncounter(p, b.id);
		}
	}
	await flush();
	await receiving;
	if (ledger.size !== blocks) throw new Error(`open ledger: ${ledger.size} blocks stored, expected ${blocks}`);
	if (ledger.voided().size > 0) throw new Error('open ledger: void blocks');
	await ledger.close();
	const rows = await store.ordered(null, Number.MAX_SAFE_INTEGER);
	const meta: [string, unknown][] = [];
	for (const key of META_KEYS) {
		const value = await store.getMeta(key);
		if (value !== undefined) meta.push([key, value]);
	}
	counts.blocks = rows.length;
	timings.total = performance.now() - started;
	return { net: ledger.net, name, rows, heads: await store.heads(), meta, counts, timings };
}

/**
 * The checkpoint the app writes of the first `upTo` of `rows` (all when omitted), and the
 * rows of its index folds (APP_INDEXES): a ledger with the app's folds and indexes opens a
 * store holding those blocks (no checkpoint, no index rows: it folds every block, with a
 * checkpoint spacing wider than the ledger, and builds every index) and closes, which
 * writes the checkpoint at its head. `facts` pages through the index rows the store then
 * holds; `indexMeta`, the meta entries the index engine wrote with them. Throws what the
 * fold engine throws (e.g. RangeError when a fold's checkpoint is larger than a
 * JavaScript string can be).
 */
export async function foldOpenLedger(
	rows: readonly StoredBlock[],
	meta: readonly [string, unknown][],
	upTo = rows.length
): Promise<{
	checkpoint: Checkpoint;
	foldMs: number;
	encodeMs: number;
	facts: (per: number) => AsyncGenerator<FactRow[]>;
	indexMeta: [string, unknown][];
}> {
	const store = new KeptStore();
	for (let from = 0; from < upTo; from += 5_000) await store.append(rows.slice(from, Math.min(upTo, from + 5_000)));
	for (const [key, value] of meta) await store.putMeta(key, value);
	const t = performance.now();
	const ledger = await Ledger.open({
		store,
		signer: nodeSigner(testSecret(LABELS.x)),
		verifier: await createNodeVerifier(),
		rules: APP_RULES,
		folds: APP_FOLDS,
		indexes: APP_INDEXES,
		checkpointEvery: Number.MAX_SAFE_INTEGER
	});
	const foldMs = performance.now() - t;
	const summary = ledger.state().summary as { blocks: number };
	if (summary.blocks !== upTo) throw new Error(`open ledger: the fold counted ${summary.blocks} blocks, not ${upTo}`);
	const e = performance.now();
	await ledger.close();
	const encodeMs = performance.now() - e;
	const checkpoint = await store.checkpointAtOrBefore(null);
	if (!checkpoint || checkpoint.count !== upTo) throw new Error(`open ledger: no checkpoint at block ${upTo}`);
	const indexMeta: [string, unknown][] = [];
	for (const key of [META_INDEX_FOLDS, META_INDEX_VOIDS]) {
		const value = await store.getMeta(key);
		if (value !== undefined) indexMeta.push([key, value]);
	}
	return { checkpoint, foldMs, encodeMs, facts: (per) => store.factRows(per), indexMeta };
}
