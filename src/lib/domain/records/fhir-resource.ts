/**
 * Clinical records as FHIR R4 resources (types from @medplum/fhirtypes): the types this
 * ledger keeps, the code systems and vital signs its forms use, which consent category
 * each resource falls in, whose it is, and its bytes as a record's plaintext.
 *
 * A resource's patient is the patient's ledger key: `Patient.id` is the key in hex and
 * every other resource points at it (`subject` / `patient` / `beneficiary` = `Patient/<key>`).
 */
import type {
	AllergyIntolerance,
	CarePlan,
	CareTeam,
	Claim,
	Condition,
	Coverage,
	Device,
	DiagnosticReport,
	DocumentReference,
	Encounter,
	ExplanationOfBenefit,
	Goal,
	ImagingStudy,
	Immunization,
	Medication,
	MedicationAdministration,
	MedicationRequest,
	MedicationStatement,
	Observation,
	Patient,
	Procedure,
	Resource,
	ServiceRequest
} from '@medplum/fhirtypes';
import type { Category } from '../privacy/envelope.js';
import { isObject, type Json } from './fhir-checker.js';
import { FINANCIAL_TYPES, PATIENT_ELEMENTS } from './resource-types.js';
import { sensitivityOf } from './sensitivity.js';
import type { FhirIssue } from './fhir-issue.js';

export type ClinicalResource =
	| Patient
	| Encounter
	| Observation
	| Condition
	| MedicationStatement
	| MedicationRequest
	| AllergyIntolerance
	| Immunization
	| DocumentReference
	| Procedure
	| DiagnosticReport
	| MedicationAdministration
	| Medication
	| CarePlan
	| CareTeam
	| Goal
	| ServiceRequest
	| ImagingStudy
	| Device
	| Claim
	| ExplanationOfBenefit
	| Coverage;
/** Types the clinic's forms write, with the rules of `validateResource` (fhir-rules.ts). */
export const RESOURCE_TYPES = [
	'Patient',
	'Encounter',
	'Observation',
	'Condition',
	'MedicationStatement',
	'MedicationRequest',
	'AllergyIntolerance',
	'Immunization',
	'DocumentReference'
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const SYSTEMS = {
	loinc: 'http://loinc.org',
	snomed: 'http://snomed.info/sct',
	icd10: 'http://hl7.org/fhir/sid/icd-10',
	icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
	rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
	cvx: 'http://hl7.org/fhir/sid/cvx',
	ucum: 'http://unitsofmeasure.org',
	obsCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
	actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
} as const;

/** Vital signs the encounter form records: LOINC code, display, UCUM unit and a plausible range. */
export const VITALS = [
	{ key: 'systolic', code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', min: 40, max: 300 },
	{ key: 'diastolic', code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', min: 20, max: 200 },
	{ key: 'heartRate', code: '8867-4', display: 'Heart rate', unit: '/min', min: 20, max: 300 },
	{ key: 'temperature', code: '8310-5', display: 'Body temperature', unit: 'Cel', min: 30, max: 45 },
	{ key: 'weight', code: '29463-7', display: 'Body weight', unit: 'kg', min: 0.2, max: 500 },
	{ key: 'height', code: '8302-2', display: 'Body height', unit: 'cm', min: 20, max: 280 },
	{ key: 'spo2', code: '59408-5', display: 'Oxygen saturation', unit: '%', min: 50, max: 100 }
] as const;

const LAB = (concepts: { coding?: { code?: string }[] }[] | undefined) =>
	concepts?.some((c) => c.coding?.some((x) => x.code === 'laboratory' || x.code === 'LAB')) ?? false;

/**
 * The consent category a resource is stored under: anything coded or labelled as mental
 * or sexual health goes to its own category (sensitivity.ts), claims and insurance to
 * `financial`, the rest by type.
 */
export function categoryOf(resource: ClinicalResource): Category {
	if (resource.resourceType === 'Patient') return 'demographics';
	const sensitive = sensitivityOf(resource);
	if (sensitive) return sensitive;
	if ((FINANCIAL_TYPES as readonly string[]).includes(resource.resourceType)) return 'financial';
	switch (resource.resourceType) {
		case 'Observation':
		case 'DiagnosticReport':
			return LAB(resource.category) ? 'labs' : 'encounters';
		case 'MedicationStatement':
		case 'MedicationRequest':
		case 'MedicationAdministration':
		case 'Medication':
		case 'AllergyIntolerance':
		case 'Immunization':
			return 'medications';
		default:
			return 'encounters';
	}
}

export type { FhirIssue };

/**
 * Largest attachment (decoded) in a DocumentReference: its base64 text, the rest of the
 * resource and the envelope must fit one block (MAX_BLOCK_BYTES, 6 MB). The entry form and
 * the import both enforce it.
 */
export const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

/** The patient key (hex) a resource is about, or null. */
export function patientOf(resource: Resource): string | null {
	const r = resource as unknown as Json;
	if (r.resourceType === 'Patient') return typeof r.id === 'string' ? r.id : null;
	for (const element of PATIENT_ELEMENTS) {
		const ref = isObject(r[element]) ? (r[element] as Json).reference : undefined;
		const m = typeof ref === 'string' ? /^Patient\/([0-9a-f]{64})$/.exec(ref) : null;
		if (m) return m[1]!;
	}
	return null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
/** The plaintext of a record: the resource as UTF-8 JSON. */
export const encodeResource = (resource: ClinicalResource): Uint8Array => encoder.encode(JSON.stringify(resource));
export function decodeResource(bytes: Uint8Array): ClinicalResource {
	return JSON.parse(decoder.decode(bytes)) as ClinicalResource;
}
