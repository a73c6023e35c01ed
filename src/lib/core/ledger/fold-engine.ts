/**
 * The folds' state as of every accepted block in total order, with checkpoints in the
 * store so a reopened node (or a block landing before blocks already folded) refolds from
 * the nearest one instead of from the genesis.
 */
import { decodeBlock } from '../block.js';
import { CodedError, LedgerError } from '../errors.js';
import type { Causal, Fold, FoldContext } from '../fold.js';
import { compareOrder, orderKey, type Checkpoint, type LedgerStore, type OrderKey } from '../storage/store.js';
import type { Block, BlockId } from '../types.js';
import {
	COMPRESS_FROM_BYTES,
	compressOlder,
	decodeCheckpointStates,
	decompressCheckpoint,
	encodeCheckpointStates
} from './checkpoint-bytes.js';
import { checkpointsToDrop } from './checkpoint-ladder.js';
import { blockContexts } from './block-contexts.js';
import { EnginePages } from './fold-pages.js';
import { dependentKeys, keysOfBatch, reapplyKeys, rebuildShared, touchesShared, type ReapplyStats } from './key-reapply.js';
import type { Rejection } from './types.js';

export type { ReapplyStats } from './key-reapply.js';

/** Stored blocks read per page when folding or walking a chain. */
export const FOLD_PAGE = 500;
/** A checkpoint that takes longer than this to encode and store moves the next one further away. */
const CHEAP_CHECKPOINT_MS = 100;
/** Checkpoints are at most this many times the configured gap apart. */
const MAX_GAP_FACTOR = 20;
/**
 * Folds that are not commutative wait at most this long for more late blocks (see
 * {@link FoldEngine.advance}): a peer that keeps the queue full, even with blocks that are
 * all refused, cannot keep them behind for longer.
 */
export const MAX_DEFER_MS = 2000;

export class FoldEngine {
	readonly #store: LedgerStore;
	readonly #folds: readonly Fold<unknown>[];
	/** A void block keeps its place in the order but changes no state. */
	readonly #isVoid: (id: BlockId) => boolean;
	readonly #checkpointEvery: number;
	/** Blocks until the next checkpoint: `checkpointEvery`, longer while checkpoints are expensive to write. */
	#checkpointGap: number;
	#states: unknown[];
	/**
	 * While folds refold (from a checkpoint, page by page, with store reads between), the
	 * states as they were before: what {@link state} answers until the refold is done, so a
	 * reader between two pages never sees a state that is neither before nor after (a write
	 * just appended missing from it).
	 */
	#shown: unknown[] | null = null;
	#position: OrderKey | null = null;
	#count = 0;
	#lastCheckpointCount = 0;
	/** True while refolding for blocks that landed before folded ones (see {@link advance}). */
	#late = false;
	/** The earliest late block the folds in {@link #stale} have yet to rewind for (see {@link advance}). */
	#staleFrom: OrderKey | null = null;
	/** The folds (by index) waiting to rewind for late blocks: not commutative, and not able to re-apply the batch's keys. */
	readonly #stale = new Set<number>();
	/** Keys re-applied in place of a rewind since the engine started (`Fold.keyed`), and their blocks. */
	readonly reapplied: ReapplyStats = { keys: 0, blocks: 0, shared: 0 };
	/** When the folds that are not commutative started waiting (performance.now()). */
	#staleSince = 0;
	#damaged = new Map<BlockId, Rejection>();
	/** Checkpoints this engine wrote under {@link COMPRESS_FROM_BYTES} ("clock/id"): never read again to be compressed. */
	readonly #small = new Set<string>();
	/** What a block with causal version vector `vv` has seen (the ledger's author index reads it). */
	readonly #causal: (vv: readonly number[]) => Causal;
	/** The folds' pages kept in the store (fold-pages.ts). */
	readonly #pages: EnginePages;

	constructor(
		store: LedgerStore,
		folds: readonly Fold<unknown>[],
		checkpointEvery: number,
		isVoid: (id: BlockId) => boolean,
		causal: (vv: readonly number[]) => Causal
	) {
		const names = new Set(folds.map((f) => f.name));
		if (names.size !== folds.length) throw new CodedError('FOLD_NAMES_NOT_UNIQUE', 'Ledger: fold names must be unique');
		this.#store = store;
		this.#folds = folds;
		this.#isVoid = isVoid;
		this.#causal = causal;
		this.#checkpointEvery = checkpointEvery;
		this.#checkpointGap = checkpointEvery;
		this.#states = folds.map((f) => f.init());
		this.#pages = new EnginePages(store, folds);
	}

	/** What a reader sees of `keys`' pages in fold `fold` (core/fold.ts `FoldPages`), each as of every block folded. */
	readPages<P>(fold: string, keys: readonly string[]): Promise<Map<string, P>> {
		return this.#pages.read<P>(fold, this.#states, keys);
	}

	/** Folded state by fold name. */
	state(): Record<string, unknown> {
		const states = this.#shown ?? this.#states;
		return Object.fromEntries(this.#folds.map((f, i) => [f.name, states[i]]));
	}

	/** Stored blocks that could not be decoded when folding (damaged on disk), with why. */
	damaged(): Rejection[] {
		return [...this.#damaged.values()];
	}

	/**
	 * Folds newly accepted blocks: forward when they come after what is folded. Otherwise
	 * commutative folds apply them in place, keyed folds re-apply the keys the batch touches
	 * (when no block of it changes their shared part), and the others start again from a checkpoint
	 * before them, at once, or with `defer` (more blocks are already waiting to be folded:
	 * a sync session hands a catch-up over batch after batch) once a later call does not
	 * defer or {@link MAX_DEFER_MS} have passed, so a run of late batches rewinds once, not
	 * once per batch. Until then those folds hold the state of the blocks before the late
	 * ones, as a node that had not yet received them would, and no checkpoint is written.
	 * `vvOf` gives each accepted block's causal version vector (as stored with it).
	 */
	async advance(accepted: readonly Block[], vvOf: (id: BlockId) => readonly number[] | undefined, defer = false): Promise<void> {
		const sorted = [...accepted].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
		const first = sorted[0];
		const late = first !== undefined && this.#position !== null && compareOrder(orderKey(first), this.#position) <= 0;
		const commutative = this.#folds.flatMap((f, i) => (f.commutative ? [i] : []));
		const keyed = this.#folds.flatMap((f, i) => (!f.commutative && f.keyed && !this.#stale.has(i) ? [i] : []));
		// Late blocks go to the commutative and keyed folds only (the others refold, reading their rows then).
		const contexts = await this.#contexts(sorted, late ? [...commutative, ...keyed] : undefined);
		const contextOf = (block: Block) => {
			const vv = vvOf(block.id);
			if (!vv) throw new CodedError('FOLD_NO_VV', `FoldEngine: no version vector for block ${block.id.slice(0, 12)}`);
			return contexts(block, vv);
		};
		if (first && !late) {
			// A void block (its author removed before it) changes no page: none is read for it.
			await this.#pages.load(
				this.#states,
				sorted.filter((b) => !this.#isVoid(b.id)).map((b) => [b, vvOf(b.id)!]),
				contextOf
			);
			for (const block of sorted) await this.#applyOne(block, contextOf(block));
		} else if (first) {
			// A block landed before blocks already folded. Checkpoints after it lack it (dropped below).
			// The late blocks count toward the next checkpoint as if they had come in order; none is written
			// for the blocks refolded, nor could be while commutative folds are ahead of the others.
			const live = sorted.filter((block) => !this.#isVoid(block.id));
			await this.#pages.load(
				this.#states,
				live.map((b) => [b, vvOf(b.id)!]),
				contextOf,
				commutative
			);
			for (const block of live) {
				const context = contextOf(block);
				for (const i of commutative) this.#apply(i, block, context);
			}
			const rewind = new Set<number>(this.#stale);
			// Folds the batch cannot change (`affectedBy`) keep their state; the others rewind, or re-apply keys.
			const types = new Set(sorted.flatMap((block) => (this.#isVoid(block.id) ? [] : block.txs.map((tx) => tx.t))));
			for (const [i, f] of this.#folds.entries())
				if (!f.commutative && !f.keyed && (!f.affectedBy || [...types].some((t) => f.affectedBy!(t)))) rewind.add(i);
			const keys = new Map<number, Set<string>>();
			for (const i of keyed) {
				const fold = this.#folds[i]!;
				const found = keysOfBatch(fold.keyed!, this.#states[i], sorted, contextOf, this.#isVoid);
				const dependents =
					found && (await dependentKeys(this.#store, fold.keyed!, this.#states[i], sorted, (b) => this.#contexts(b, [i]), this.#isVoid));
				if (!found || !dependents) rewind.add(i);
				else if (found.size + dependents.size > 0 || touchesShared(fold.keyed!, sorted, this.#isVoid))
					keys.set(i, new Set([...found, ...dependents]));
			}
			// When a rewind refolds the blocks after the checkpoint anyway, the keyed folds join it:
			// refolding them too costs their applies, re-reading each key's blocks costs more (measured: docs/benchmarks.md).
			for (const [i, set] of keys) {
				const [fold, contexts] = [this.#folds[i]!, (b: readonly Block[]) => this.#contexts(b, [i])];
				// A late change of the shared piece the fold rebuilds by itself: rebuilt first, its readers' keys re-applied too.
				const rebuilt =
					rewind.size > 0 ? null : await rebuildShared(this.#store, fold.keyed!, this.#states[i], sorted, contexts, this.#isVoid);
				if (rebuilt === null) {
					rewind.add(i);
					continue;
				}
				rebuilt?.commit();
				for (const key of rebuilt?.keys ?? []) set.add(key);
				// The pages of other kinds the re-applied blocks read are read first (a claim's coverage).
				const stats = await reapplyKeys(this.#store, fold, this.#states[i], set, contexts, this.#isVoid, (blocks, of) =>
					this.#pages.load(this.#states, blocks, of, [i])
				);
				this.reapplied.keys += stats.keys;
				this.reapplied.blocks += stats.blocks;
				if (rebuilt) this.reapplied.shared++;
			}
			const last = orderKey(sorted[sorted.length - 1]!);
			if (compareOrder(last, this.#position!) > 0) this.#position = last;
			this.#count += sorted.length;
			if (rewind.size > 0) {
				if (this.#staleFrom === null) this.#staleSince = performance.now();
				if (this.#staleFrom === null || compareOrder(orderKey(first), this.#staleFrom) < 0) this.#staleFrom = orderKey(first);
				for (const i of rewind) this.#stale.add(i);
			}
		}
		if (this.#staleFrom !== null && !(defer && performance.now() - this.#staleSince < MAX_DEFER_MS)) await this.#catchUpStale();
		// A rewind drops them itself (from the checkpoint it starts at); otherwise drop them now.
		// (Folds waiting to rewind keep theirs too: blocks in order are applied to them until they do.)
		else if (first && late) await this.#dropAfter([first.clock, '' as BlockId], []);
	}

	/** True while folds that are not commutative wait to rewind for late blocks ({@link advance} with `defer`). */
	get stale(): boolean {
		return this.#staleFrom !== null;
	}

	/** Rewinds the folds waiting for late blocks to before the earliest of them and folds them to the end. */
	async #catchUpStale(): Promise<void> {
		const lastBefore = this.#lastCheckpointCount;
		this.#late = true;
		try {
			await this.refoldFrom(this.#staleFrom, [...this.#stale]);
		} finally {
			this.#late = false;
		}
		this.#lastCheckpointCount = Math.max(this.#lastCheckpointCount, lastBefore);
	}

	/**
	 * Starts from the latest usable checkpoint at or before `position` and folds forward to
	 * the end: every fold, or only those at `only` (the others are already up to date).
	 */
	async refoldFrom(position: OrderKey | null, only?: readonly number[], onPage?: (folded: number) => void): Promise<void> {
		// The states being replaced are not changed (refolded ones start from fresh objects): shown until done.
		this.#shown = [...this.#states];
		try {
			await this.#pages.refolding(
				() => this.#refold(position, only, onPage),
				() => this.#refold(null, undefined, onPage)
			);
		} finally {
			this.#shown = null;
		}
	}

	async #refold(position: OrderKey | null, only?: readonly number[], onPage?: (folded: number) => void): Promise<void> {
		// The folds waiting for late blocks (advance with `defer`) are all among those refolded
		// (every fold, or those waiting): from before the earliest late block.
		if (this.#staleFrom !== null) {
			if (position !== null && compareOrder(this.#staleFrom, position) < 0) position = this.#staleFrom;
			this.#staleFrom = null;
			this.#stale.clear();
		}
		const subset = only ?? this.#folds.map((_, i) => i);
		let checkpoint = await this.#store.checkpointAtOrBefore(position);
		const decodeStarted = performance.now();
		let states: Map<number, unknown> | null = null;
		while (checkpoint)
			try {
				states = this.#decodeStates(await decompressCheckpoint(checkpoint.state), subset);
				break;
			} catch {
				// Damaged on disk: the checkpoint before it (this one is dropped below, as every one after the start).
				checkpoint = await this.#checkpointBefore(checkpoint.position);
			}
		// Writing a checkpoint costs about what decoding one does: a state that took seconds to
		// decode is not written again a configured gap later (during an open, that would be a
		// whole-state encode before the node is usable), but as far apart as a costly one is.
		if (states) this.#spaceCheckpoints(performance.now() - decodeStarted);
		if (checkpoint && !states) checkpoint = undefined; // written by other fold versions: start over
		// Checkpoints after the starting point no longer match the order; with no usable
		// checkpoint that is all of them (a position before every block). The folds not refolded keep what they read from them.
		await this.#dropAfter(checkpoint?.position ?? [-1, '' as BlockId], subset);
		for (const i of subset) this.#states[i] = states ? states.get(i) : this.#folds[i]!.init();
		this.#pages.restarted(subset, checkpoint?.position ?? null);
		this.#position = checkpoint?.position ?? null;
		this.#count = checkpoint?.count ?? 0;
		this.#lastCheckpointCount = this.#count;
		let cursor = this.#position;
		for (;;) {
			const page = await this.#store.ordered(cursor, FOLD_PAGE);
			const blocks: [Block, readonly number[]][] = [];
			for (const stored of page) {
				try {
					blocks.push([decodeBlock(stored.bytes), stored.vv]);
				} catch (error) {
					// Damaged on disk: keep the node usable, leave the block out of the state
					// and report it; "Verify all" names it too. Nothing is deleted.
					const code = error instanceof LedgerError ? error.code : 'MALFORMED';
					this.#damaged.set(stored.id, { code, detail: (error as Error).message, id: stored.id, author: stored.author });
				}
			}
			const contexts = await this.#contexts(
				blocks.map(([b]) => b),
				subset
			);
			const live = blocks.filter(([b]) => !this.#isVoid(b.id));
			await this.#pages.load(this.#states, live, contexts, subset);
			for (const [block, vv] of blocks) await this.#applyOne(block, contexts(block, vv), subset);
			onPage?.(this.#count);
			if (page.length < FOLD_PAGE) break;
			cursor = orderKey(page[page.length - 1]!);
		}
	}

	/** Writes a checkpoint of what is folded since the last one (on close). */
	async checkpointNow(): Promise<void> {
		if (this.#staleFrom !== null) await this.#catchUpStale();
		if (this.#count > this.#lastCheckpointCount && this.#position) await this.#putCheckpoint();
	}

	#apply(i: number, block: Block, context: FoldContext): void {
		this.#states[i] = this.#folds[i]!.apply(this.#states[i], block, context);
	}

	/** Each block's context for the folds at `subset` (all when omitted): block-contexts.ts. */
	#contexts(blocks: readonly Block[], subset?: readonly number[]): Promise<(block: Block, vv: readonly number[]) => FoldContext> {
		const folds = [...(subset ?? this.#folds.keys())].map((i) => this.#folds[i]!);
		return blockContexts(this.#store, folds, blocks, this.#isVoid, this.#causal);
	}

	async #applyOne(block: Block, context: FoldContext, subset?: readonly number[]): Promise<void> {
		if (!this.#isVoid(block.id)) {
			if (subset) for (const i of subset) this.#apply(i, block, context);
			else for (let i = 0; i < this.#folds.length; i++) this.#apply(i, block, context);
		}
		this.#position = orderKey(block);
		this.#count++;
		// While only some folds refold, the others are ahead (or, deferred, behind): no checkpoint could hold one position.
		if ((subset && subset.length < this.#folds.length) || this.#staleFrom !== null) return;
		const gap = this.#late ? MAX_GAP_FACTOR * this.#checkpointEvery : this.#checkpointGap;
		if (this.#count - this.#lastCheckpointCount >= gap) {
			const started = performance.now();
			const cost = await this.#putCheckpoint();
			this.#lastCheckpointCount = this.#count;
			this.#spaceCheckpoints(cost - started);
		}
	}

	/**
	 * Writes a checkpoint of the states at the current position, drops the older ones a
	 * rewind no longer needs (checkpoint-ladder.ts) and compresses the third newest
	 * (checkpoint-bytes.ts). Resolves to when that was done (performance.now()): what the
	 * next checkpoint's spacing goes by.
	 */
	async #putCheckpoint(): Promise<number> {
		// The pages changed since the last checkpoint are stored first, then the state without them.
		const state = await this.#pages.checkpoint(this.#states, this.#position!, async () => {
			const state = this.#encodeStates();
			await this.#store.putCheckpoint({ position: this.#position!, count: this.#count, state });
			return state;
		});
		const at = (p: OrderKey) => `${p[0]}/${p[1]}`;
		// A position may be written again after a rewind, with a state of another size.
		if (state.length < COMPRESS_FROM_BYTES) this.#small.add(at(this.#position!));
		else this.#small.delete(at(this.#position!));
		const positions = await this.#store.checkpointPositions();
		const drop = checkpointsToDrop(positions);
		await this.#pages.beforeDrop(
			drop,
			positions.filter((p) => !drop.some((d) => compareOrder(d, p) === 0))
		);
		if (drop.length > 0) await this.#store.dropCheckpoints(drop);
		for (const p of drop) this.#small.delete(at(p));
		// The two newest stay as written (a start, a day offline); the one before them is compressed now.
		await compressOlder(this.#store, positions, drop, (p) => this.#small.has(at(p)));
		return performance.now();
	}

	/** Drops the checkpoints after `after`, and their pages: the folds at `rewound` are refolded from before them, the others keep what they read from them. */
	async #dropAfter(after: OrderKey, rewound: readonly number[]): Promise<void> {
		await this.#pages.beforeDropAfter(this.#states, after, rewound);
		await this.#store.dropCheckpointsAfter(after);
		await this.#pages.droppedAfter(after);
	}

	/** The stored checkpoint just before `position`, if any. */
	async #checkpointBefore(position: OrderKey): Promise<Checkpoint | undefined> {
		const before = (await this.#store.checkpointPositions()).filter((p) => compareOrder(p, position) < 0);
		return before.length > 0 ? this.#store.checkpointAtOrBefore(before[before.length - 1]!) : undefined;
	}

	/**
	 * A large state (thousands of patients, claims) costs seconds to encode: its checkpoints
	 * are spaced out so writing them stays a small share of folding (at most 20 times the
	 * configured gap). `cost`: what the last checkpoint took to write, or to decode.
	 */
	#spaceCheckpoints(cost: number): void {
		this.#checkpointGap = Math.min(
			MAX_GAP_FACTOR * this.#checkpointEvery,
			Math.max(this.#checkpointEvery, Math.round((this.#checkpointEvery * cost) / CHEAP_CHECKPOINT_MS))
		);
	}

	#encodeStates(): Uint8Array {
		return encodeCheckpointStates(this.#folds, this.#states);
	}

	#decodeStates(bytes: Uint8Array, subset: readonly number[]): Map<number, unknown> | null {
		return decodeCheckpointStates(this.#folds, bytes, subset);
	}
}
