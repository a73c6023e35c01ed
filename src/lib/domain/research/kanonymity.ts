/**
 * k-anonymity for row-level extracts: every combination of quasi-identifiers (age band,
 * sex, ZIP3, year of the index event) that appears must appear at least k times. Reached
 * by generalizing whole columns along fixed hierarchies (the same level for every row,
 * so the extract stays analysable) and suppressing the rows still in classes under k.
 * The lowest total generalization whose suppression stays within the allowed share wins.
 */
import { ResearchInputError } from './input-error.js';

/** The quasi-identifiers of one row, at full detail (as Safe Harbor leaves them). */
export interface QuasiIdentifiers {
	/** Age in whole years (90 stands for "90 or over"), or null when unknown. */
	age: number | null;
	sex: string;
	/** Safe Harbor ZIP3 ('000' for restricted areas), or null. */
	zip3: string | null;
	/** Year of the index event, or null. */
	year: number | null;
}

export interface Levels {
	age: number;
	sex: number;
	zip3: number;
	year: number;
}

/** How many levels each hierarchy has (the last one is '*'). */
export const LEVELS: Levels = { age: 4, sex: 2, zip3: 3, year: 4 };

const band = (age: number, width: number, top: number) => {
	if (age >= top) return `${top}+`;
	const low = Math.floor(age / width) * width;
	return `${low}-${low + width - 1}`;
};

/** The generalized value of each quasi-identifier at `levels`. */
export function generalize(q: QuasiIdentifiers, levels: Levels): { age: string; sex: string; zip3: string; year: string } {
	const age = q.age === null ? '*' : [band(q.age, 5, 90), band(q.age, 10, 90), band(q.age, 20, 80), '*'][levels.age]!;
	const sex = [q.sex, '*'][levels.sex]!;
	const zip3 = q.zip3 === null ? '*' : [q.zip3, `${q.zip3.slice(0, 2)}*`, '*'][levels.zip3]!;
	const year =
		q.year === null
			? '*'
			: [String(q.year), `${q.year - (q.year % 5)}-${q.year - (q.year % 5) + 4}`, `${q.year - (q.year % 10)}s`, '*'][levels.year]!;
	return { age, sex, zip3, year };
}

export interface KAnonymityReport {
	k: number;
	levels: Levels;
	/** Rows before, rows kept, rows dropped to reach k. */
	rows: number;
	kept: number;
	suppressed: number;
	/** Size of the smallest equivalence class kept (0 when nothing is kept). */
	smallestClass: number;
}

export interface KAnonymous<R> {
	rows: (R & { qi: ReturnType<typeof generalize> })[];
	report: KAnonymityReport;
}

const classKey = (g: ReturnType<typeof generalize>) => `${g.age}|${g.sex}|${g.zip3}|${g.year}`;

/**
 * Generalizes and suppresses `rows` until every quasi-identifier class holds at least
 * `k` rows, dropping at most `maxSuppressed` (a share of the rows) where generalization
 * alone would cost more.
 */
export function kAnonymize<R>(
	rows: readonly R[],
	qiOf: (row: R) => QuasiIdentifiers,
	options: { k?: number; maxSuppressed?: number } = {}
): KAnonymous<R> {
	const k = options.k ?? 5;
	const maxSuppressed = options.maxSuppressed ?? 0.05;
	if (!Number.isInteger(k) || k < 2) throw new ResearchInputError('k: expected a whole number of at least 2');
	const qis = rows.map(qiOf);
	let best: { levels: Levels; cost: number; suppressed: number } | null = null;
	for (let age = 0; age < LEVELS.age; age++) {
		for (let sex = 0; sex < LEVELS.sex; sex++) {
			for (let zip3 = 0; zip3 < LEVELS.zip3; zip3++) {
				for (let year = 0; year < LEVELS.year; year++) {
					const levels = { age, sex, zip3, year };
					const cost = age / (LEVELS.age - 1) + sex + zip3 / (LEVELS.zip3 - 1) + year / (LEVELS.year - 1);
					if (best && cost > best.cost) continue;
					const sizes = new Map<string, number>();
					for (const q of qis) {
						const key = classKey(generalize(q, levels));
						sizes.set(key, (sizes.get(key) ?? 0) + 1);
					}
					let suppressed = 0;
					for (const size of sizes.values()) if (size < k) suppressed += size;
					const allowed = suppressed <= maxSuppressed * rows.length || rows.length < k;
					if (!allowed) continue;
					if (!best || cost < best.cost || (cost === best.cost && suppressed < best.suppressed)) best = { levels, cost, suppressed };
				}
			}
		}
	}
	// The all-'*' level always qualifies (one class of all rows, or fewer rows than k), so best is set.
	const levels = best!.levels;
	const generalized = qis.map((q) => generalize(q, levels));
	const sizes = new Map<string, number>();
	for (const g of generalized) sizes.set(classKey(g), (sizes.get(classKey(g)) ?? 0) + 1);
	const kept = rows.flatMap((row, i) => ((sizes.get(classKey(generalized[i]!)) ?? 0) >= k ? [{ ...row, qi: generalized[i]! }] : []));
	const keptSizes = [...sizes.values()].filter((s) => s >= k);
	return {
		rows: kept,
		report: {
			k,
			levels,
			rows: rows.length,
			kept: kept.length,
			suppressed: rows.length - kept.length,
			smallestClass: keptSizes.length ? Math.min(...keptSizes) : 0
		}
	};
}

/** True when every class of quasi-identifiers among `rows` holds at least `k` rows. */
export function isKAnonymous(rows: readonly { qi: ReturnType<typeof generalize> }[], k: number): boolean {
	const sizes = new Map<string, number>();
	for (const row of rows) sizes.set(classKey(row.qi), (sizes.get(classKey(row.qi)) ?? 0) + 1);
	return [...sizes.values()].every((s) => s >= k);
}
