/**
 * The noise of research answers: the discrete Laplace (two-sided geometric) mechanism,
 * drawn from `crypto.getRandomValues`. A researcher who knows the mechanism must not be
 * able to reproduce or subtract the noise, so production never uses a seeded generator
 * (tests and the synthetic demo data inject one explicitly: `seeded-rng.ts`). Outputs are
 * integers, or integers times a power-of-two grain for sums: no output carries the
 * low-order bits of a floating-point computation on the true value (Mironov 2012).
 */
import { ResearchInputError } from './input-error.js';

/** Uniform doubles in [0, 1) with 53 random bits. */
export interface Rng {
	next(): number;
}

/** Every draw comes fresh from the platform's cryptographic generator. What a clinic node uses. */
export function secureRng(): Rng {
	const words = new Uint32Array(2);
	return {
		next() {
			crypto.getRandomValues(words);
			return ((words[0]! >>> 5) * 67108864 + (words[1]! >>> 6)) / 9007199254740992;
		}
	};
}

/** One draw from the geometric distribution on {0, 1, …}: P(k) = (1 - α) αᵏ. */
function geometric(rng: Rng, alpha: number): number {
	// Inversion: 1 - u is in (0, 1], so the logarithm is finite.
	return Math.floor(Math.log(1 - rng.next()) / Math.log(alpha));
}

/**
 * One draw from the two-sided geometric distribution (discrete Laplace):
 * P(z) = (1 - α) / (1 + α) · α^|z| for every integer z. With α = exp(-ε/Δ), adding it
 * to an integer query of sensitivity Δ is ε-differentially private.
 */
export function twoSidedGeometric(rng: Rng, alpha: number): number {
	if (!(alpha > 0 && alpha < 1)) throw new ResearchInputError('alpha: expected a number between 0 and 1');
	return geometric(rng, alpha) - geometric(rng, alpha);
}

/**
 * An ε-differentially private count by the geometric mechanism (α = exp(-ε/sensitivity);
 * one patient changes a count by at most one), never below zero (post-processing keeps ε).
 */
export function noisyCount(rng: Rng, count: number, epsilon: number, sensitivity = 1): number {
	if (!(epsilon > 0)) throw new ResearchInputError('epsilon: expected a positive number');
	if (!Number.isInteger(count)) throw new ResearchInputError('count: expected a whole number');
	return Math.max(0, count + twoSidedGeometric(rng, Math.exp(-epsilon / sensitivity)));
}

/** A sum's grid has 2^GRID_BITS steps up to its bound: far finer than the noise (bound/ε). */
const GRID_BITS = 10;

/** The power-of-two step a noisy sum of values within ±`bound` is reported on. */
export function sumGrain(bound: number): number {
	if (!(bound > 0 && Number.isFinite(bound))) throw new ResearchInputError('bound: expected a positive number');
	return 2 ** (Math.ceil(Math.log2(bound)) - GRID_BITS);
}

/**
 * An ε-differentially private sum of values each within ±`bound` (one patient changes
 * it by at most `bound`): the sum is rounded to {@link sumGrain}, and discrete Laplace
 * noise in grain units is added with α = exp(-ε/Δ), Δ = ⌈bound / grain⌉. The result is a
 * whole number of grains, computed exactly; its noise has the scale of Laplace(bound/ε).
 */
export function noisySum(rng: Rng, sum: number, bound: number, epsilon: number): number {
	if (!(epsilon > 0)) throw new ResearchInputError('epsilon: expected a positive number');
	const grain = sumGrain(bound);
	const sensitivity = Math.ceil(bound / grain);
	return (Math.round(sum / grain) + twoSidedGeometric(rng, Math.exp(-epsilon / sensitivity))) * grain;
}
