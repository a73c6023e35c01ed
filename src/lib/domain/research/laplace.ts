/**
 * The Laplace mechanism with a seedable generator. In the app a clinic node seeds it
 * from `crypto.getRandomValues` (the researcher must not be able to reproduce the
 * noise); tests seed it with a fixed value so the noise is reproducible.
 */

/** Uniform doubles in [0, 1). */
export interface Rng {
	next(): number;
}

/** xoshiro128** seeded through splitmix32: fast, small, reproducible; not for keys. */
export function seededRng(seed: number): Rng {
	let x = seed >>> 0;
	const split = () => {
		x = (x + 0x9e3779b9) >>> 0;
		let z = x;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
		return (z ^ (z >>> 16)) >>> 0;
	};
	const s = [split(), split(), split(), split()];
	const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;
	const next32 = () => {
		const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
		const t = (s[1]! << 9) >>> 0;
		s[2]! ^= s[0]!;
		s[3]! ^= s[1]!;
		s[1]! ^= s[2]!;
		s[0]! ^= s[3]!;
		s[2]! ^= t;
		s[3] = rotl(s[3]!, 11);
		return result;
	};
	return { next: () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992 };
}

/** A generator seeded from the platform's cryptographic randomness (what a clinic node uses). */
export function secureRng(): Rng {
	return seededRng(crypto.getRandomValues(new Uint32Array(1))[0]!);
}

/** One draw from Laplace(0, scale). */
export function laplace(rng: Rng, scale: number): number {
	if (!(scale > 0)) throw new Error('scale: expected a positive number');
	let u = rng.next() - 0.5;
	while (u === -0.5) u = rng.next() - 0.5;
	return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/**
 * An ε-differentially private count (sensitivity 1: one patient changes it by at most
 * one), rounded to a whole number and never below zero (post-processing keeps ε).
 */
export function noisyCount(rng: Rng, count: number, epsilon: number): number {
	if (!(epsilon > 0)) throw new Error('epsilon: expected a positive number');
	return Math.max(0, Math.round(count + laplace(rng, 1 / epsilon)));
}
