/**
 * The Node side of bench/offline-merge.js (loaded through scripts/source-loader.js): the
 * 100,000-block clinic ledger shared by two nodes at day start, the day's blocks of node X
 * (offline) and of the other clinics, and the timed merge of the others' blocks into X.
 */
import { Session } from 'node:inspector/promises';
import { foldContexts } from '../../src/lib/core/testing/fold-contexts.js';
import {
	Ledger,
	MemoryStore,
	compareOrder,
	decodeBlock,
	orderKey,
	summaryFold,
	type Block,
	type BlockId,
	type CborValue,
	type Checkpoint,
	type Fold,
	type LedgerStore,
	type ReceiveResult,
	type StoredBlock
} from '../../src/lib/core/index.js';
import { createNodeVerifier } from '../../src/lib/core/crypto/node-verifier.js';
import { decodeCheckpointStates, encodeCheckpointStates } from '../../src/lib/core/ledger/checkpoint-bytes.js';
import type { FactRow } from '../../src/lib/core/index-fold.js';
import { pagesAt, putPages, recording } from './merge-fixture.js';
import { nodeSigner } from '../../src/lib/core/crypto/node-signer.js';
import { testSecret } from '../../src/lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '../../src/lib/domain/fold-registry.js';
import { recordsFold } from '../../src/lib/domain/records/fold.js';
import { APP_RULES } from '../../src/lib/domain/rule-registry.js';
import { storeReport, timed } from '../browser/store-probe.js';
import { LABELS, WorkloadWriter, members, timeOf, T0, workloadBlocks } from './merge-workload.js';
import { heapNow, instrument, timedVerifier, type Breakdown } from './merge-probe.js';

/** Blocks per receive while building, and what sync sends per batch. */
export const SYNC_BATCH = 500;
/** Meta keys the ledger writes (pipeline, membership index, void set). */
const META_KEYS = ['net', 'authors', 'membership', 'void', 'forks', 'revalidate'];

export interface MergeFixture {
	readonly net: BlockId;
	/** The day-start ledger: every stored row in total order, its meta and checkpoints. */
	readonly rows: StoredBlock[];
	readonly meta: [string, unknown][];
	readonly checkpoints: Checkpoint[];
	/** The folds' pages as of the newest checkpoint (core/ledger/fold-pages.ts: rows beside it, not in it), with their log. */
	readonly pageRows: FactRow[];
	/** The day's blocks of node X (written offline) and of the other clinics, wire bytes in chain order. */
	readonly xDay: Uint8Array[];
	readonly others: Uint8Array[];
	readonly patients: number;
	readonly buildMs: number;
}

const fail = (what: string, result: ReceiveResult, expected: number) => {
	if (result.accepted.length !== expected)
		throw new Error(`${what}: ${result.accepted.length}/${expected} accepted; ${result.rejected[0]?.code}: ${result.rejected[0]?.detail}`);
};

/**
 * Node X's ledger holding the day-start workload (`workloadBlocks`): created on `store`
 * with the app's rules and folds (default checkpoint policy: checkpoints where the app
 * would write them), the blocks received in batches of {@link SYNC_BATCH} as sync hands
 * them; `afterBatch` is told how many blocks the ledger holds after each.
 */
export async function growWorkload(
	store: LedgerStore,
	name: string,
	{ blocks, patients }: { blocks: number; patients: number },
	afterBatch: (made: number) => void | Promise<void>
): Promise<{ ledger: Ledger; writer: WorkloadWriter }> {
	const ledger = await Ledger.create({
		store,
		signer: nodeSigner(testSecret(LABELS.x)),
		verifier: await createNodeVerifier(),
		now: () => T0,
		rules: APP_RULES,
		folds: APP_FOLDS,
		indexes: APP_INDEXES,
		genesis: { name }
	});
	const memberBlock = await ledger.append(members());
	const writer = new WorkloadWriter(ledger.net, { id: memberBlock.id, clock: memberBlock.clock }, patients);
	let batch: Uint8Array[] = [];
	let made = 2;
	const flush = async () => {
		fail('fixture', await ledger.receive(batch), batch.length);
		batch = [];
		await afterBatch(made);
	};
	for await (const bytes of workloadBlocks(writer, patients, blocks)) {
		batch.push(bytes);
		made++;
		if (batch.length >= SYNC_BATCH) await flush();
	}
	if (batch.length > 0) await flush();
	return { ledger, writer };
}

/**
 * Builds the day-start ledger of `blocks` blocks for `patients` patients with the app's
 * rules and folds (default checkpoint policy: checkpoints in the store where the app
 * would have written them, the last one at the head, written on close), then the day:
 * `day` blocks of X and `day` of clinics B and C whose clocks interleave with X's.
 */
export async function buildFixture(
	{ blocks, patients, day }: { blocks: number; patients: number; day: number },
	log: (m: string) => void
): Promise<MergeFixture> {
	const started = performance.now();
	const memory = new MemoryStore();
	const { store, checkpoints } = recording(memory);
	let logged = 0;
	const { ledger, writer } = await growWorkload(store, 'Merge Bench Clinic', { blocks, patients }, (made) => {
		if (made - logged < 10_000) return;
		logged = made;
		log(`fixture: ${made.toLocaleString('en')} blocks`);
	});
	await ledger.close(); // the checkpoint at the head, as on the evening's close
	const rows = await memory.ordered(null, Number.MAX_SAFE_INTEGER);
	const meta: [string, unknown][] = [];
	for (const key of META_KEYS) {
		const value = await memory.getMeta(key);
		if (value !== undefined) meta.push([key, value]);
	}
	const fixtureCheckpoints = [...checkpoints.values()].sort((a, b) => compareOrder(a.position, b.position));
	const pageRows = await pagesAt(memory, fixtureCheckpoints.at(-1)!.position);
	log(
		`fixture: ${rows.length.toLocaleString('en')} blocks, ${checkpoints.size} checkpoints, ${pageRows.length} page rows; the day's blocks`
	);

	// The day: X's visits on its own patients, B's and C's on theirs, the clocks of both
	// streams counting up from the day-start clock (X's i-th and the others' i-th block share
	// a clock: the total order (clock, id) interleaves them).
	const base = writer.clock;
	const dayStart = { id: rows.at(-1)!.id, author: rows.at(-1)!.author };
	const ofClinic = (clinic: number) => Array.from({ length: Math.floor(patients / 3) }, (_, i) => i * 3 + clinic);
	const stream = async (clinics: number[], n: number): Promise<Uint8Array[]> => {
		const out: Uint8Array[] = [];
		const lists = clinics.map(ofClinic);
		let depsOn: { id: BlockId; author: StoredBlock['author'] } | null = dayStart;
		for (let i = 0; i < n; i++) {
			const which = i % clinics.length;
			const cycle = Math.floor(i / clinics.length);
			const list = lists[which]!;
			const p = list[Math.floor(cycle / 10) % list.length]!;
			const next = writer.visitBlock(cycle % 10, p, base + 1 + i);
			const b = await writer.block(next.who, next.txs, base + 1 + i, depsOn);
			if (next.encounter) writer.noteEncounter(p, b.id);
			depsOn = clinics.length > 1 ? { id: b.id, author: b.block.author } : null;
			out.push(b.bytes);
		}
		return out;
	};
	const xDay = await stream([0], day);
	const others = await stream([1, 2], day);
	return {
		net: ledger.net,
		rows,
		meta,
		checkpoints: fixtureCheckpoints,
		pageRows,
		xDay,
		others,
		patients,
		buildMs: performance.now() - started
	};
}

/**
 * The records fold as it was before issue 19's fix, for the before/after figures of one
 * run: its checkpoint was the state itself as canonical CBOR (version 2), decoded as a
 * deep copy (structuredClone here; the fold copied container by container), and a late
 * block rewound it like every other fold (not commutative).
 */
const recordsBefore: Fold<unknown> = {
	...(recordsFold as Fold<unknown>),
	version: 2,
	commutative: false,
	encode: (state) => state as CborValue,
	decode: (value) => structuredClone(value) as unknown
};

/** The app's folds (`after`), and the same with the records fold's earlier checkpoint format (`before`). */
export const FOLD_SETS: Record<'after' | 'before' | 'rewind', readonly Fold<unknown>[]> = {
	after: APP_FOLDS,
	before: APP_FOLDS.map((f) => (f.name === 'records' ? recordsBefore : f)),
	// The keyed folds (claims, access, research) without their keys: a late block rewinds them, as before they were keyed.
	rewind: APP_FOLDS.map((f) => (f.keyed ? { ...f, keyed: undefined } : f))
};

/**
 * The fixture with only its day-start checkpoint (the merge never goes back further),
 * re-encoded for `folds` (the fixture was built with the app's folds).
 */
export function forFolds(fx: MergeFixture, folds: readonly Fold<unknown>[]): MergeFixture {
	const checkpoint = fx.checkpoints.at(-1)!;
	const from = [summaryFold as Fold<unknown>, ...APP_FOLDS];
	const to = [summaryFold as Fold<unknown>, ...folds];
	const decoded = decodeCheckpointStates(from, checkpoint.state)!;
	const state = encodeCheckpointStates(
		to,
		from.map((_, i) => decoded.get(i))
	);
	return { ...fx, checkpoints: [{ ...checkpoint, state }] };
}

/** Fills an empty store with the day-start ledger. */
export async function copyInto(store: LedgerStore, fx: MergeFixture): Promise<void> {
	for (let from = 0; from < fx.rows.length; from += 5_000) {
		await store.append(fx.rows.slice(from, from + 5_000), from === 0 ? Object.fromEntries(fx.meta) : {});
	}
	// Meta as of the last block (append's meta sets the keys as of the whole ledger).
	for (const [key, value] of fx.meta) await store.putMeta(key, value);
	for (const c of fx.checkpoints) await store.putCheckpoint(c);
	await store.writeFacts(fx.pageRows, []);
}

/** Times spent, in ms, by what the fold engine and the pipeline do during the merge. */
export interface MergeResult {
	store: string;
	batch: number;
	ms: number;
	heapGrowthMb: number;
	/** Store time by method during the merge: calls and wall time with at least one in flight. */
	storeCalls: Record<string, { calls: number; busyMs: number }>;
	storeBusyMs: number;
	breakdown: Breakdown;
	/** Preparing the node (not timed): copying the day-start ledger in, X's offline day, reopening. */
	prepareMs: number;
	size: number;
	/** Keys the keyed folds re-applied during the merge instead of rewinding (core/fold.ts FoldKeys), and their blocks. */
	reapplied: { keys: number; blocks: number };
	/** With MERGE_PROFILE=1: the V8 CPU profile of the timed part. */
	cpuProfile?: unknown;
}

/**
 * Node X on `raw` (an empty store): the day-start ledger copied in, X opens it, writes its
 * day offline (its blocks received as written, folded forward; the engine checkpoints as
 * it would), closes (a checkpoint at its head) and opens again, as when it comes back
 * online. Then the timed part: the other clinics' blocks arrive in batches of `batch`,
 * at most two receives in flight as sync hands them; from the first receive until the last
 * resolves.
 */
export async function runMerge(
	raw: LedgerStore,
	fx: MergeFixture,
	batch: number,
	gc: () => void,
	appFolds: readonly Fold<unknown>[] = APP_FOLDS
): Promise<MergeResult> {
	const prepared = performance.now();
	await copyInto(raw, fx);
	const b: Breakdown = {
		foldApply: 0,
		foldEncode: 0,
		cborEncode: 0,
		foldDecode: 0,
		cborDecode: 0,
		verify: 0,
		checkpointsWritten: 0,
		checkpointsRead: 0,
		applies: 0
	};
	let peak = 0;
	let sampling = false;
	const sample = () => {
		if (!sampling) return;
		const h = heapNow();
		if (h > peak) peak = h;
	};
	const { folds, wrapStore } = instrument(b, sample, appFolds);
	const probe = timed(wrapStore(raw));
	const verifier = timedVerifier(await createNodeVerifier(), b);
	const options = {
		store: probe.store,
		signer: nodeSigner(testSecret(LABELS.x)),
		verifier,
		now: () => timeOf(fx.rows.at(-1)!.clock + fx.xDay.length),
		rules: APP_RULES,
		folds,
		net: fx.net
	};
	const day = await Ledger.open(options);
	for (let from = 0; from < fx.xDay.length; from += SYNC_BATCH) {
		const part = fx.xDay.slice(from, from + SYNC_BATCH);
		fail('X offline', await day.receive(part), part.length);
	}
	await day.close();
	const x = await Ledger.open(options);
	const prepareMs = performance.now() - prepared;
	const reappliedBefore = x.reapplied;
	const before = new Map([...probe.stats].map(([k, s]) => [k, { ...s }]));
	const busyBefore = probe.busy();
	Object.assign(b, { foldApply: 0, foldEncode: 0, cborEncode: 0, foldDecode: 0, cborDecode: 0, verify: 0 });
	Object.assign(b, { checkpointsWritten: 0, checkpointsRead: 0, applies: 0 });

	gc();
	const heapBefore = heapNow();
	peak = heapBefore;
	sampling = true;
	const timer = setInterval(sample, 10);
	// MERGE_PROFILE=1: a CPU profile of the timed merge alone (bench/offline-merge.js prints where it goes).
	const profiler = process.env.MERGE_PROFILE === '1' ? new Session() : null;
	if (profiler) {
		profiler.connect();
		await profiler.post('Profiler.enable');
		await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
		await profiler.post('Profiler.start');
	}
	const t0 = performance.now();
	const inFlight: Promise<ReceiveResult>[] = [];
	const results: ReceiveResult[] = [];
	for (let from = 0; from < fx.others.length; from += batch) {
		if (inFlight.length >= 2) results.push(await inFlight.shift()!);
		inFlight.push(x.receive(fx.others.slice(from, from + batch)));
	}
	for (const p of inFlight) results.push(await p);
	const ms = performance.now() - t0;
	const cpuProfile = profiler ? ((await profiler.post('Profiler.stop')) as { profile: unknown }).profile : undefined;
	profiler?.disconnect();
	const breakdown = { ...b };
	const storeCalls = storeReport(probe.stats, before);
	const storeBusyMs = probe.busy() - busyBefore;
	clearInterval(timer);
	sampling = false;
	sample();
	const accepted = results.reduce((n, r) => n + r.accepted.length, 0);
	if (accepted !== fx.others.length) throw new Error(`merge: ${accepted}/${fx.others.length} accepted`);
	const expected = fx.rows.length + fx.xDay.length + fx.others.length;
	if (x.size !== expected) throw new Error(`merge: ledger holds ${x.size}, expected ${expected}`);
	const reapplied = { keys: x.reapplied.keys - reappliedBefore.keys, blocks: x.reapplied.blocks - reappliedBefore.blocks };
	await x.close();
	await raw.close();
	return {
		store: raw.kind,
		batch,
		ms,
		heapGrowthMb: (peak - heapBefore) / 1024 / 1024,
		storeCalls,
		storeBusyMs,
		breakdown,
		prepareMs,
		size: x.size,
		reapplied,
		cpuProfile
	};
}

/**
 * The fold alone over the day's 4,000 blocks: every app fold (and the core's summary)
 * from the day-start checkpoint's state, the blocks decoded beforehand and applied in
 * total order; only the applies are timed. Also the size of that state as a checkpoint.
 */
export function foldAlone(
	fx: MergeFixture,
	folds: readonly Fold<unknown>[] = APP_FOLDS
): { ms: number; checkpointMb: number; decodeMs: number } {
	const all = [summaryFold as Fold<unknown>, ...folds];
	const checkpoint = fx.checkpoints.at(-1)!;
	const t = performance.now();
	const decoded = decodeCheckpointStates(all, checkpoint.state)!;
	const states = all.map((_, i) => decoded.get(i));
	putPages(all, states, fx.pageRows);
	const decodeMs = performance.now() - t;
	const blocks: Block[] = [...fx.xDay, ...fx.others].map((bytes) => decodeBlock(bytes));
	blocks.sort((a, c) => compareOrder(orderKey(a), orderKey(c)));
	// Each block's context (its causal past, the encounter records it names) as the ledger
	// gives it, from the day-start ledger's blocks and then the day's, made before the timing.
	const contextOf = foldContexts(all.flatMap((f) => f.reads ?? []));
	for (const row of fx.rows) contextOf(decodeBlock(row.bytes));
	const contexts = blocks.map(contextOf);
	const started = performance.now();
	blocks.forEach((block, b) => all.forEach((f, i) => (states[i] = f.apply(states[i], block, contexts[b]))));
	return { ms: performance.now() - started, checkpointMb: checkpoint.state.length / 1024 / 1024, decodeMs };
}
