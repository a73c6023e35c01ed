/**
 * Row-level extracts, where the study and the consent allow them: one row per consented
 * cohort member, de-identified (Safe Harbor) and then made k-anonymous over the
 * quasi-identifiers. Rows carry no dates but the (generalized) year of the index event,
 * and codes and numeric values only.
 */
import { cohortOf, type CohortSpec } from './query.js';
import { deidentify } from './deidentify.js';
import { kAnonymize, type KAnonymityReport } from './kanonymity.js';
import type { PatientRecords } from './facts.js';

export interface ExtractRow {
	pid: string;
	age: string;
	sex: string;
	zip3: string;
	year: string;
	conditions: string[];
	observations: { code: string; value: number; unit: string | null }[];
}

export interface RowExtract {
	rows: ExtractRow[];
	report: KAnonymityReport;
}

/** The k-anonymous extract of the cohort, pseudonyms keyed by `studyKey`, ages at `now`. */
export function extractRows(
	patients: Iterable<PatientRecords>,
	consented: (patient: string) => boolean,
	cohort: CohortSpec,
	studyKey: Uint8Array,
	now: number,
	options: { k?: number; maxSuppressed?: number } = {}
): RowExtract {
	const members = cohortOf(patients, consented, cohort, now).map((m) => ({ member: m, deid: deidentify(m.facts, studyKey, now) }));
	const { rows, report } = kAnonymize(
		members,
		({ member, deid }) => ({
			age: deid.age === '90+' ? 90 : deid.age === 'unknown' ? null : Number(deid.age),
			sex: deid.sex,
			zip3: deid.zip3,
			year: member.index === null ? null : new Date(member.index).getUTCFullYear()
		}),
		options
	);
	return {
		rows: rows.map(({ deid, qi }) => ({
			pid: deid.pid,
			age: qi.age,
			sex: qi.sex,
			zip3: qi.zip3,
			year: qi.year,
			conditions: [...new Set(deid.conditions.map((c) => c.code))].sort(),
			observations: deid.observations.map((o) => ({ code: o.code, value: o.value, unit: o.unit }))
		})),
		report
	};
}
