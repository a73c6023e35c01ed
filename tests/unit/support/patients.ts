/** Patients with their own keys, the grants they sign and a lab result, for the records attack tests. */
import { generateSecretKey, publicKeyOf, toHex, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { fixedNow } from '$lib/core/testing/fixtures.js';
import { grantMessage, grantTx, type Grant } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';

const NOW = fixedNow();
const DAY = 86_400_000;

export function patientKey() {
	const seed = generateSecretKey();
	return { seed, id: toHex(publicKeyOf(seed)) };
}
export type Patient = ReturnType<typeof patientKey>;

let grantCounter = 0;

/** A year-long treatment grant signed by `patient` for `grantee`, with its id. */
export function grantWithId(patient: Patient, grantee: string, categories: Category[]): { id: string; tx: Tx } {
	const g: Grant = {
		id: (++grantCounter).toString(16).padStart(32, '0'),
		patient: patient.id,
		grantee,
		categories,
		purpose: 'treatment',
		expires: NOW + 365 * DAY,
		issued: NOW
	};
	return { id: g.id, tx: grantTx(g, signNoble(patient.seed, grantMessage(g))) };
}

export const grant = (patient: Patient, grantee: string, categories: Category[]): Tx => grantWithId(patient, grantee, categories).tx;

/** An HbA1c result of `patient`, `text` naming it. */
export const labResult = (patient: string, text: string): ClinicalResource => ({
	resourceType: 'Observation',
	status: 'final',
	category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
	code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c' }], text },
	subject: { reference: `Patient/${patient}` },
	effectiveDateTime: '2026-11-20T09:00:00Z',
	valueQuantity: { value: 6.1, unit: '%', system: 'http://unitsofmeasure.org', code: '%' }
});
