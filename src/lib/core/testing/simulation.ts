/**
 * Seeded network simulation: in-memory links whose frames are delayed, dropped,
 * duplicated and reordered by a deterministic PRNG, partitions that cut groups apart,
 * and virtual time. Same seed, same run.
 */
import type { FrameScheduler } from '../sync/link.js';

/** mulberry32: small, fast, good enough to drive fault injection. */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export interface Faults {
	drop: number;
	duplicate: number;
	/** Max extra delay (ms): frames overtake each other when delays differ. */
	jitterMs: number;
	baseDelayMs: number;
}

/** Discrete-event clock: events run in time order; `run` drains them with microtasks in between. */
export class VirtualNetwork {
	now = 0;
	#queue: { at: number; seq: number; fn: () => void }[] = [];
	#seq = 0;
	readonly random: () => number;
	constructor(
		seed: number,
		readonly faults: Faults
	) {
		this.random = prng(seed);
	}

	at(delayMs: number, fn: () => void): void {
		this.#queue.push({ at: this.now + delayMs, seq: this.#seq++, fn });
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
			this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
			const next = this.#queue[0];
			if (!next || next.at > until) break;
			this.#queue.shift();
			this.now = Math.max(this.now, next.at);
			next.fn();
			await settle();
		}
		this.now = Math.max(this.now, until);
	}
}
