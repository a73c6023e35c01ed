/**
 * Query specifications as they travel in `study.query` transactions: JSON text (ledger
 * CBOR has no floats, and value ranges need them), checked field by field so every node
 * agrees on what a valid query is.
 */
import type { CohortSpec, Dimension, Measure, QuerySpec } from './query.js';
import { ResearchInputError } from './input-error.js';

export const SPEC_MAX_CHARS = 10_000;
const SEXES = ['male', 'female', 'other', 'unknown'];
const CODE = /^(?:[A-Z0-9-]{1,12}\|)?[A-Za-z0-9.-]{1,20}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
function onlyKeys(v: Record<string, unknown>, keys: string[], where: string) {
	for (const key of Object.keys(v)) if (!keys.includes(key)) throw new ResearchInputError(`${where}.${key}: unexpected field`);
}

function cohortOf(v: unknown): CohortSpec {
	if (!isObject(v)) throw new ResearchInputError('cohort: expected an object');
	onlyKeys(v, ['conditions', 'ageMin', 'ageMax', 'sex', 'observations', 'from', 'to'], 'cohort');
	const out: CohortSpec = {};
	if (v.conditions !== undefined) {
		if (!Array.isArray(v.conditions) || v.conditions.length > 50)
			throw new ResearchInputError('cohort.conditions: expected up to 50 codes');
		v.conditions.forEach((c, i) => {
			if (typeof c !== 'string' || !CODE.test(c))
				throw new ResearchInputError(`cohort.conditions[${i}]: expected a code such as SNOMED|44054006`);
		});
		out.conditions = v.conditions as string[];
	}
	for (const key of ['ageMin', 'ageMax'] as const) {
		if (v[key] === undefined) continue;
		const n = v[key];
		if (!finite(n) || !Number.isInteger(n) || n < 0 || n > 130) throw new ResearchInputError(`cohort.${key}: expected whole years 0-130`);
		out[key] = n;
	}
	if (v.sex !== undefined) {
		if (!Array.isArray(v.sex) || !v.sex.every((s) => SEXES.includes(s as string)))
			throw new ResearchInputError('cohort.sex: expected male, female, other or unknown');
		out.sex = v.sex as CohortSpec['sex'];
	}
	if (v.observations !== undefined) {
		if (!Array.isArray(v.observations) || v.observations.length > 20)
			throw new ResearchInputError('cohort.observations: expected up to 20 ranges');
		out.observations = v.observations.map((o, i) => {
			if (!isObject(o)) throw new ResearchInputError(`cohort.observations[${i}]: expected an object`);
			onlyKeys(o, ['code', 'min', 'max'], `cohort.observations[${i}]`);
			if (typeof o.code !== 'string' || !CODE.test(o.code))
				throw new ResearchInputError(`cohort.observations[${i}].code: expected a code such as LOINC|4548-4`);
			if (o.min !== undefined && !finite(o.min)) throw new ResearchInputError(`cohort.observations[${i}].min: expected a number`);
			if (o.max !== undefined && !finite(o.max)) throw new ResearchInputError(`cohort.observations[${i}].max: expected a number`);
			return {
				code: o.code,
				...(o.min !== undefined ? { min: o.min as number } : {}),
				...(o.max !== undefined ? { max: o.max as number } : {})
			};
		});
	}
	for (const key of ['from', 'to'] as const) {
		if (v[key] === undefined) continue;
		if (typeof v[key] !== 'string' || !DATE.test(v[key] as string)) throw new ResearchInputError(`cohort.${key}: expected YYYY-MM-DD`);
		out[key] = v[key] as string;
	}
	return out;
}

function dimensionOf(v: unknown, where: string): Dimension {
	if (!isObject(v)) throw new ResearchInputError(`${where}: expected an object`);
	switch (v.by) {
		case 'sex':
		case 'age':
		case 'year':
			onlyKeys(v, ['by'], where);
			return { by: v.by };
		case 'condition':
			onlyKeys(v, ['by', 'code'], where);
			if (typeof v.code !== 'string' || !CODE.test(v.code)) throw new ResearchInputError(`${where}.code: expected a code`);
			return { by: 'condition', code: v.code };
		case 'value':
			onlyKeys(v, ['by', 'code', 'edges'], where);
			if (typeof v.code !== 'string' || !CODE.test(v.code)) throw new ResearchInputError(`${where}.code: expected a code`);
			if (!Array.isArray(v.edges) || v.edges.length < 1 || v.edges.length > 30 || !v.edges.every(finite))
				throw new ResearchInputError(`${where}.edges: expected 1-30 numbers`);
			return { by: 'value', code: v.code, edges: v.edges as number[] };
		default:
			throw new ResearchInputError(`${where}.by: expected sex, age, year, condition or value`);
	}
}

function measureOf(v: unknown): Measure {
	if (!isObject(v)) throw new ResearchInputError('measure: expected an object');
	switch (v.kind) {
		case 'count':
			onlyKeys(v, ['kind'], 'measure');
			return { kind: 'count' };
		case 'mean':
			onlyKeys(v, ['kind', 'code', 'lo', 'hi'], 'measure');
			if (typeof v.code !== 'string' || !CODE.test(v.code)) throw new ResearchInputError('measure.code: expected a code');
			if (!finite(v.lo) || !finite(v.hi) || v.lo >= v.hi)
				throw new ResearchInputError('measure.lo, measure.hi: expected numbers with lo < hi');
			return { kind: 'mean', code: v.code, lo: v.lo, hi: v.hi };
		case 'histogram':
			onlyKeys(v, ['kind', 'dimension'], 'measure');
			return { kind: 'histogram', dimension: dimensionOf(v.dimension, 'measure.dimension') };
		case 'crosstab':
			onlyKeys(v, ['kind', 'rows', 'cols'], 'measure');
			return { kind: 'crosstab', rows: dimensionOf(v.rows, 'measure.rows'), cols: dimensionOf(v.cols, 'measure.cols') };
		case 'extract':
			onlyKeys(v, ['kind'], 'measure');
			return { kind: 'extract' };
		default:
			throw new ResearchInputError('measure.kind: expected count, mean, histogram, crosstab or extract');
	}
}

/** The checked query in `text`; throws naming the field that is wrong. */
export function parseQuerySpec(text: string): QuerySpec {
	if (text.length > SPEC_MAX_CHARS) throw new ResearchInputError(`spec: longer than ${SPEC_MAX_CHARS} characters`);
	let v: unknown;
	try {
		v = JSON.parse(text);
	} catch {
		throw new ResearchInputError('spec: not JSON');
	}
	if (!isObject(v)) throw new ResearchInputError('spec: expected an object');
	onlyKeys(v, ['cohort', 'measure'], 'spec');
	return { cohort: cohortOf(v.cohort ?? {}), measure: measureOf(v.measure) };
}
