/** Order statistics for benchmark samples: nearest-rank percentiles, medians. */

/** The `p`-th percentile (0–100) of `samples` by nearest rank; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
	if (samples.length === 0) return Number.NaN;
	const sorted = [...samples].sort((a, b) => a - b);
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Rounds to `digits` significant digits, so reports do not pretend to more precision than they have. */
export function round(value: number, digits = 4): number {
	if (!Number.isFinite(value) || value === 0) return value;
	return Number(value.toPrecision(digits));
}

/** Per-second rate of `count` operations that took `ms`. */
export const perSecond = (count: number, ms: number): number => (count / ms) * 1000;
