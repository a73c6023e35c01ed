/**
 * Exports of de-identified results: CSV and FHIR R4. Only what the researcher already
 * holds (combined aggregates, k-anonymous extract rows) is written; a cell every clinic
 * hid is written as "hidden" (a complement may be large, so not "<11"), one some clinic
 * hid as "≥n*", never as a guess.
 */
import type { Bundle, BundleEntry, MeasureReport, MeasureReportGroup, Observation, Patient, Condition } from '@medplum/fhirtypes';
import { CODE_SYSTEMS } from './facts.js';
import type { Combined, CombinedCell } from './query.js';
import type { ExtractRow } from './extract.js';
import { ResearchInputError } from './input-error.js';

/** Text a spreadsheet would run as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, tab, CR first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field. A number is written as itself (a negative number keeps its `-`: a
 * spreadsheet reads `-3.5` as a number, not a formula). Text that a spreadsheet would
 * take for a formula gets a leading `'` and quotes, so it opens as the text it is: labels
 * and codes come from clinics' records, which any member can write.
 */
export function csvField(value: string | number): string {
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) throw new ResearchInputError(`csv: ${value} is not a number a spreadsheet can hold`);
		return String(value);
	}
	if (FORMULA_START.test(value)) return `"'${value.replaceAll('"', '""')}"`;
	return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
const csv = (lines: (string | number)[][]) => lines.map((l) => l.map(csvField).join(',')).join('\n') + '\n';

/** How a combined cell is written: the number, marked when some clinic hid its part. */
export function cellText(cell: CombinedCell): string {
	if (cell.hiddenAt === 0) return String(cell.value);
	return cell.value === 0 ? 'hidden' : `≥${cell.value}*`;
}

/** A combined answer as CSV (tables with their margins). */
export function combinedCsv(result: Combined): string {
	if (result.kind === 'count')
		return csv([
			['count', 'clinics', 'noisy'],
			[cellText(result.count), result.clinics, String(result.noisy)]
		]);
	if (result.kind === 'mean')
		return csv([
			['n', 'mean', 'clinics', 'noisy'],
			[cellText(result.n), result.mean === null ? '' : Number(result.mean.toFixed(3)), result.clinics, String(result.noisy)]
		]);
	return csv([
		['', ...result.cols, 'total'],
		...result.rows.map((r, i) => [r, ...result.cells[i]!.map(cellText), cellText(result.rowTotals[i]!)]),
		['total', ...result.colTotals.map(cellText), cellText(result.total)]
	]);
}

/** A k-anonymous extract as CSV, one row per pseudonymous patient. */
export function extractCsv(rows: readonly ExtractRow[]): string {
	return csv([
		['pid', 'age', 'sex', 'zip3', 'year', 'conditions', 'observations'],
		...rows.map((r) => [
			r.pid,
			r.age,
			r.sex,
			r.zip3,
			r.year,
			r.conditions.join(' '),
			r.observations.map((o) => `${o.code}=${o.value}${o.unit ? ` ${o.unit}` : ''}`).join(' ')
		])
	]);
}

const coding = (code: string) => {
	const [system, value] = code.split('|') as [string, string];
	return { coding: [{ system: CODE_SYSTEMS[system], code: value }] };
};

/** A k-anonymous extract as a FHIR R4 collection Bundle (Patient, Condition, Observation). */
export function extractBundle(rows: readonly ExtractRow[]): Bundle {
	const entry: BundleEntry[] = [];
	for (const row of rows) {
		const patient: Patient = {
			resourceType: 'Patient',
			id: row.pid,
			meta: { tag: [{ code: `age:${row.age}` }, { code: `zip3:${row.zip3}` }, { code: `year:${row.year}` }] }
		};
		if (row.sex === 'male' || row.sex === 'female' || row.sex === 'other' || row.sex === 'unknown') patient.gender = row.sex;
		entry.push({ resource: patient });
		row.conditions.forEach((code, i) =>
			entry.push({
				resource: {
					resourceType: 'Condition',
					id: `${row.pid}-c${i}`,
					subject: { reference: `Patient/${row.pid}` },
					code: coding(code)
				} satisfies Condition
			})
		);
		row.observations.forEach((o, i) =>
			entry.push({
				resource: {
					resourceType: 'Observation',
					id: `${row.pid}-o${i}`,
					status: 'final',
					subject: { reference: `Patient/${row.pid}` },
					code: coding(o.code),
					valueQuantity: { value: o.value, ...(o.unit ? { unit: o.unit } : {}) }
				} satisfies Observation
			})
		);
	}
	return { resourceType: 'Bundle', type: 'collection', entry };
}

/** A population: its count, or for a cell hidden somewhere the shown part (if any) and the mark. */
const population = (cell: CombinedCell) =>
	cell.hiddenAt === 0
		? { count: cell.value }
		: {
				...(cell.value > 0 ? { count: cell.value } : {}),
				extension: [{ url: 'urn:clinic-ledger:research:suppressed', valueString: cellText(cell) }]
			};

/** A combined answer as a FHIR R4 summary MeasureReport (strata for table rows and columns). */
export function combinedMeasureReport(result: Combined, study: string, year: number): MeasureReport {
	const group: MeasureReportGroup = {};
	if (result.kind === 'count') group.population = [{ code: { text: 'cohort' }, ...population(result.count) }];
	else if (result.kind === 'mean') {
		group.population = [{ code: { text: 'with value' }, ...population(result.n) }];
		if (result.mean !== null) group.measureScore = { value: Number(result.mean.toFixed(3)) };
	} else {
		group.population = [{ code: { text: 'cohort' }, ...population(result.total) }];
		group.stratifier = result.rows.map((row, r) => ({
			code: [{ text: row }],
			stratum: result.cols.map((col, c) => ({
				value: { text: col },
				population: [{ code: { text: 'cohort' }, ...population(result.cells[r]![c]!) }]
			}))
		}));
	}
	return {
		resourceType: 'MeasureReport',
		status: 'complete',
		type: 'summary',
		measure: `urn:clinic-ledger:study:${study}`,
		period: { start: String(year), end: String(year) },
		group: [group]
	};
}
