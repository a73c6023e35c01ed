/**
 * A token bucket: `burst` tokens at most, refilled at `perMs` tokens per millisecond of
 * the injected clock. How a session bounds what a peer may ask per unit of time.
 */
export class TokenBucket {
	#tokens: number;
	#at: number;
	constructor(
		private readonly burst: number,
		private readonly perMs: number,
		now: number
	) {
		this.#tokens = burst;
		this.#at = now;
	}

	/** Takes `n` tokens if there are that many now; false (nothing taken) otherwise. */
	take(now: number, n = 1): boolean {
		this.#tokens = Math.min(this.burst, this.#tokens + Math.max(0, now - this.#at) * this.perMs);
		this.#at = now;
		if (this.#tokens < n) return false;
		this.#tokens -= n;
		return true;
	}
}
