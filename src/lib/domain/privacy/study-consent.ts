/**
 * The patient-signed half of `study.consent` (research/study.ts holds its rule): what the
 * patient signs and the transaction carrying it. Here, below both records and research,
 * because the patient session (records/patient.ts) signs it and the study rule checks it.
 */
import { encodeCanonical, fromHex, type Tx } from '$lib/core/index.js';

const CONSENT_DOMAIN = new TextEncoder().encode('clinic-ledger/study-consent/v1');

/** What a patient signs to put grant `grant` towards study `study`. */
export const studyConsentMessage = (study: string, grant: string, patient: string) =>
	new Uint8Array([...CONSENT_DOMAIN, ...encodeCanonical({ study, grant, patient })]);

export function studyConsentTx(study: string, grant: string, patient: string, signature: Uint8Array): Tx {
	return { t: 'study.consent', study: fromHex(study), grant: fromHex(grant), patient: fromHex(patient), sig: signature };
}
