/**
 * A reproducible generator for synthetic patients, the demo cohort and tests. Never for
 * the noise of a real answer: from its seed anyone can replay every draw (answers use
 * `secureRng` in `laplace.ts`).
 */
import type { Rng } from '$lib/domain/research/laplace.js';

/** xoshiro128** seeded through splitmix32: fast, small, reproducible; not for keys or noise. */
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
