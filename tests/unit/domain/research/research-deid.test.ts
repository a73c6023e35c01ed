import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, factsOf, type PatientRecords } from '$lib/domain/research/facts.js';
import { deidentify, pseudonym, safeHarborAge } from '$lib/domain/research/deidentify.js';
import { RESTRICTED_ZIP3, zip3Of } from '$lib/domain/research/zip3.js';
import { extractRows } from '$lib/domain/research/extract.js';
import { answerQuery, combine } from '$lib/domain/research/query.js';
import { combinedCsv, combinedMeasureReport, extractBundle, extractCsv } from '$lib/domain/research/export.js';
import { isKAnonymous, kAnonymize, type QuasiIdentifiers } from '$lib/domain/research/kanonymity.js';

const NOW = Date.UTC(2026, 0, 15);
const STUDY_KEY = new Uint8Array(32).fill(7);

/** Every Safe Harbor identifier, by number (45 CFR 164.514(b)(2)(i)(A)-(R)), as planted in the record. */
const IDENTIFIERS: Record<string, string[]> = {
	'A names': ['Zebediah', 'Quixote-Smythe', 'Hortensia'],
	'B geography below state': ['77 Sunset Strip', 'Springfield', 'Hampden', '02139', '2139'],
	'C dates (except year)': ['1961-03-14', '03-14', '1961-03', '2023-05-17', '05-17', '10:30', '2024-02-29', '02-29'],
	'D phone': ['617-555-0199', '6175550199'],
	'E fax': ['617-555-0142'],
	'F email': ['zeb.qs@example.org'],
	'G SSN': ['078-05-1120'],
	'H medical record number': ['MRN-88231977'],
	'I health plan beneficiary number': ['HPB-4455667788'],
	'J account number': ['ACCT-99887766'],
	'K certificate/licence number': ['DL-S5301234'],
	'L vehicle identifier': ['1HGCM82633A004352'],
	'M device identifier/serial': ['SN-DEV-55321', '00844588003288'],
	'N URL': ['https://zeb.example.org/home', 'zeb.example.org'],
	'O IP address': ['203.0.113.77'],
	'P biometric identifier': ['FPRINT-9f8e7d6c'],
	'Q full-face photo': ['iVBORw0KGgoAAAANSUhEUg', 'photos.example.org'],
	'R any other unique identifier': ['STUDYSUBJ-31337', '9990001112']
};

/** A patient record carrying all 18 identifiers, in every place FHIR lets them hide. */
function identifiedRecord(patient: string): PatientRecords {
	const ref = { reference: `Patient/${patient}`, display: 'Zebediah Quixote-Smythe' };
	const resources: Resource[] = [
		{
			resourceType: 'Patient',
			id: patient,
			identifier: [
				{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '078-05-1120' },
				{ type: { text: 'MRN' }, value: 'MRN-88231977' },
				{ type: { text: 'plan' }, value: 'HPB-4455667788' },
				{ type: { text: 'account' }, value: 'ACCT-99887766' },
				{ type: { text: 'driver licence' }, value: 'DL-S5301234' },
				{ value: 'STUDYSUBJ-31337' }
			],
			name: [{ family: 'Quixote-Smythe', given: ['Zebediah'], text: 'Zebediah Quixote-Smythe' }],
			telecom: [
				{ system: 'phone', value: '617-555-0199' },
				{ system: 'fax', value: '617-555-0142' },
				{ system: 'email', value: 'zeb.qs@example.org' },
				{ system: 'url', value: 'https://zeb.example.org/home' }
			],
			gender: 'male',
			birthDate: '1961-03-14',
			deceasedDateTime: '2024-02-29',
			address: [{ use: 'home', line: ['77 Sunset Strip'], city: 'Springfield', district: 'Hampden', postalCode: '02139', state: 'MA' }],
			photo: [{ contentType: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB', url: 'https://photos.example.org/zeb.png' }],
			contact: [{ name: { given: ['Hortensia'] }, telecom: [{ system: 'phone', value: '6175550199' }] }],
			extension: [
				{ url: 'https://zeb.example.org/home', valueString: 'vehicle VIN 1HGCM82633A004352' },
				{ url: 'urn:ip', valueString: '203.0.113.77' },
				{ url: 'urn:biometric', valueString: 'FPRINT-9f8e7d6c' }
			],
			text: { status: 'generated', div: '<div>Zebediah Quixote-Smythe, 77 Sunset Strip</div>' }
		},
		{ resourceType: 'Device', id: 'd1', serialNumber: 'SN-DEV-55321', udiCarrier: [{ deviceIdentifier: '00844588003288' }], patient: ref },
		{
			resourceType: 'Condition',
			id: 'c1',
			subject: ref,
			code: {
				coding: [
					{ system: CODE_SYSTEMS.SNOMED, code: '44054006', display: 'Zebediah’s diabetes' },
					{ system: 'urn:local', code: '9990001112' },
					{ system: CODE_SYSTEMS.SNOMED, code: 'STUDYSUBJ-31337' }
				],
				text: 'Zebediah’s sugar'
			},
			onsetDateTime: '2023-05-17T10:30:00Z',
			note: [{ text: 'Call Zebediah at 617-555-0199' }]
		},
		{
			resourceType: 'Observation',
			id: 'o1',
			status: 'final',
			subject: ref,
			code: { coding: [{ system: CODE_SYSTEMS.LOINC, code: '4548-4' }], text: 'HbA1c for Zebediah' },
			effectiveDateTime: '2023-05-17T10:30:00Z',
			valueQuantity: { value: 7.2, unit: '%', code: '%' },
			note: [{ text: 'IP 203.0.113.77 device SN-DEV-55321' }],
			device: { display: 'SN-DEV-55321' }
		},
		{
			resourceType: 'Observation',
			id: 'o2',
			status: 'final',
			subject: ref,
			code: { coding: [{ system: CODE_SYSTEMS.LOINC, code: '8480-6' }] },
			effectiveDateTime: '2023-05-17',
			valueString: 'Zebediah refused'
		},
		{
			resourceType: 'Encounter',
			id: 'e1',
			status: 'finished',
			class: { code: 'AMB' },
			subject: ref,
			period: { start: '2023-05-17T10:30:00Z' },
			identifier: [{ value: 'ACCT-99887766' }]
		}
	];
	return { patient, resources };
}

const patientKey = (i: number) => i.toString(16).padStart(64, 'a');

describe('Safe Harbor de-identification', () => {
	it('a record carrying all 18 identifiers: none survives into any export (bytes scanned)', () => {
		// Six patients with the same quasi-identifiers, so the extract keeps them at k = 5.
		const patients = Array.from({ length: 6 }, (_, i) => identifiedRecord(patientKey(i)));
		const deid = patients.map((p) => deidentify(factsOf(p), STUDY_KEY, NOW));
		const extract = extractRows(patients, () => true, {}, STUDY_KEY, NOW, { k: 5 });
		expect(extract.rows).toHaveLength(6);
		const clinics = [
			answerQuery(
				patients,
				() => true,
				{ cohort: { conditions: ['44054006'] }, measure: { kind: 'crosstab', rows: { by: 'sex' }, cols: { by: 'age' } } },
				{ now: NOW }
			),
			answerQuery(patients, () => true, { cohort: {}, measure: { kind: 'mean', code: 'LOINC|4548-4', lo: 3, hi: 15 } }, { now: NOW })
		];
		const exports = [
			JSON.stringify(deid),
			JSON.stringify(extract),
			extractCsv(extract.rows),
			JSON.stringify(extractBundle(extract.rows)),
			...clinics.map((a) => JSON.stringify(a)),
			combinedCsv(combine([clinics[0]!])!),
			JSON.stringify(combinedMeasureReport(combine([clinics[0]!])!, 'ab'.repeat(16), 2026))
		];
		const bytes = Buffer.from(exports.join('\n'), 'utf8');
		for (const [identifier, values] of Object.entries(IDENTIFIERS)) {
			for (const value of values) expect(bytes.includes(Buffer.from(value, 'utf8')), `${identifier}: ${value}`).toBe(false);
		}
		// Nor the patient's ledger key (another unique identifier).
		for (const p of patients) expect(bytes.includes(Buffer.from(p.patient))).toBe(false);
		// What is kept: year of birth, ZIP3, state, coded data with years.
		expect(deid[0]).toMatchObject({ age: '64', birthYear: 1961, sex: 'male', zip3: '021', state: 'MA' });
		expect(deid[0]!.conditions).toEqual([{ code: 'SNOMED|44054006', year: 2023 }]);
		expect(deid[0]!.observations).toEqual([{ code: 'LOINC|4548-4', value: 7.2, unit: '%', year: 2023 }]);
		expect(deid[0]!.encounters).toEqual([{ year: 2023, cls: 'AMB' }]);
	});

	it('ZIP3: first three digits, 000 for each restricted area (HHS list), nothing for what is not a ZIP', () => {
		expect(RESTRICTED_ZIP3).toHaveLength(17);
		for (const z of RESTRICTED_ZIP3) {
			expect(zip3Of(`${z}42`)).toBe('000');
			expect(zip3Of(`${z}42-1234`)).toBe('000');
		}
		expect(zip3Of('02139')).toBe('021');
		expect(zip3Of('10027-6902')).toBe('100');
		expect(zip3Of('03701')).toBe('037'); // next to restricted 036
		expect(zip3Of('021')).toBeNull();
		expect(zip3Of('SW1A 1AA')).toBeNull();
		expect(zip3Of(undefined)).toBeNull();
	});

	it('ages over 89 become 90+ and lose the birth year; other ages stay whole years', () => {
		const birth = Date.UTC(1936, 5, 1);
		expect(safeHarborAge(birth, Date.UTC(2026, 4, 31))).toBe('89');
		expect(safeHarborAge(birth, Date.UTC(2026, 5, 1))).toBe('90+');
		expect(safeHarborAge(Date.UTC(1920, 0, 1), NOW)).toBe('90+');
		const old = identifiedRecord(patientKey(1));
		(old.resources[0] as { birthDate: string }).birthDate = '1931-08-09';
		const d = deidentify(factsOf(old), STUDY_KEY, NOW);
		expect(d.age).toBe('90+');
		expect(d.birthYear).toBeNull();
		expect(JSON.stringify(d)).not.toContain('1931');
	});

	it('dates keep only the year, whatever their precision', () => {
		fc.assert(
			fc.property(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), (y, m, d) => {
				const date = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
				const record = identifiedRecord(patientKey(3));
				(record.resources[2] as { onsetDateTime: string }).onsetDateTime = `${date}T23:59:00+02:00`;
				const out = deidentify(factsOf(record), STUDY_KEY, NOW);
				expect(out.conditions[0]!.year).toBe(y);
				expect(JSON.stringify(out)).not.toContain(date);
			}),
			{ numRuns: 100 }
		);
	});

	it('pseudonyms: stable within a study, different across studies, not the patient key', () => {
		const other = new Uint8Array(32).fill(8);
		const a = patientKey(1);
		const b = patientKey(2);
		expect(pseudonym(STUDY_KEY, a)).toBe(pseudonym(STUDY_KEY, a));
		expect(pseudonym(STUDY_KEY, a)).not.toBe(pseudonym(STUDY_KEY, b));
		expect(pseudonym(other, a)).not.toBe(pseudonym(STUDY_KEY, a));
		expect(pseudonym(STUDY_KEY, a)).toMatch(/^[0-9a-f]{32}$/);
		expect(a.includes(pseudonym(STUDY_KEY, a))).toBe(false);
		expect(() => pseudonym(new Uint8Array(4), a)).toThrow(/studyKey/);
	});
});

describe('k-anonymity', () => {
	const qi = fc.record({
		age: fc.option(fc.integer({ min: 0, max: 90 }), { nil: null }),
		sex: fc.constantFrom('female', 'male', 'other'),
		zip3: fc.option(fc.constantFrom('021', '022', '100', '101', '000', '606'), { nil: null }),
		year: fc.option(fc.integer({ min: 2010, max: 2025 }), { nil: null })
	});

	it('holds on every extract, dropping no more than allowed (or everything when fewer than k rows)', () => {
		fc.assert(
			fc.property(fc.array(qi, { maxLength: 200 }), fc.integer({ min: 2, max: 11 }), (rows, k) => {
				const { rows: kept, report } = kAnonymize(rows, (r: QuasiIdentifiers) => r, { k, maxSuppressed: 0.05 });
				expect(isKAnonymous(kept, k)).toBe(true);
				expect(report.kept + report.suppressed).toBe(rows.length);
				if (rows.length >= k) expect(report.suppressed).toBeLessThanOrEqual(0.05 * rows.length);
				else expect(report.kept).toBe(0);
				if (report.kept > 0) expect(report.smallestClass).toBeGreaterThanOrEqual(k);
			}),
			{ numRuns: 200 }
		);
	});

	it('generalizes only as far as needed and reports it', () => {
		// Ten people aged 30-34, same sex, ZIP3 and year: already 5-anonymous at full detail.
		const same = Array.from({ length: 10 }, (_, i) => ({ age: 30 + (i % 5), sex: 'female', zip3: '021', year: 2020 }));
		expect(kAnonymize(same, (r) => r).report).toMatchObject({ levels: { age: 0, sex: 0, zip3: 0, year: 0 }, suppressed: 0, kept: 10 });
		// Two ZIP3s of five people each, differing in year: one year per ZIP3 keeps k with no generalization...
		const mixed = [
			...Array.from({ length: 5 }, () => ({ age: 41, sex: 'male', zip3: '021', year: 2020 })),
			...Array.from({ length: 5 }, () => ({ age: 41, sex: 'male', zip3: '022', year: 2021 }))
		];
		expect(kAnonymize(mixed, (r) => r).report.levels).toEqual({ age: 0, sex: 0, zip3: 0, year: 0 });
		// ...three per ZIP3 needs ZIP3 generalized to 02* (the cheapest step that merges them).
		const small = mixed.filter((_, i) => i % 5 < 3);
		const { rows, report } = kAnonymize(small, (r) => r);
		expect(report.suppressed).toBe(0);
		expect(isKAnonymous(rows, 5)).toBe(true);
		expect(report.levels.age + report.levels.sex + report.levels.zip3 + report.levels.year).toBeGreaterThan(0);
		// Fewer than k rows in all: everything dropped.
		expect(kAnonymize(small.slice(0, 4), (r) => r).report).toMatchObject({ kept: 0, suppressed: 4 });
	});
});
