/**
 * Aggregate queries, answered where the data may be read. A clinic node evaluates the
 * cohort over the consented patients it can decrypt, computes the measure, adds Laplace
 * noise when the study spends privacy budget, hides small cells (suppression.ts) and
 * returns only that. The researcher combines the clinics' answers ({@link combine}).
 */
import { ageAt, factsOf, timeOf, type Facts, type PatientRecords, type Sex } from './facts.js';
import { noisyCount, noisySum, secureRng, type Rng } from './laplace.js';
import { MIN_CELL, suppressCount, suppressTable, type PublishedTable, type Table } from './suppression.js';
import { ResearchInputError } from './input-error.js';

/** Who is in the cohort. Every given criterion must hold. */
export interface CohortSpec {
	/** Any of these codes (`SYSTEM|code`, or a bare code for any system), dated within the range. */
	conditions?: string[];
	ageMin?: number;
	ageMax?: number;
	sex?: Sex[];
	/** For each entry, an observation of that code with a value within [min, max], dated within the range. */
	observations?: { code: string; min?: number; max?: number }[];
	/** Date range of the events considered (YYYY-MM-DD, inclusive). */
	from?: string;
	to?: string;
}

/** How cohort members are grouped. Every dimension puts each patient in exactly one group. */
export type Dimension =
	{ by: 'sex' } | { by: 'age' } | { by: 'year' } | { by: 'condition'; code: string } | { by: 'value'; code: string; edges: number[] };

export type Measure =
	| { kind: 'count' }
	/** Mean of each member's latest value of `code` in range; with noise, values are clamped to [lo, hi]. */
	| { kind: 'mean'; code: string; lo: number; hi: number }
	| { kind: 'histogram'; dimension: Dimension }
	| { kind: 'crosstab'; rows: Dimension; cols: Dimension }
	/** A k-anonymous row-level extract (extract.ts), where the study allows it; not an aggregate. */
	| { kind: 'extract' };

export interface QuerySpec {
	cohort: CohortSpec;
	measure: Measure;
}

/** One clinic's answer: all a researcher receives from it. */
export type Answer =
	| { kind: 'count'; count: number | null; noisy: boolean }
	| { kind: 'mean'; n: number | null; mean: number | null; noisy: boolean }
	| { kind: 'table'; table: PublishedTable; noisy: boolean };

export interface AnswerOptions {
	/** Reference time (the query's block time): ages are taken then. */
	now: number;
	/** Differential privacy: total ε this answer may spend (absent: exact answer with suppression only). */
	epsilon?: number;
	/** The noise source; `crypto.getRandomValues` when absent. Only tests inject another. */
	rng?: Rng;
}

const DAY = 86_400_000;
const codeMatches = (wanted: string, code: string) => (wanted.includes('|') ? wanted === code : code.endsWith(`|${wanted}`));

interface Member {
	facts: Facts;
	age: number | null;
	/** Earliest qualifying event, or null. */
	index: number | null;
}

/** Evaluates the cohort for one patient; null when not a member. */
function member(facts: Facts, cohort: CohortSpec, now: number): Member | null {
	const from = cohort.from ? timeOf(cohort.from) : null;
	const to = cohort.to ? timeOf(cohort.to) : null;
	const windowed = from !== null || to !== null;
	const inWindow = (time: number | null) =>
		time === null ? !windowed : (from === null || time >= from) && (to === null || time < to + DAY);
	const age = facts.birth === null ? null : ageAt(facts.birth, now);
	if (cohort.ageMin !== undefined && (age === null || age < cohort.ageMin)) return null;
	if (cohort.ageMax !== undefined && (age === null || age > cohort.ageMax)) return null;
	if (cohort.sex && cohort.sex.length > 0 && !cohort.sex.includes(facts.sex)) return null;
	let index: number | null = null;
	const seen = (time: number | null) => {
		if (time !== null && (index === null || time < index)) index = time;
	};
	if (cohort.conditions && cohort.conditions.length > 0) {
		const hits = facts.conditions.filter((c) => inWindow(c.time) && cohort.conditions!.some((w) => codeMatches(w, c.code)));
		if (hits.length === 0) return null;
		for (const h of hits) seen(h.time);
	}
	for (const want of cohort.observations ?? []) {
		const hits = facts.observations.filter(
			(o) =>
				inWindow(o.time) &&
				codeMatches(want.code, o.code) &&
				(want.min === undefined || o.value >= want.min) &&
				(want.max === undefined || o.value <= want.max)
		);
		if (hits.length === 0) return null;
		for (const h of hits) seen(h.time);
	}
	if (!cohort.conditions?.length && !cohort.observations?.length) {
		if (windowed) {
			const events = [...facts.conditions, ...facts.observations, ...facts.encounters].filter((e) => e.time !== null && inWindow(e.time));
			if (events.length === 0) return null;
			for (const e of events) seen(e.time);
		} else {
			for (const e of [...facts.conditions, ...facts.observations, ...facts.encounters]) seen(e.time);
		}
	}
	return { facts, age, index };
}

/** Latest value of `code` within the cohort's range, or null. */
function latestValue(facts: Facts, code: string, cohort: CohortSpec): number | null {
	const from = cohort.from ? timeOf(cohort.from) : null;
	const to = cohort.to ? timeOf(cohort.to) : null;
	const windowed = from !== null || to !== null;
	let best: { value: number; time: number } | null = null;
	for (const o of facts.observations) {
		if (!codeMatches(code, o.code)) continue;
		// Undated values count only when no date range is asked for (as in the cohort).
		if (o.time === null ? windowed : (from !== null && o.time < from) || (to !== null && o.time >= to + DAY)) continue;
		const time = o.time ?? -Infinity;
		if (!best || time >= best.time) best = { value: o.value, time };
	}
	return best?.value ?? null;
}

export const AGE_LABELS = ['0-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80-89', '90+', 'unknown'];
const SEX_LABELS: Sex[] = ['female', 'male', 'other', 'unknown'];

/** The labels of a dimension (fixed where possible, so clinics' tables line up) and each member's label. */
function dimension(dim: Dimension, members: readonly Member[], cohort: CohortSpec): { labels: string[]; labelOf: (m: Member) => string } {
	switch (dim.by) {
		case 'sex':
			return { labels: SEX_LABELS, labelOf: (m) => m.facts.sex };
		case 'age':
			return {
				labels: AGE_LABELS,
				labelOf: (m) => (m.age === null ? 'unknown' : m.age > 89 ? '90+' : AGE_LABELS[Math.floor(m.age / 10)]!)
			};
		case 'year': {
			const yearOf = (m: Member) => (m.index === null ? 'unknown' : String(new Date(m.index).getUTCFullYear()));
			const from = cohort.from ? timeOf(cohort.from) : null;
			const to = cohort.to ? timeOf(cohort.to) : null;
			let labels: string[];
			if (from !== null && to !== null) {
				labels = [];
				for (let y = new Date(from).getUTCFullYear(); y <= new Date(to).getUTCFullYear(); y++) labels.push(String(y));
			} else labels = [...new Set(members.map(yearOf).filter((y) => y !== 'unknown'))].sort();
			return { labels: [...labels, 'unknown'], labelOf: yearOf };
		}
		case 'condition':
			return { labels: ['yes', 'no'], labelOf: (m) => (m.facts.conditions.some((c) => codeMatches(dim.code, c.code)) ? 'yes' : 'no') };
		case 'value': {
			const edges = [...dim.edges].sort((a, b) => a - b);
			const labels = ['none', `< ${edges[0]}`, ...edges.slice(1).map((e, i) => `${edges[i]}–${e}`), `≥ ${edges[edges.length - 1]}`];
			return {
				labels,
				labelOf: (m) => {
					const v = latestValue(m.facts, dim.code, cohort);
					if (v === null) return 'none';
					let i = 0;
					while (i < edges.length && v >= edges[i]!) i++;
					return labels[i + 1]!;
				}
			};
		}
	}
}

function tabulate(rowsDim: Dimension | null, colsDim: Dimension, members: readonly Member[], cohort: CohortSpec): Table {
	const cols = dimension(colsDim, members, cohort);
	const rows = rowsDim ? dimension(rowsDim, members, cohort) : { labels: ['all'], labelOf: () => 'all' };
	const cells = rows.labels.map(() => new Array<number>(cols.labels.length).fill(0));
	const rowIndex = new Map(rows.labels.map((l, i) => [l, i]));
	const colIndex = new Map(cols.labels.map((l, i) => [l, i]));
	for (const m of members) {
		const r = rowIndex.get(rows.labelOf(m));
		const c = colIndex.get(cols.labelOf(m));
		if (r !== undefined && c !== undefined) cells[r]![c]!++;
	}
	return { rows: rows.labels, cols: cols.labels, cells };
}

/** The cohort members among `patients` whose patient `consented` says yes. */
export function cohortOf(
	patients: Iterable<PatientRecords>,
	consented: (patient: string) => boolean,
	cohort: CohortSpec,
	now: number
): Member[] {
	const members: Member[] = [];
	for (const records of patients) {
		if (!consented(records.patient)) continue;
		const m = member(factsOf(records), cohort, now);
		if (m) members.push(m);
	}
	return members;
}

/**
 * One clinic's answer to `spec` over its readable `patients`, counting only those
 * `consented` says took part (consent is checked here, before anything is read).
 */
export function answerQuery(
	patients: Iterable<PatientRecords>,
	consented: (patient: string) => boolean,
	spec: QuerySpec,
	options: AnswerOptions
): Answer {
	const { epsilon } = options;
	const noisy = epsilon !== undefined;
	if (noisy && !(epsilon > 0)) throw new ResearchInputError('epsilon: expected a positive ε');
	const rng = options.rng ?? secureRng();
	const members = cohortOf(patients, consented, spec.cohort, options.now);
	const measure = spec.measure;
	switch (measure.kind) {
		case 'extract':
			throw new ResearchInputError('measure: an extract is not an aggregate (extract.ts answers it)');
		case 'count': {
			const count = noisy ? noisyCount(rng, members.length, epsilon!) : members.length;
			return { kind: 'count', count: suppressCount(count), noisy };
		}
		case 'mean': {
			const values = members.map((m) => latestValue(m.facts, measure.code, spec.cohort)).filter((v): v is number => v !== null);
			let n = values.length;
			let mean: number | null;
			if (noisy) {
				// Half of ε for the count, half for the clamped sum (sensitivity: the largest |value|).
				const clamped = values.map((v) => Math.min(measure.hi, Math.max(measure.lo, v)));
				n = noisyCount(rng, n, epsilon! / 2);
				const sum = noisySum(
					rng,
					clamped.reduce((a, b) => a + b, 0),
					Math.max(Math.abs(measure.lo), Math.abs(measure.hi)),
					epsilon! / 2
				);
				mean = n > 0 ? Math.min(measure.hi, Math.max(measure.lo, sum / n)) : null;
			} else mean = n > 0 ? values.reduce((a, b) => a + b, 0) / n : null;
			const shown = suppressCount(n);
			return { kind: 'mean', n: shown, mean: shown === null || shown === 0 ? null : mean, noisy };
		}
		case 'histogram':
		case 'crosstab': {
			const table =
				measure.kind === 'histogram'
					? tabulate(null, measure.dimension, members, spec.cohort)
					: tabulate(measure.rows, measure.cols, members, spec.cohort);
			// Each patient is in exactly one cell, so geometric noise with ε per cell is ε-DP for the whole table; margins are sums of noisy cells.
			const cells = noisy ? table.cells.map((line) => line.map((v) => noisyCount(rng, v, epsilon!))) : table.cells;
			return { kind: 'table', table: suppressTable({ ...table, cells }), noisy };
		}
	}
}

/** A combined cell: the sum of what clinics showed, and how many hid their part. */
export interface CombinedCell {
	value: number;
	hiddenAt: number;
}

export type Combined =
	| { kind: 'count'; count: CombinedCell; clinics: number; noisy: boolean }
	| { kind: 'mean'; n: CombinedCell; mean: number | null; clinics: number; noisy: boolean }
	| {
			kind: 'table';
			rows: string[];
			cols: string[];
			cells: CombinedCell[][];
			rowTotals: CombinedCell[];
			colTotals: CombinedCell[];
			total: CombinedCell;
			clinics: number;
			noisy: boolean;
	  };

const add = (cell: CombinedCell, value: number | null | undefined) => {
	if (value === null || value === undefined) cell.hiddenAt++;
	else cell.value += value;
};

/**
 * The researcher's view: clinics' answers summed. A cell some clinic hid is the sum of the
 * parts shown (a lower bound) with `hiddenAt` saying how many parts are missing.
 */
export function combine(answers: readonly Answer[]): Combined | null {
	if (answers.length === 0) return null;
	const first = answers[0]!;
	const noisy = answers.some((a) => a.noisy);
	if (answers.some((a) => a.kind !== first.kind)) throw new ResearchInputError('answers: clinics answered different measures');
	if (first.kind === 'count') {
		const count = { value: 0, hiddenAt: 0 };
		for (const a of answers as Extract<Answer, { kind: 'count' }>[]) add(count, a.count);
		return { kind: 'count', count, clinics: answers.length, noisy };
	}
	if (first.kind === 'mean') {
		const n = { value: 0, hiddenAt: 0 };
		let sum = 0;
		for (const a of answers as Extract<Answer, { kind: 'mean' }>[]) {
			add(n, a.n);
			if (a.n !== null && a.mean !== null) sum += a.n * a.mean;
		}
		return { kind: 'mean', n, mean: n.value > 0 ? sum / n.value : null, clinics: answers.length, noisy };
	}
	const tables = (answers as Extract<Answer, { kind: 'table' }>[]).map((a) => a.table);
	const rows = [...new Set(tables.flatMap((t) => t.rows))];
	const cols = [...new Set(tables.flatMap((t) => t.cols))];
	const cell = () => ({ value: 0, hiddenAt: 0 });
	const out = { rows, cols, cells: rows.map(() => cols.map(cell)), rowTotals: rows.map(cell), colTotals: cols.map(cell), total: cell() };
	for (const t of tables) {
		const ri = t.rows.map((r) => rows.indexOf(r));
		const ci = t.cols.map((c) => cols.indexOf(c));
		t.cells.forEach((line, r) => line.forEach((v, c) => add(out.cells[ri[r]!]![ci[c]!]!, v)));
		t.rowTotals.forEach((v, r) => add(out.rowTotals[ri[r]!]!, v));
		t.colTotals.forEach((v, c) => add(out.colTotals[ci[c]!]!, v));
		add(out.total, t.total);
	}
	return { kind: 'table', ...out, clinics: answers.length, noisy };
}

export { MIN_CELL };
