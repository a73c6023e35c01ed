/**
 * The blocks the explorer holds: those of the visible clocks plus half a screen either
 * side, read again only when the view leaves the range loaded (or being read); a read
 * that would not cover the view is abandoned for a new one. Counts what it reads.
 */
import type { Ledger } from '$lib/core/index.js';
import type { ExplorerBlock } from './blocks.js';
import { PAGE, readWindow } from './window.js';

export class WindowLoader {
	/** Blocks held for drawing: those of the loaded clock range. */
	#blocks = $state.raw<ExplorerBlock[]>([]);
	get blocks() {
		return this.#blocks;
	}
	/** Clock range [from, to] the held blocks cover. */
	#loadedRange = $state.raw<[number, number]>([0, -1]);
	get loadedRange() {
		return this.#loadedRange;
	}
	/** The loaded range held more blocks than MAX_WINDOW_BLOCKS: the rest is not drawn. */
	#truncated = $state(false);
	get truncated() {
		return this.#truncated;
	}
	/** Blocks read from the store since opening, in total (shows nothing is read twice needlessly). */
	#fetched = $state(0);
	get fetched() {
		return this.#fetched;
	}
	/** Most blocks held at once since opening. */
	#peakHeld = $state(0);
	get peakHeld() {
		return this.#peakHeld;
	}
	#loading = $state(false);
	get loading() {
		return this.#loading;
	}

	#generation = 0;
	#reading: { from: number; to: number; generation: number; done: Promise<void> } | null = null;
	readonly #onError: (message: string | null) => void;

	constructor(onError: (message: string | null) => void) {
		this.#onError = onError;
	}

	/** Loads clocks `from`..`to` with `margin` either side unless they are loaded or being read. `lanes`: how many authors (sizes the pages). */
	ensure(ledger: Ledger, from: number, to: number, margin: number, lanes: number): Promise<void> {
		const [have0, have1] = this.#loadedRange;
		if (from >= have0 && to <= have1) return Promise.resolve();
		const reading = this.#reading;
		if (reading && reading.generation === this.#generation && from >= reading.from && to <= reading.to) return reading.done;
		const want0 = Math.max(0, from - margin);
		const want1 = to + margin;
		const generation = ++this.#generation;
		const done = this.#load(ledger, want0, want1, generation, lanes);
		this.#reading = { from: want0, to: want1, generation, done };
		return done;
	}

	/** New blocks may fall in the loaded range: the next {@link ensure} reads it again. */
	invalidate(): void {
		this.#loadedRange = [0, -1];
	}

	/** Drops the held blocks and abandons any read. */
	reset(): void {
		this.#generation++;
		this.#reading = null;
		this.#blocks = [];
		this.#loadedRange = [0, -1];
	}

	async #load(ledger: Ledger, want0: number, want1: number, generation: number, lanes: number): Promise<void> {
		this.#loading = true;
		// Pages sized to the window (at most one block per author per clock): a narrow window reads little.
		const pageSize = Math.min(PAGE, Math.max(50, (want1 - want0 + 1) * Math.max(1, lanes)));
		try {
			const window = await readWindow(
				ledger,
				want0,
				want1,
				pageSize,
				() => generation === this.#generation,
				(rows) => (this.#fetched += rows)
			);
			if (!window) return;
			this.#blocks = window.blocks;
			this.#truncated = window.truncated;
			this.#loadedRange = window.range;
			this.#peakHeld = Math.max(this.#peakHeld, window.blocks.length);
			this.#onError(null);
		} catch (error) {
			this.#onError(`The explorer could not read the ledger: ${(error as Error).message}`);
		} finally {
			if (generation === this.#generation) {
				this.#loading = false;
				this.#reading = null;
			}
		}
	}
}
