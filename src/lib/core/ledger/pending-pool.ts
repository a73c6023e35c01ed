/**
 * Blocks parked until their missing predecessors arrive, and the ids refused for good.
 * Bounded in count and bytes, and shared out by author so that one member's blocks that
 * never connect cannot push out the others'.
 */
import type { ReasonCode } from '../errors.js';
import type { AuthorId, Block, BlockId } from '../types.js';
import type { ValidationResult } from '../validate.js';
import type { Rejection } from './types.js';

/** Refused ids remembered (so they are not asked for again). */
const REFUSED_LIMIT = 10_000;

interface Parked {
	readonly block: Block;
	readonly from?: string;
	readonly waitingFor: Set<BlockId>;
}

/** A block to validate again, with the peer it came from. */
export interface Candidate {
	readonly block: Block;
	readonly from?: string;
}

/** A parked block released, with every id it was waiting for. */
export type Released = Candidate & { readonly waitingFor: ReadonlySet<BlockId> };

/** A parked block refused because what it builds on was refused. */
export type RefusedDependent = Extract<ValidationResult, { ok: false }> & { from?: string };

export class PendingPool {
	readonly #limit: number;
	readonly #bytesLimit: number;
	#bytes = 0;
	#parked = new Map<BlockId, Parked>();
	/** Parked block ids per author, oldest first: the pool is shared out by author. */
	#byAuthor = new Map<AuthorId, Set<BlockId>>();
	/** Missing id → parked blocks waiting for it. */
	#waiting = new Map<BlockId, Set<BlockId>>();
	/** Ids refused for good (bounded, newest kept): never asked for again; blocks waiting for them are refused too. */
	#refused = new Map<BlockId, Rejection>();

	constructor(limit: number, bytesLimit: number) {
		this.#limit = limit;
		this.#bytesLimit = bytesLimit;
	}

	get size(): number {
		return this.#parked.size;
	}

	has(id: BlockId): boolean {
		return this.#parked.has(id);
	}

	/** Why `id` was refused for good, if it was. */
	refusal(id: BlockId): Rejection | undefined {
		return this.#refused.get(id);
	}

	/** Ids that parked blocks are waiting for and this node does not hold. */
	missing(): BlockId[] {
		return [...this.#waiting.keys()].filter((id) => !this.#parked.has(id) && !this.#refused.has(id));
	}

	park(block: Block, missing: readonly BlockId[], from?: string): void {
		// Bounded: drop the oldest parked block of the author holding the most of the pool, so
		// one member's blocks that never connect cannot push out the others'; sync asks again.
		while (this.#parked.size > 0 && (this.#parked.size >= this.#limit || this.#bytes + block.bytes.length > this.#bytesLimit)) {
			let largest: Set<BlockId> | undefined;
			for (const ids of this.#byAuthor.values()) if (!largest || ids.size > largest.size) largest = ids;
			this.#unpark(largest!.values().next().value!);
		}
		const waitingFor = new Set(missing);
		this.#parked.set(block.id, { block, waitingFor, ...(from ? { from } : {}) });
		const mine = this.#byAuthor.get(block.author) ?? new Set();
		mine.add(block.id);
		this.#byAuthor.set(block.author, mine);
		this.#bytes += block.bytes.length;
		for (const id of waitingFor) {
			const set = this.#waiting.get(id) ?? new Set();
			set.add(block.id);
			this.#waiting.set(id, set);
		}
	}

	/**
	 * Parked blocks that were waiting for `id`, to be validated again now, each with every
	 * id it was waiting for. Those are not stored unless the batch releasing them stages
	 * them: a block is stored only by an accepted batch, which releases its waiters then.
	 */
	release(id: BlockId): Released[] {
		const waiters = this.#waiting.get(id);
		if (!waiters) return [];
		const released: Released[] = [];
		for (const waiter of [...waiters]) {
			const entry = this.#unpark(waiter);
			if (entry) released.push({ block: entry.block, waitingFor: entry.waitingFor, ...(entry.from ? { from: entry.from } : {}) });
		}
		return released;
	}

	/**
	 * Remembers that `id` is refused for good and refuses the parked blocks that build on
	 * it, transitively: they can never be accepted, so nothing is asked for on their behalf.
	 */
	refuseForGood(id: BlockId, code: ReasonCode, detail: string): RefusedDependent[] {
		const out: RefusedDependent[] = [];
		const queue: [BlockId, ReasonCode, string][] = [[id, code, detail]];
		while (queue.length > 0) {
			const [refusedId, refusedCode, refusedDetail] = queue.shift()!;
			if (this.#refused.size >= REFUSED_LIMIT) this.#refused.delete(this.#refused.keys().next().value!);
			this.#refused.set(refusedId, { code: refusedCode, detail: refusedDetail, id: refusedId });
			for (const waiter of [...(this.#waiting.get(refusedId) ?? [])]) {
				const entry = this.#unpark(waiter);
				if (!entry) continue;
				const why = `builds on refused block ${refusedId.slice(0, 12)} (${refusedCode})`;
				out.push({ ok: false, code: refusedCode, detail: why, block: entry.block, ...(entry.from ? { from: entry.from } : {}) });
				queue.push([waiter, refusedCode, why]);
			}
			this.#waiting.delete(refusedId);
		}
		return out;
	}

	#unpark(id: BlockId): Parked | undefined {
		const entry = this.#parked.get(id);
		if (!entry) return undefined;
		this.#parked.delete(id);
		const mine = this.#byAuthor.get(entry.block.author);
		mine?.delete(id);
		if (mine?.size === 0) this.#byAuthor.delete(entry.block.author);
		this.#bytes -= entry.block.bytes.length;
		for (const w of entry.waitingFor) {
			const set = this.#waiting.get(w);
			set?.delete(id);
			if (set?.size === 0) this.#waiting.delete(w);
		}
		return entry;
	}
}
