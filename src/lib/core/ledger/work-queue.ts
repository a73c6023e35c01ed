/**
 * The ledger's mutations (append, receive, close) run one call at a time, in call order,
 * so the view a batch is validated against is exactly what it is appended on top of. The
 * queue knows how many calls wait behind the running one: a receive with more waiting
 * behind it may leave its late blocks' rewind to them (FoldEngine.advance).
 */
export class WorkQueue {
	#tail: Promise<unknown> = Promise.resolve();
	#waiting = 0;

	/** Calls waiting for the one running. */
	get waiting(): number {
		return this.#waiting;
	}

	/** Runs `work` after every call before it has settled; a failure does not stop the queue. */
	run<T>(work: () => Promise<T>): Promise<T> {
		this.#waiting++;
		const start = () => {
			this.#waiting--;
			return work();
		};
		const run = this.#tail.then(start, start);
		this.#tail = run.catch(() => undefined);
		return run;
	}
}
