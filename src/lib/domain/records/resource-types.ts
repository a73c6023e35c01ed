/**
 * Which FHIR R4 resource types the ledger keeps, and as what: a patient's sealed records
 * (clinical or financial), the network's directory (organizations, practitioners,
 * locations: not about a patient, kept in clear), or left out on purpose (Provenance:
 * the ledger's own blocks say who wrote what). scripts/fhir-definitions.js reads
 * `STORED_TYPES` to ship the StructureDefinitions of exactly these types.
 */

/** Every type the import takes and the validator knows, plus the Bundle that carries them. */
export const STORED_TYPES = [
	'Patient',
	'Encounter',
	'Observation',
	'Condition',
	'Procedure',
	'DiagnosticReport',
	'MedicationRequest',
	'MedicationStatement',
	'MedicationAdministration',
	'Medication',
	'AllergyIntolerance',
	'Immunization',
	'DocumentReference',
	'CarePlan',
	'CareTeam',
	'Goal',
	'ServiceRequest',
	'ImagingStudy',
	'Device',
	'Claim',
	'ExplanationOfBenefit',
	'Coverage',
	'Organization',
	'Practitioner',
	'PractitionerRole',
	'Location',
	'Provenance',
	'Bundle'
] as const;
export type StoredType = (typeof STORED_TYPES)[number];

/** Shared by every clinic of the network, in clear: who and where, never a patient. */
export const DIRECTORY_TYPES = ['Organization', 'Practitioner', 'PractitionerRole', 'Location'] as const;
/** A patient's insurance and billing: sealed under the `financial` category. */
export const FINANCIAL_TYPES = ['Claim', 'ExplanationOfBenefit', 'Coverage'] as const;
/** Taken from a Bundle but not kept: the ledger records its own provenance. */
export const SKIPPED_TYPES = ['Provenance'] as const;

export type ResourceKind = 'patient' | 'record' | 'directory' | 'skipped';

const has = (list: readonly string[], type: string) => list.includes(type);

/** What the import does with a resource of `type`; null when the ledger does not keep that type. */
export function kindOf(type: string): ResourceKind | null {
	if (type === 'Patient') return 'patient';
	if (has(DIRECTORY_TYPES, type)) return 'directory';
	if (has(SKIPPED_TYPES, type)) return 'skipped';
	if (type === 'Bundle' || !has(STORED_TYPES, type)) return null;
	return 'record';
}

/** Elements naming the patient a record is about, in the order they are looked for. */
export const PATIENT_ELEMENTS = ['subject', 'patient', 'beneficiary'] as const;
