/** Patients with their own keys, and the grants they sign, for the records attack tests. */
import { generateSecretKey, publicKeyOf, toHex, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { fixedNow } from '$lib/core/testing/fixtures.js';
import { grantMessage, grantTx, type Grant } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';

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
	const g: Grant = { id: (++grantCounter).toString(16).padStart(32, '0'), patient: patient.id, grantee, categories, purpose: 'treatment', expires: NOW + 365 * DAY, issued: NOW };
	return { id: g.id, tx: grantTx(g, signNoble(patient.seed, grantMessage(g))) };
}

export const grant = (patient: Patient, grantee: string, categories: Category[]): Tx => grantWithId(patient, grantee, categories).tx;
