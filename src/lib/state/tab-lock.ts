/**
 * One tab at a time runs the node (a Web Lock): two ledgers appending to one store as the
 * same author would race for the same sequence numbers. The lock is held until
 * {@link TabLock.release} or the tab goes away.
 */
const NODE_LOCK = 'clinic-ledger-node';

export class TabLock {
	#release: (() => void) | null = null;

	/**
	 * Waits for the lock; false when `signal` aborted first. `onWait` is called when another
	 * tab holds it (with a message to show) and with null once this tab has it.
	 */
	async acquire(signal: AbortSignal, onWait: (notice: string | null) => void): Promise<boolean> {
		if (typeof navigator === 'undefined' || !navigator.locks) return true;
		const held = new Promise<void>((release) => (this.#release = release));
		const granted = (options: LockOptions) =>
			new Promise<boolean>((resolve, reject) => {
				navigator.locks
					.request(NODE_LOCK, options, (lock) => {
						resolve(lock !== null);
						return lock ? held : undefined;
					})
					.catch(reject);
			});
		if (await granted({ ifAvailable: true })) return true;
		onWait('This ledger is open in another tab of this browser. This tab takes over as soon as that one is closed.');
		try {
			await granted({ signal });
		} catch (error) {
			if (signal.aborted) return false;
			throw error;
		}
		onWait(null);
		return true;
	}

	/** Lets another tab take over. */
	release(): void {
		this.#release?.();
		this.#release = null;
	}
}
