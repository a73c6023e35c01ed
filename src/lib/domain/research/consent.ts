/**
 * A patient present with their key (card + PIN) consents to a study, or withdraws: the
 * transactions, signed by the patient's key through their session.
 */
import type { Tx } from '$lib/core/index.js';
import type { PatientAccess } from '../privacy/access.js';
import type { PatientSession } from '../records/patient.js';
import type { StudyRecord } from './fold.js';

/** A research grant to the study's researcher for the study's categories, and the `study.consent` linking it to the study. */
export function consentTxs(session: PatientSession, study: StudyRecord, now: number): Tx[] {
	const days = Math.max(1, Math.min(5 * 365, Math.ceil((study.ends - now) / 86_400_000)));
	const { grant, tx } = session.grant({ grantee: study.researcher, categories: study.categories, purpose: 'research', days, now });
	return [tx, session.studyConsent(study.id, grant.id)];
}

/** Revocations of every grant in force the patient linked to the study: from then on they are not counted. `access`: read for the patient. */
export function withdrawTxs(session: PatientSession, study: StudyRecord, access: PatientAccess, now: number): Tx[] {
	const held = access.grantsOf(session.patient);
	return (study.consents[session.patient] ?? [])
		.filter((id) => held.some((g) => g.id === id && !g.revoked))
		.map((id) => session.revoke(id, now));
}
