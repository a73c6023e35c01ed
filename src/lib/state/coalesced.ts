/**
 * A redraw asked for again and again (a sync delivers blocks by the thousand, each batch an
 * `accepted` event) run at most once per `ms`: the first ask starts the wait, the asks
 * within it are taken together, and `run` reads what is there when the wait ends.
 */
export class Coalesced {
	#timer: ReturnType<typeof setTimeout> | null = null;
	readonly #ms: number;
	readonly #run: () => void;

	constructor(ms: number, run: () => void) {
		this.#ms = ms;
		this.#run = run;
	}

	ask(): void {
		this.#timer ??= setTimeout(() => {
			this.#timer = null;
			this.#run();
		}, this.#ms);
	}

	/** Drops an ask still waiting (the screen let go of its ledger). */
	cancel(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}
}
