// What the records tests share: two clinics and a front desk on one network, patient keys,
// signed grants and revocations, and the resources they write.
import { generateSecretKey, publicKeyOf, toHex, type Ledger } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { grantMessage, grantTx, revokeGrantTx, revokeMessage, type Grant, type Purpose } from '$lib/domain/privacy/consent.js';
import { encryptionSecretKey, type Category } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import { keySlot } from '$lib/domain/records/key-index.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { readRecord } from '$lib/domain/records/record-index.js';

export const NOW = fixedNow();
export const DAY = 86_400_000;
export const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
export const bookFor = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

export function patientKey() {
	const seed = generateSecretKey();
	return { seed, id: toHex(publicKeyOf(seed)) };
}

let grantCounter = 0;
export function grant(
	patient: ReturnType<typeof patientKey>,
	grantee: string,
	categories: Category[],
	extra: { expires?: number; purpose?: Purpose } = {}
) {
	const g: Grant = {
		id: (++grantCounter).toString(16).padStart(32, '0'),
		patient: patient.id,
		grantee,
		categories,
		purpose: extra.purpose ?? 'treatment',
		expires: extra.expires ?? NOW + 365 * DAY,
		issued: NOW
	};
	return { grant: g, tx: grantTx(g, signNoble(patient.seed, grantMessage(g))) };
}
export const revoke = (patient: ReturnType<typeof patientKey>, id: string) =>
	revokeGrantTx(patient.id, id, NOW + 1, signNoble(patient.seed, revokeMessage(patient.id, id, NOW + 1)));

export const patientResource = (id: string, family = 'Okafor'): ClinicalResource => ({
	resourceType: 'Patient',
	id,
	name: [{ family, given: ['Ada'] }],
	gender: 'female',
	birthDate: '1984-03-02'
});
export const labResult = (patient: string, marker: string): ClinicalResource => ({
	resourceType: 'Observation',
	status: 'final',
	category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
	code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c' }], text: marker },
	subject: { reference: `Patient/${patient}` },
	effectiveDateTime: '2026-11-20T09:00:00Z',
	valueQuantity: { value: 6.1, unit: '%', system: 'http://unitsofmeasure.org', code: '%' }
});
export const diagnosis = (patient: string, code: string, marker: string): ClinicalResource => ({
	resourceType: 'Condition',
	code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code }], text: marker },
	subject: { reference: `Patient/${patient}` }
});

export async function clinics() {
	const a = await foundNetwork({
		...options,
		founder: 'clinic-a',
		members: { 'clinic-b': 'clinician', 'clinic-c': 'clinician', 'desk-a': 'front-desk' }
	});
	const b = await joinNetwork(a.net, 'clinic-b', options);
	const c = await joinNetwork(a.net, 'clinic-c', options);
	await syncInto(b, a);
	await syncInto(c, a);
	return { a, b, c, A: bookFor(a, 'clinic-a'), B: bookFor(b, 'clinic-b'), C: bookFor(c, 'clinic-c') };
}

/** The key slot of the first version of record `rid`. */
export async function slotOf(ledger: Ledger, rid: string): Promise<string> {
	const record = (await readRecord(ledger, rid))!;
	const version = record.versions[0]!;
	return keySlot(record.patient, record.category, version.epoch, version.kid);
}
