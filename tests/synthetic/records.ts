/**
 * Synthetic patients as a FHIR R4 `collection` Bundle, from a seed (same seed, same
 * Bundle): names, birth dates, record numbers, and per patient a few visits, each with an
 * Encounter, vital signs, sometimes a diagnosis, a lab result, a medication, an allergy
 * or an immunization. Invented data for tests and benchmarks; codes are real LOINC,
 * ICD-10, RxNorm and CVX codes.
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { prng } from '../../src/lib/core/testing/prng.js';
import { SYSTEMS, VITALS, type ClinicalResource } from '../../src/lib/domain/records/fhir.js';

const GIVEN = [
	'Amina',
	'Tomás',
	'Mei',
	'Olusegun',
	'Ingrid',
	'Rahul',
	'Fatima',
	'Jonas',
	'Aroha',
	'Lucía',
	'Kwame',
	'Sofia',
	'Dmitri',
	'Leila',
	'Mateo',
	'Yuki'
];
const FAMILY = [
	'Okafor',
	'García',
	'Chen',
	'Adeyemi',
	'Larsen',
	'Sharma',
	'Haddad',
	'Berg',
	'Ngata',
	'Fernández',
	'Mensah',
	'Rossi',
	'Ivanov',
	'Karimi',
	'Silva',
	'Tanaka'
];
const CONDITIONS = [
	['E11.9', 'Type 2 diabetes mellitus without complications'],
	['I10', 'Essential (primary) hypertension'],
	['J06.9', 'Acute upper respiratory infection'],
	['M54.5', 'Low back pain'],
	['J45.909', 'Asthma, uncomplicated']
] as const;
const MEDICATIONS = [
	['860975', 'Metformin 500 MG Oral Tablet'],
	['314076', 'Lisinopril 10 MG Oral Tablet'],
	['197361', 'Amlodipine 5 MG Oral Tablet'],
	['745679', 'Albuterol 0.09 MG/ACTUAT Inhaler']
] as const;
const VACCINES = [
	['140', 'Influenza, seasonal, injectable, preservative free'],
	['208', 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose'],
	['115', 'Tdap']
] as const;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A Bundle of `patients` synthetic patients with about `perPatient` resources each. */
export function syntheticBundle(patients: number, options: { seed?: number; perPatient?: number } = {}): Bundle {
	const random = prng(options.seed ?? 1);
	const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
	const perPatient = options.perPatient ?? 50;
	const entry: BundleEntry[] = [];
	for (let i = 0; i < patients; i++) {
		const id = `p${pad(i, 6)}`;
		const fullUrl = `urn:uuid:00000000-0000-4000-8000-${pad(i, 12)}`;
		const year = 1940 + Math.floor(random() * 80);
		entry.push({
			fullUrl,
			resource: {
				resourceType: 'Patient',
				id,
				identifier: [{ system: 'urn:example:mrn', value: `MRN-${pad(i, 6)}` }],
				name: [{ family: pick(FAMILY), given: [pick(GIVEN)] }],
				gender: random() < 0.5 ? 'female' : 'male',
				birthDate: `${year}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`
			}
		});
		// Half the resources refer to the patient by fullUrl (transaction style), half by Patient/id.
		const subject = () => ({ reference: random() < 0.5 ? fullUrl : `Patient/${id}` });
		let made = 1;
		let visit = 0;
		while (made < perPatient) {
			const at = `${2020 + (visit % 6)}-${pad(1 + ((visit * 5) % 12))}-${pad(1 + ((visit * 7) % 28))}T${pad(8 + (visit % 9))}:${pad((visit * 13) % 60)}:00Z`;
			visit++;
			const resources: ClinicalResource[] = [
				{
					resourceType: 'Encounter',
					status: 'finished',
					class: { system: SYSTEMS.actCode, code: 'AMB' },
					subject: subject(),
					period: { start: at }
				}
			];
			for (const vital of VITALS.slice(0, 4)) {
				const value = Math.round((vital.min + (vital.max - vital.min) * (0.3 + 0.2 * random())) * 10) / 10;
				resources.push({
					resourceType: 'Observation',
					status: 'final',
					category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs' }] }],
					code: { coding: [{ system: SYSTEMS.loinc, code: vital.code, display: vital.display }] },
					subject: subject(),
					effectiveDateTime: at,
					valueQuantity: { value, unit: vital.unit, system: SYSTEMS.ucum, code: vital.unit }
				});
			}
			const roll = random();
			if (roll < 0.35) {
				const [code, display] = pick(CONDITIONS);
				resources.push({
					resourceType: 'Condition',
					code: { coding: [{ system: SYSTEMS.icd10, code, display }] },
					subject: subject(),
					recordedDate: at
				});
			}
			if (roll < 0.5)
				resources.push({
					resourceType: 'Observation',
					status: 'final',
					category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'laboratory' }] }],
					code: { coding: [{ system: SYSTEMS.loinc, code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] },
					subject: subject(),
					effectiveDateTime: at,
					valueQuantity: { value: Math.round((5 + random() * 4) * 10) / 10, unit: '%', system: SYSTEMS.ucum, code: '%' }
				});
			if (roll > 0.6) {
				const [code, display] = pick(MEDICATIONS);
				resources.push({
					resourceType: 'MedicationStatement',
					status: 'active',
					medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, code, display }] },
					subject: subject(),
					effectiveDateTime: at
				});
			}
			if (roll > 0.85) {
				const [code, display] = pick(VACCINES);
				resources.push({
					resourceType: 'Immunization',
					status: 'completed',
					vaccineCode: { coding: [{ system: SYSTEMS.cvx, code, display }] },
					patient: subject(),
					occurrenceDateTime: at,
					lotNumber: `L${Math.floor(random() * 1e6)}`
				});
			}
			if (visit === 1 && random() < 0.3)
				resources.push({
					resourceType: 'AllergyIntolerance',
					clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
					code: { coding: [{ system: SYSTEMS.rxnorm, code: '7980', display: 'Penicillin G' }] },
					patient: subject(),
					criticality: 'high',
					recordedDate: at
				});
			for (const resource of resources.slice(0, perPatient - made)) entry.push({ resource });
			made += Math.min(resources.length, perPatient - made);
		}
	}
	return { resourceType: 'Bundle', type: 'collection', entry };
}
