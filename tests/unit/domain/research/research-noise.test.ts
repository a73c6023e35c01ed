/**
 * The noise of research answers: drawn from the platform's cryptographic generator (a
 * researcher cannot replay it), with the two-sided geometric distribution the privacy
 * budget assumes, and never from the seeded generator outside tests and synthetic data.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { noisyCount, noisySum, secureRng, sumGrain, twoSidedGeometric, type Rng } from '$lib/domain/research/laplace.js';
import { answerQuery } from '$lib/domain/research/query.js';
import * as seeded from '$lib/demo/seeded-rng.js';
import { syntheticPatients } from '$lib/demo/synthetic-patients.js';

vi.mock('$lib/demo/seeded-rng.js', { spy: true });

afterEach(() => vi.restoreAllMocks());

/** P(Z = z) of the two-sided geometric distribution with parameter α. */
const pmf = (alpha: number, z: number) => ((1 - alpha) / (1 + alpha)) * alpha ** Math.abs(z);
/** P(Z ≥ k) for k ≥ 1 (and, by symmetry, P(Z ≤ -k)). */
const tail = (alpha: number, k: number) => alpha ** k / (1 + alpha);

/** Pearson's χ² of `draws` against the two-sided geometric with `alpha`: bins -w…w and both tails. */
function chiSquare(draws: number[], alpha: number, w: number): number {
	const observed = new Map<number, number>();
	for (const z of draws) {
		const bin = Math.max(-w - 1, Math.min(w + 1, z));
		observed.set(bin, (observed.get(bin) ?? 0) + 1);
	}
	let chi = 0;
	for (let bin = -w - 1; bin <= w + 1; bin++) {
		const expected = draws.length * (Math.abs(bin) > w ? tail(alpha, w + 1) : pmf(alpha, bin));
		chi += ((observed.get(bin) ?? 0) - expected) ** 2 / expected;
	}
	return chi;
}

/** χ² critical value at p = 0.001 for 2w + 2 degrees of freedom, w = 6 (14 df). */
const CHI_14_P001 = 36.12;

describe('two-sided geometric (discrete Laplace) mechanism', () => {
	it.each([0.25, 0.5, 1, 2])(
		'20,000 draws at ε = %s follow the distribution of α = exp(-ε), and not that of an ε 15 percent off',
		(epsilon) => {
			const rng = seeded.seededRng(Math.round(epsilon * 1000));
			const alpha = Math.exp(-epsilon);
			const draws = Array.from({ length: 20_000 }, () => twoSidedGeometric(rng, alpha));
			expect(draws.every(Number.isInteger)).toBe(true);
			const w = 6;
			expect(chiSquare(draws, alpha, w)).toBeLessThan(CHI_14_P001);
			// The same test rejects the distribution of a wrong ε, so it would catch a mechanism built with one.
			for (const wrong of [epsilon * 0.85, epsilon * 1.15]) expect(chiSquare(draws, Math.exp(-wrong), w)).toBeGreaterThan(CHI_14_P001);
			// Mean 0 and variance 2α/(1-α)², within 5 standard errors.
			const n = draws.length;
			const variance = (2 * alpha) / (1 - alpha) ** 2;
			const mean = draws.reduce((a, b) => a + b, 0) / n;
			expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / n));
			const sampleVariance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
			expect(Math.abs(sampleVariance / variance - 1)).toBeLessThan(0.1);
		}
	);

	it('noisy counts are whole, never negative, centred on the truth; sensitivity Δ spends ε/Δ per unit', () => {
		const rng = seeded.seededRng(3);
		const counts = Array.from({ length: 10_000 }, () => noisyCount(rng, 500, 0.5));
		expect(counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
		const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
		expect(Math.abs(mean - 500)).toBeLessThan(0.25);
		const wide = Array.from({ length: 20_000 }, () => noisyCount(rng, 1000, 1, 2) - 1000);
		expect(chiSquare(wide, Math.exp(-0.5), 6)).toBeLessThan(CHI_14_P001);
		expect(() => noisyCount(rng, 1, 0)).toThrow(/epsilon/);
		expect(() => noisyCount(rng, 1.5, 1)).toThrow(/whole/);
		expect(() => twoSidedGeometric(rng, 1)).toThrow(/alpha/);
	});

	it('noisy sums are whole multiples of a power-of-two grain, with the spread of Laplace(bound/ε)', () => {
		const rng = seeded.seededRng(9);
		for (const [bound, epsilon, sum] of [
			[250, 0.5, 12_345.678],
			[15, 1, -321.3],
			[1, 2, 0.1]
		] as const) {
			const grain = sumGrain(bound);
			expect(Math.log2(grain)).toBe(Math.round(Math.log2(grain)));
			expect(bound / grain).toBeLessThanOrEqual(1024);
			const draws = Array.from({ length: 20_000 }, () => noisySum(rng, sum, bound, epsilon));
			// On the grid exactly: nothing of the float computation on the true sum shows.
			expect(draws.every((d) => Number.isInteger(d / grain))).toBe(true);
			const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
			const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1);
			const laplaceVariance = 2 * (bound / epsilon) ** 2;
			expect(Math.abs(mean - sum)).toBeLessThan(5 * Math.sqrt(laplaceVariance / draws.length));
			expect(Math.abs(variance / laplaceVariance - 1)).toBeLessThan(0.1);
		}
		expect(() => noisySum(rng, 1, 0, 1)).toThrow(/bound/);
	});
});

describe('the noise source', () => {
	it('draws every number from crypto.getRandomValues, with 53 random bits', () => {
		const spy = vi.spyOn(crypto, 'getRandomValues');
		const rng = secureRng();
		const values = Array.from({ length: 1000 }, () => rng.next());
		expect(spy).toHaveBeenCalledTimes(1000);
		expect(values.every((v) => v >= 0 && v < 1 && Number.isInteger(v * 2 ** 53))).toBe(true);
		// Bits below the 32nd are random too (a 32-bit source would leave them constant).
		expect(new Set(values.map((v) => (v * 2 ** 53) % 2 ** 21)).size).toBeGreaterThan(990);
	});

	const NOW = Date.UTC(2026, 0, 1);
	const patients = syntheticPatients(11, 300, 10);
	const everyone = () => true;

	it('gives different noise to the same question over the same patients, and never uses the seeded generator', () => {
		// The spy sees the seeded generator where it is used (synthetic patients above)…
		expect(seeded.seededRng).toHaveBeenCalled();
		vi.mocked(seeded.seededRng).mockClear();
		const getRandomValues = vi.spyOn(crypto, 'getRandomValues');
		const counts = Array.from({ length: 20 }, () =>
			answerQuery(patients, everyone, { cohort: {}, measure: { kind: 'count' } }, { now: NOW, epsilon: 1 })
		);
		expect(new Set(counts.map((a) => JSON.stringify(a))).size).toBeGreaterThan(1);
		const tables = Array.from({ length: 5 }, () =>
			answerQuery(patients, everyone, { cohort: {}, measure: { kind: 'histogram', dimension: { by: 'age' } } }, { now: NOW, epsilon: 1 })
		);
		expect(new Set(tables.map((a) => JSON.stringify(a))).size).toBeGreaterThan(1);
		const means = Array.from({ length: 5 }, () =>
			answerQuery(
				patients,
				everyone,
				{ cohort: {}, measure: { kind: 'mean', code: 'LOINC|8480-6', lo: 50, hi: 250 } },
				{ now: NOW, epsilon: 1 }
			)
		);
		expect(new Set(means.map((a) => JSON.stringify(a))).size).toBeGreaterThan(1);
		expect(getRandomValues).toHaveBeenCalled();
		// …and never while answering.
		expect(seeded.seededRng).not.toHaveBeenCalled();
	});

	it('an injected generator is the only source when a test passes one', () => {
		const draws: number[] = [];
		const source = seeded.seededRng(1);
		const rng: Rng = { next: () => draws[draws.push(source.next()) - 1]! };
		const getRandomValues = vi.spyOn(crypto, 'getRandomValues');
		answerQuery(patients, everyone, { cohort: {}, measure: { kind: 'count' } }, { now: NOW, epsilon: 1, rng });
		expect(draws.length).toBeGreaterThan(0);
		expect(getRandomValues).not.toHaveBeenCalled();
	});

	it('only synthetic data imports the seeded generator: no module on the answering path does', () => {
		const files: string[] = [];
		const walk = (dir: string) => {
			for (const name of readdirSync(dir)) {
				const path = join(dir, name);
				if (statSync(path).isDirectory()) walk(path);
				else if (/\.(ts|svelte)$/.test(name)) files.push(path);
			}
		};
		walk('src');
		walk('peer');
		const importers = files.filter((f) => /from ['"][^'"]*seeded-rng(\.js)?['"]/.test(readFileSync(f, 'utf8'))).sort();
		expect(importers).toEqual(['src/lib/demo/research-cohort.ts', 'src/lib/demo/synthetic-patients.ts']);
	});
});
