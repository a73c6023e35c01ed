import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_CELL, suppressTable, withMargins, type Table } from '$lib/domain/research/suppression.js';
import { seededRng } from '$lib/demo/seeded-rng.js';
import { answerQuery, combine, cohortOf, type Answer } from '$lib/domain/research/query.js';
import { factsOf, ageAt } from '$lib/domain/research/facts.js';
import { syntheticPatients } from '$lib/demo/synthetic-patients.js';
import { parseQuerySpec } from '$lib/domain/research/spec.js';
import { cellText, combinedCsv } from '$lib/domain/research/export.js';

/** Rank of a real matrix (Gaussian elimination with partial pivoting). */
function rank(rows: number[][]): number {
	const m = rows.map((r) => [...r]);
	let rank = 0;
	const cols = m[0]?.length ?? 0;
	for (let c = 0; c < cols && rank < m.length; c++) {
		let pivot = rank;
		for (let r = rank + 1; r < m.length; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
		if (Math.abs(m[pivot]![c]!) < 1e-9) continue;
		[m[rank], m[pivot]] = [m[pivot]!, m[rank]!];
		for (let r = 0; r < m.length; r++) {
			if (r === rank) continue;
			const f = m[r]![c]! / m[rank]![c]!;
			for (let k = c; k < cols; k++) m[r]![k]! -= f * m[rank]![k]!;
		}
		rank++;
	}
	return rank;
}

/**
 * Independent check: which hidden entries of a published table (with margins) an
 * attacker can solve for exactly from the additivity equations. x_e is determined iff
 * the unit vector e is in the row space of the equations restricted to hidden entries.
 */
function recoverable(hidden: boolean[][]): [number, number][] {
	const R = hidden.length - 1;
	const C = hidden[0]!.length - 1;
	const vars: [number, number][] = [];
	hidden.forEach((line, r) => line.forEach((h, c) => h && vars.push([r, c])));
	const index = new Map(vars.map(([r, c], i) => [`${r},${c}`, i]));
	const equations: number[][] = [];
	for (let r = 0; r <= R; r++) {
		const eq = new Array<number>(vars.length).fill(0);
		for (let c = 0; c <= C; c++) if (index.has(`${r},${c}`)) eq[index.get(`${r},${c}`)!] = c < C ? 1 : -1;
		equations.push(eq);
	}
	for (let c = 0; c <= C; c++) {
		const eq = new Array<number>(vars.length).fill(0);
		for (let r = 0; r <= R; r++) if (index.has(`${r},${c}`)) eq[index.get(`${r},${c}`)!] = r < R ? 1 : -1;
		equations.push(eq);
	}
	const base = rank(equations);
	return vars.filter((_, i) => {
		const unit = new Array<number>(vars.length).fill(0);
		unit[i] = 1;
		return rank([...equations, unit]) === base;
	});
}

describe('small-cell and complementary suppression', () => {
	const tables = fc.integer({ min: 1, max: 4 }).chain((R) =>
		fc.integer({ min: 1, max: 5 }).chain((C) =>
			fc.array(fc.array(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 200 })), { minLength: C, maxLength: C }), {
				minLength: R,
				maxLength: R
			})
		)
	);

	it('every cell and margin from 1 to 10 is hidden, and no hidden entry can be solved from the published ones', () => {
		fc.assert(
			fc.property(tables, (cells) => {
				const table: Table = { rows: cells.map((_, i) => `r${i}`), cols: cells[0]!.map((_, i) => `c${i}`), cells };
				const grid = withMargins(table);
				const published = suppressTable(table);
				const R = cells.length;
				const C = cells[0]!.length;
				const shown = [...published.cells.map((line, r) => [...line, published.rowTotals[r]!]), [...published.colTotals, published.total]];
				const hidden = shown.map((line) => line.map((v) => v === null));
				for (let r = 0; r <= R; r++) {
					for (let c = 0; c <= C; c++) {
						const v = grid[r]![c]!;
						if (v > 0 && v < MIN_CELL) expect(hidden[r]![c]).toBe(true);
						if (!hidden[r]![c]) expect(shown[r]![c]).toBe(v);
					}
				}
				expect(recoverable(hidden)).toEqual([]);
				expect(published.primary + published.complementary).toBe(hidden.flat().filter(Boolean).length);
			}),
			{ numRuns: 300 }
		);
	});

	it('a lone small cell gets complements in its row and column, so totals do not give it away', () => {
		const t = suppressTable({
			rows: ['a', 'b'],
			cols: ['x', 'y', 'z'],
			cells: [
				[3, 40, 50],
				[60, 70, 80]
			]
		});
		expect(t.cells[0]![0]).toBeNull();
		expect(t.primary).toBe(1);
		expect(t.complementary).toBeGreaterThanOrEqual(3); // a 2×2 rectangle at least
		// Row a: 3 hidden, and at least one more in the row or its total.
		expect([t.cells[0]![1], t.cells[0]![2], t.rowTotals[0]].filter((v) => v === null).length).toBeGreaterThanOrEqual(1);
		expect([t.cells[1]![0], t.colTotals[0]].filter((v) => v === null).length).toBeGreaterThanOrEqual(1);
		// The checker itself: a cell hidden alone is solvable; a hidden 2×2 rectangle is not.
		const mask = (cells: [number, number][]) =>
			Array.from({ length: 3 }, (_, r) => Array.from({ length: 4 }, (_, c) => cells.some(([a, b]) => a === r && b === c)));
		expect(recoverable(mask([[0, 0]]))).toEqual([[0, 0]]);
		expect(
			recoverable(
				mask([
					[0, 0],
					[0, 1],
					[1, 0],
					[1, 1]
				])
			)
		).toEqual([]);
		// Without any small cell nothing is hidden.
		expect(suppressTable({ rows: ['a'], cols: ['x', 'y'], cells: [[0, 40]] })).toMatchObject({
			primary: 0,
			complementary: 0,
			cells: [[0, 40]],
			total: 40
		});
	});
});

describe('seeded generator (synthetic data and tests only)', () => {
	it('repeats its draws for a seed and differs between seeds', () => {
		const a = seededRng(7);
		const b = seededRng(7);
		const c = seededRng(8);
		const first = Array.from({ length: 5 }, () => a.next());
		expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
		expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(first);
	});
});

describe('aggregate queries', () => {
	const NOW = Date.UTC(2026, 0, 1);
	const patients = syntheticPatients(11, 600, 30);
	const everyone = () => true;

	it('the cohort builder matches a direct count over the facts', () => {
		const cohort = {
			conditions: ['SNOMED|44054006'],
			ageMin: 40,
			ageMax: 79,
			sex: ['female' as const],
			observations: [{ code: 'LOINC|4548-4', min: 6.5 }],
			from: '2018-01-01',
			to: '2023-12-31'
		};
		const expected = patients.filter((p) => {
			const f = factsOf(p);
			const inRange = (t: number | null) => t !== null && t >= Date.UTC(2018, 0, 1) && t < Date.UTC(2024, 0, 1);
			const age = f.birth === null ? -1 : ageAt(f.birth, NOW);
			return (
				f.sex === 'female' &&
				age >= 40 &&
				age <= 79 &&
				f.conditions.some((c) => c.code === 'SNOMED|44054006' && inRange(c.time)) &&
				f.observations.some((o) => o.code === 'LOINC|4548-4' && o.value >= 6.5 && inRange(o.time))
			);
		}).length;
		expect(expected).toBeGreaterThan(0);
		expect(cohortOf(patients, everyone, cohort, NOW)).toHaveLength(expected);
		const answer = answerQuery(patients, everyone, { cohort, measure: { kind: 'count' } }, { now: NOW });
		expect(answer).toEqual({ kind: 'count', count: expected >= MIN_CELL ? expected : null, noisy: false });
	});

	it('histograms and cross-tabs add up to the cohort; small cells are hidden; a mean is the mean', () => {
		const counted = cohortOf(patients, everyone, {}, NOW).length;
		const hist = answerQuery(patients, everyone, { cohort: {}, measure: { kind: 'histogram', dimension: { by: 'age' } } }, { now: NOW });
		expect(hist.kind === 'table' && hist.table.total).toBe(counted);
		const cross = answerQuery(
			patients,
			everyone,
			{ cohort: {}, measure: { kind: 'crosstab', rows: { by: 'sex' }, cols: { by: 'condition', code: '195967001' } } },
			{ now: NOW }
		) as Extract<Answer, { kind: 'table' }>;
		expect(cross.table.total).toBe(counted);
		for (const line of cross.table.cells) for (const v of line) if (v !== null) expect(v === 0 || v >= MIN_CELL).toBe(true);
		const values = patients
			.map(
				(p) =>
					factsOf(p)
						.observations.filter((o) => o.code === 'LOINC|8480-6')
						.sort((a, b) => (a.time ?? 0) - (b.time ?? 0))
						.at(-1)?.value
			)
			.filter((v): v is number => v !== undefined);
		const mean = answerQuery(
			patients,
			everyone,
			{ cohort: {}, measure: { kind: 'mean', code: 'LOINC|8480-6', lo: 50, hi: 250 } },
			{ now: NOW }
		);
		expect(mean.kind === 'mean' && mean.n).toBe(values.length);
		expect(mean.kind === 'mean' && mean.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
	});

	it('with ε, answers are noisy but close; an injected seeded generator (tests only) repeats them', () => {
		const spec = { cohort: {}, measure: { kind: 'histogram' as const, dimension: { by: 'sex' as const } } };
		const exact = answerQuery(patients, everyone, spec, { now: NOW }) as Extract<Answer, { kind: 'table' }>;
		const noisy = answerQuery(patients, everyone, spec, { now: NOW, epsilon: 1, rng: seededRng(1) }) as Extract<Answer, { kind: 'table' }>;
		const again = answerQuery(patients, everyone, spec, { now: NOW, epsilon: 1, rng: seededRng(1) });
		const other = answerQuery(patients, everyone, spec, { now: NOW, epsilon: 1, rng: seededRng(2) });
		expect(noisy.noisy).toBe(true);
		expect(again).toEqual(noisy);
		expect(other).not.toEqual(noisy);
		expect(Math.abs(noisy.table.total! - exact.table.total!)).toBeLessThan(30);
		expect(() => answerQuery(patients, everyone, spec, { now: NOW, epsilon: 0 })).toThrow(/positive ε/);
	});

	it('patients the consent check leaves out are never counted', () => {
		// Half the patients consent; every other one has a marker condition code only the non-consented carry.
		const consented = new Set(patients.filter((_, i) => i % 2 === 0).map((p) => p.patient));
		const marked = patients.map((p, i) =>
			i % 2 === 0
				? p
				: {
						...p,
						resources: [
							...p.resources,
							{
								resourceType: 'Condition' as const,
								subject: { reference: `Patient/${p.patient}` },
								code: { coding: [{ system: 'http://snomed.info/sct', code: '999999001' }] }
							}
						]
					}
		);
		const is = (p: string) => consented.has(p);
		expect(answerQuery(marked, is, { cohort: { conditions: ['999999001'] }, measure: { kind: 'count' } }, { now: NOW })).toMatchObject({
			count: 0
		});
		expect(
			answerQuery(marked, everyone, { cohort: { conditions: ['999999001'] }, measure: { kind: 'count' } }, { now: NOW })
		).toMatchObject({ count: 300 });
		expect(answerQuery(marked, is, { cohort: {}, measure: { kind: 'count' } }, { now: NOW })).toMatchObject({
			count: cohortOf(
				patients.filter((p) => is(p.patient)),
				everyone,
				{},
				NOW
			).length
		});
	});

	it('combining clinics sums what they show and marks what one of them hid', () => {
		const a: Answer = {
			kind: 'table',
			noisy: false,
			table: {
				rows: ['all'],
				cols: ['x', 'y'],
				cells: [[null, 30]],
				rowTotals: [null],
				colTotals: [null, 30],
				total: null,
				primary: 1,
				complementary: 2
			}
		};
		const b: Answer = {
			kind: 'table',
			noisy: false,
			table: {
				rows: ['all'],
				cols: ['x', 'y'],
				cells: [[20, 30]],
				rowTotals: [50],
				colTotals: [20, 30],
				total: 50,
				primary: 0,
				complementary: 0
			}
		};
		const c = combine([a, b]);
		expect(c).toMatchObject({
			kind: 'table',
			cells: [
				[
					{ value: 20, hiddenAt: 1 },
					{ value: 60, hiddenAt: 0 }
				]
			],
			total: { value: 50, hiddenAt: 1 },
			clinics: 2
		});
		expect(
			combine([
				{ kind: 'count', count: 12, noisy: false },
				{ kind: 'count', count: null, noisy: false }
			])
		).toMatchObject({ count: { value: 12, hiddenAt: 1 } });
		expect(() => combine([a, { kind: 'count', count: 1, noisy: false }])).toThrow(/different measures/);
		// Written out: a part hidden somewhere is a lower bound; hidden everywhere says so, never a number.
		const csv = combinedCsv(c!);
		expect(csv).toContain('≥20*');
		expect(csv.split('\n')[1]).toBe('all,≥20*,60,≥50*');
		expect(cellText({ value: 0, hiddenAt: 2 })).toBe('hidden');
	});

	it('query specs are checked field by field', () => {
		expect(parseQuerySpec('{"cohort":{"ageMin":40},"measure":{"kind":"count"}}')).toEqual({
			cohort: { ageMin: 40 },
			measure: { kind: 'count' }
		});
		expect(() => parseQuerySpec('{"measure":{"kind":"sum"}}')).toThrow(/measure.kind/);
		expect(() => parseQuerySpec('{"cohort":{"ageMin":-1},"measure":{"kind":"count"}}')).toThrow(/cohort.ageMin/);
		expect(() => parseQuerySpec('{"cohort":{"conditions":["Zebediah Smith"]},"measure":{"kind":"count"}}')).toThrow(
			/cohort.conditions\[0\]/
		);
		expect(() => parseQuerySpec('{"cohort":{},"measure":{"kind":"histogram","dimension":{"by":"name"}}}')).toThrow(/measure.dimension.by/);
		expect(() => parseQuerySpec('{"cohort":{"from":"2020"},"measure":{"kind":"count"}}')).toThrow(/cohort.from/);
		expect(() => parseQuerySpec('not json')).toThrow(/JSON/);
	});
});
