/**
 * Synthetic patients for tests, the benchmark and the demo cohort: FHIR R4 resources
 * (Patient with name, contact and address like real ones, conditions, observations,
 * encounters) drawn from a seeded generator, so every run sees the same people.
 */
import type { Condition, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { toHex } from '$lib/core/index.js';
import { CODE_SYSTEMS, type PatientRecords } from '$lib/domain/research/facts.js';
import type { Rng } from '$lib/domain/research/laplace.js';
import { seededRng } from './seeded-rng.js';

export const SYNTHETIC_CONDITIONS = [
	{ code: '44054006', display: 'Type 2 diabetes mellitus' },
	{ code: '38341003', display: 'Hypertension' },
	{ code: '195967001', display: 'Asthma' },
	{ code: '35489007', display: 'Depressive disorder' }
];
export const SYNTHETIC_OBSERVATIONS = [
	{ code: '4548-4', unit: '%', mean: 6.2, sd: 1.1, lab: true },
	{ code: '8480-6', unit: 'mm[Hg]', mean: 128, sd: 16 },
	{ code: '39156-5', unit: 'kg/m2', mean: 27, sd: 5 },
	{ code: '29463-7', unit: 'kg', mean: 78, sd: 15 }
];
const ZIPS = ['02139', '10027', '60614', '94110', '73301', '03601', '59001', '89301'];
const STATES = ['MA', 'NY', 'IL', 'CA', 'TX', 'NH', 'MT', 'NV'];

const pick = <T>(rng: Rng, list: readonly T[]) => list[Math.floor(rng.next() * list.length)]!;
const pad = (n: number) => String(n).padStart(2, '0');
const dateIn = (rng: Rng, from: number, to: number) => {
	const d = new Date(Date.UTC(from, 0, 1) + Math.floor(rng.next() * (Date.UTC(to, 11, 31) - Date.UTC(from, 0, 1))));
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
};
const normal = (rng: Rng) => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());

/** One synthetic patient with about `resources` resources, under key `patient` (random when absent). */
export function syntheticPatient(
	rng: Rng,
	resources = 50,
	patient = toHex(Uint8Array.from({ length: 32 }, () => Math.floor(rng.next() * 256)))
): PatientRecords {
	const ref = { reference: `Patient/${patient}` };
	const where = Math.floor(rng.next() * ZIPS.length);
	const out: Resource[] = [
		{
			resourceType: 'Patient',
			id: patient,
			name: [{ family: `Family${Math.floor(rng.next() * 1e6)}`, given: ['Given'] }],
			telecom: [{ system: 'phone', value: `555-${1000 + Math.floor(rng.next() * 9000)}` }],
			gender: rng.next() < 0.5 ? 'female' : 'male',
			birthDate: dateIn(rng, 1925, 2020),
			address: [
				{
					use: 'home',
					line: [`${1 + Math.floor(rng.next() * 999)} Main St`],
					city: 'Town',
					postalCode: ZIPS[where]!,
					state: STATES[where]!
				}
			]
		} satisfies Patient
	];
	const conditions = Math.floor(rng.next() * 4);
	for (let i = 0; i < conditions; i++) {
		const c = pick(rng, SYNTHETIC_CONDITIONS);
		out.push({
			resourceType: 'Condition',
			id: `c${i}`,
			subject: ref,
			code: { coding: [{ system: CODE_SYSTEMS.SNOMED, code: c.code, display: c.display }] },
			onsetDateTime: dateIn(rng, 2015, 2025)
		} satisfies Condition);
	}
	const encounters = Math.max(1, Math.round(resources * 0.12));
	for (let i = 0; i < encounters; i++)
		out.push({
			resourceType: 'Encounter',
			id: `e${i}`,
			status: 'finished',
			class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
			subject: ref,
			period: { start: `${dateIn(rng, 2015, 2025)}T09:30:00Z` }
		} satisfies Encounter);
	for (let i = out.length; i < resources; i++) {
		const o = pick(rng, SYNTHETIC_OBSERVATIONS);
		out.push({
			resourceType: 'Observation',
			id: `o${i}`,
			status: 'final',
			subject: ref,
			...('lab' in o
				? { category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }] }
				: {}),
			code: { coding: [{ system: CODE_SYSTEMS.LOINC, code: o.code }] },
			effectiveDateTime: dateIn(rng, 2015, 2025),
			valueQuantity: {
				value: Math.round((o.mean + o.sd * normal(rng)) * 10) / 10,
				unit: o.unit,
				system: 'http://unitsofmeasure.org',
				code: o.unit
			}
		} satisfies Observation);
	}
	return { patient, resources: out };
}

/** `count` synthetic patients from `seed`. */
export function syntheticPatients(seed: number, count: number, resources = 50): PatientRecords[] {
	const rng = seededRng(seed);
	return Array.from({ length: count }, () => syntheticPatient(rng, resources));
}
