/**
 * Seeded network simulation: in-memory links whose frames are delayed, dropped,
 * duplicated and reordered by a deterministic PRNG, partitions that cut groups apart,
 * and virtual time. Same seed, same run.
 */
import type { FrameScheduler } from '../sync/link.js';
import { prng } from './prng.js';

export interface Faults {
	drop: number;
	duplicate: number;
	/** Max extra delay (ms): frames overtake each other when delays differ. */
	jitterMs: number;
	baseDelayMs: number;
}

/** Discrete-event clock: events run in time order; `run` drains them with microtasks in between. */
/** Discrete-event clock: events run in time order; `run` drains them with microtasks in between. */
export class VirtualNetwork {
	now = 0;
	/** Binary min-heap on (at, seq). */
	#heap: { at: number; seq: number; fn: () => void }[] = [];
	#seq = 0;
	readonly random: () => number;
	constructor(
		seed: number,
		readonly faults: Faults
	) {
		this.random = prng(seed);
	}

	static #before(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
		return a.at < b.at || (a.at === b.at && a.seq < b.seq);
	}

	at(delayMs: number, fn: () => void): void {
		const heap = this.#heap;
		heap.push({ at: this.now + delayMs, seq: this.#seq++, fn });
		let i = heap.length - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (!VirtualNetwork.#before(heap[i]!, heap[parent]!)) break;
			[heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
			i = parent;
		}
	}

	#pop() {
		const heap = this.#heap;
		const top = heap[0];
		const last = heap.pop();
		if (heap.length > 0 && last) {
			heap[0] = last;
			let i = 0;
			for (;;) {
				const l = 2 * i + 1;
				const r = l + 1;
				let m = i;
				if (l < heap.length && VirtualNetwork.#before(heap[l]!, heap[m]!)) m = l;
				if (r < heap.length && VirtualNetwork.#before(heap[r]!, heap[m]!)) m = r;
				if (m === i) break;
				[heap[i], heap[m]] = [heap[m]!, heap[i]!];
				i = m;
			}
		}
		return top;
	}

	/** A scheduler for one link; `cut()` true drops everything (a partition). */
	scheduler(cut: () => boolean): FrameScheduler {
		return {
			schedule: (deliver) => {
				if (cut() || this.random() < this.faults.drop) return;
				const copies = this.random() < this.faults.duplicate ? 2 : 1;
				for (let i = 0; i < copies; i++) this.at(this.faults.baseDelayMs + this.random() * this.faults.jitterMs, deliver);
			}
		};
	}

	/** Runs events until virtual time `until`, letting async work settle after each. */
	async run(until: number, settle: () => Promise<void>): Promise<void> {
		for (;;) {
			const next = this.#heap[0];
			if (!next || next.at > until) break;
			this.#pop();
			this.now = Math.max(this.now, next.at);
			next.fn();
			await settle();
		}
		this.now = Math.max(this.now, until);
	}
}
