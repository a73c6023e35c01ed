// "Bill this visit" and "Give a dose": the visits of a chart, the claim draft and the
// administration each implies, every field mapped and every gap named.
import { describe, expect, it } from 'vitest';
import type { RecordView, VersionView } from '../../../../src/lib/domain/records/book.js';
import type { ClinicalResource } from '../../../../src/lib/domain/records/fhir.js';
import { visitsOf, type Visit } from '../../../../src/lib/domain/records/visit.js';
import { claimFromVisit, coveragesOn } from '../../../../src/lib/domain/contracts/claim-from-visit.js';
import { dayOf } from '../../../../src/lib/domain/contracts/dates.js';
import type { Coverage } from '../../../../src/lib/domain/contracts/claims-state.js';
import { doseFromVisit, lotChoice, usableLots } from '../../../../src/lib/domain/supply/dose-from-visit.js';
import type { StockRow } from '../../../../src/lib/domain/supply/views.js';

const PATIENT = 'a1'.repeat(32);
const OTHER = 'b2'.repeat(32);
const block = (n: number) => n.toString(16).padStart(64, '0');
const rid = (n: number) => n.toString(16).padStart(32, '0');

function version(b: string, resource: ClinicalResource): VersionView {
	return { block: b, clock: 0, index: 0, author: 'c3'.repeat(32), time: 0, kid: '', epoch: 0, prev: null, size: 1, resource, sealed: null };
}
function record(n: number, blocks: string[], resource: ClinicalResource, patient = PATIENT): RecordView {
	return { rid: rid(n), patient, category: 'encounters', versions: blocks.map((b) => version(b, resource)), setAside: [] };
}
const encounter = (start: string | null, reason?: string): ClinicalResource =>
	({
		resourceType: 'Encounter',
		status: 'finished',
		class: { code: 'AMB' },
		...(start ? { period: { start } } : {}),
		...(reason ? { reasonCode: [{ text: reason }] } : {})
	}) as ClinicalResource;
const condition = (code: string, system = 'http://hl7.org/fhir/sid/icd-10-cm', ref?: string): ClinicalResource =>
	({
		resourceType: 'Condition',
		code: { coding: [{ system, code }] },
		subject: { reference: `Patient/${PATIENT}` },
		...(ref ? { encounter: { reference: ref } } : {})
	}) as ClinicalResource;

/** Two visits: the first with two diagnoses written with it and one linked later by reference, the second (amended) with none. */
function chart(): RecordView[] {
	return [
		record(1, [block(1)], encounter('2025-03-03T09:00:00Z', 'Cough')),
		record(2, [block(1)], condition('j20.9')),
		record(3, [block(1)], condition('I10')),
		record(4, [block(9)], condition('E11.9', 'http://hl7.org/fhir/sid/icd-10-cm', `Encounter/${block(1)}-${rid(1)}`)),
		record(5, [block(2), block(3)], encounter('2025-04-10T10:00:00Z')),
		record(6, [block(4)], condition('Z00.0')),
		record(7, [block(2)], condition('I10'), OTHER)
	];
}

function permutations<T>(items: T[]): T[][] {
	if (items.length <= 1) return [items];
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('visitsOf', () => {
	it('lists each Encounter at the block of its first version, with the Conditions written with it or naming it', () => {
		const visits = visitsOf(chart());
		expect(visits).toEqual([
			{ patient: PATIENT, block: block(2), rid: rid(5), start: '2025-04-10T10:00:00Z', reason: null, diagnoses: [] },
			{
				patient: PATIENT,
				block: block(1),
				rid: rid(1),
				start: '2025-03-03T09:00:00Z',
				reason: 'Cough',
				diagnoses: ['J20.9', 'I10', 'E11.9']
			}
		]);
	});

	it('gives the same visits and diagnoses for every order of the chart', () => {
		const base = chart();
		const expected = visitsOf(base).map((v) => ({ ...v, diagnoses: [...v.diagnoses].sort() }));
		// 7! orders: every arrival order of the records.
		for (const order of permutations(base)) {
			expect(visitsOf(order).map((v) => ({ ...v, diagnoses: [...v.diagnoses].sort() }))).toEqual(expected);
		}
	});

	it('skips sealed records and Encounters whose current version is not an Encounter', () => {
		const sealed: RecordView = {
			...record(8, [block(5)], encounter('2025-01-01')),
			versions: [{ ...version(block(5), encounter('2025-01-01')), resource: null, sealed: 'no-access' }]
		};
		expect(visitsOf([sealed, record(9, [block(6)], condition('I10'))])).toEqual([]);
	});
});

const coverage = (id: string, start: string, end: string | null, patient = PATIENT): Coverage => ({
	id,
	payer: 'd4'.repeat(32),
	plan: 'ppo',
	patient,
	start: dayOf(start)!,
	end: end === null ? null : dayOf(end)!,
	block: block(99),
	at: [0, block(99), 0]
});

describe('claimFromVisit', () => {
	const visit: Visit = visitsOf(chart()).find((v) => v.rid === rid(1))!;

	it('maps every field of the visit and picks the coverage in force on the date of service', () => {
		const coverages = {
			old: coverage('old', '2024-01-01', '2024-12-31'),
			now: coverage('now', '2025-01-01', null),
			later: coverage('later', '2025-06-01', null),
			theirs: coverage('theirs', '2025-02-01', null, OTHER)
		};
		const { draft, missing } = claimFromVisit(visit, coverages);
		expect(draft).toEqual({
			patient: PATIENT,
			coverage: 'now',
			diagnoses: ['J20.9', 'I10', 'E11.9'],
			serviceDate: '2025-03-03',
			encounter: { block: block(1), rid: rid(1) }
		});
		expect(missing).toEqual([]);
	});

	it('prefers the latest coverage that started on or before the date, and counts the end day as covered', () => {
		const day = dayOf('2025-03-03')!;
		expect(
			coveragesOn({ a: coverage('a', '2025-01-01', null), b: coverage('b', '2025-02-01', '2025-03-03') }, PATIENT, day).map((c) => c.id)
		).toEqual(['b', 'a']);
		expect(coveragesOn({ a: coverage('a', '2025-03-04', null), b: coverage('b', '2025-01-01', '2025-03-02') }, PATIENT, day)).toEqual([]);
	});

	it('names each missing part: coverage, diagnoses, date of service', () => {
		const bare = visitsOf(chart()).find((v) => v.rid === rid(5))!;
		expect(claimFromVisit(bare, {}).missing.map((m) => m.field)).toEqual(['coverage', 'diagnoses']);
		expect(claimFromVisit(bare, {}).missing[0]!.message).toContain('2025-04-10');
		expect(claimFromVisit(visit, { x: coverage('x', '2025-01-01', null, OTHER) }).missing.map((m) => m.field)).toEqual(['coverage']);
		const undated: Visit = { ...visit, start: null };
		const result = claimFromVisit(undated, { now: coverage('now', '2000-01-01', null) });
		expect(result.draft.serviceDate).toBe('');
		expect(result.draft.coverage).toBe('');
		expect(result.missing.map((m) => m.field)).toEqual(['service-date', 'coverage']);
		expect(claimFromVisit({ ...visit, start: '2025-02-30T10:00:00Z' }, {}).missing.map((m) => m.field)).toContain('service-date');
	});
});

describe('doseFromVisit', () => {
	const visit: Visit = visitsOf(chart()).find((v) => v.rid === rid(1))!;
	const row = (lot: string, expiry: string | null, qty: number, blocked: string | null = null, location = 'main'): StockRow => ({
		gtin: '09506000134352',
		name: 'Measles vaccine',
		lot,
		expiry,
		location,
		qty,
		recalled: blocked === 'recalled',
		blocked,
		daysLeft: null
	});
	const rows = [
		row('LATE', '2027-12-31', 5),
		row('SOON', '2026-06-30', 2),
		row('GONE', '2026-01-01', 0),
		row('BAD', '2026-03-01', 9, 'recalled'),
		row('SOON', '2026-06-30', 1, null, 'fridge-2')
	];

	it('offers only lots on hand and usable, first to expire first', () => {
		expect(usableLots(rows).map(lotChoice)).toEqual([
			'09506000134352|SOON|fridge-2',
			'09506000134352|SOON|main',
			'09506000134352|LATE|main'
		]);
	});

	it('links one unit of the chosen lot to the visit, every field mapped', () => {
		expect(doseFromVisit(visit, rows, '09506000134352|LATE|main', 'immunization')).toEqual({
			draft: {
				patient: PATIENT,
				gtin: '09506000134352',
				lot: 'LATE',
				location: 'main',
				kind: 'immunization',
				qty: 1,
				encounter: { block: block(1), rid: rid(1) }
			}
		});
	});

	it('refuses a recalled, empty or unknown lot, and says when nothing usable is on hand', () => {
		expect(doseFromVisit(visit, rows, '09506000134352|BAD|main', 'medication')).toEqual({
			problem: 'Lot BAD: recalled. Do not give this dose.'
		});
		expect(doseFromVisit(visit, rows, '09506000134352|GONE|main', 'medication')).toEqual({ problem: 'Choose a lot on hand.' });
		expect(doseFromVisit(visit, rows, '', 'medication')).toEqual({ problem: 'Choose a lot on hand.' });
		expect(doseFromVisit(visit, [row('BAD', null, 3, 'expired')], '09506000134352|BAD|main', 'immunization')).toEqual({
			problem: 'No usable lot is on hand at this clinic: receive stock first.'
		});
	});
});
