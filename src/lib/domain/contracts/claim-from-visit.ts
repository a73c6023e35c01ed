/**
 * "Bill this visit": the claim draft a visit implies. Patient, encounter, date of service
 * and diagnoses come from the visit; coverage from the patient's enrollments in force on
 * that date. What the visit cannot supply is named, so the form can say what to add
 * instead of failing at submission.
 */
import type { Visit } from '../records/visit.js';
import type { EncounterRef } from './claim.js';
import { MAX_DIAGNOSES } from './claim.js';
import { dayOf } from './dates.js';
import type { Coverage } from './claims-state.js';

export interface ClaimDraft {
	readonly patient: string;
	/** The coverage id in force on the date of service, or '' when none is. */
	readonly coverage: string;
	readonly diagnoses: readonly string[];
	/** Date of service, `YYYY-MM-DD`, or '' when the visit has no date. */
	readonly serviceDate: string;
	readonly encounter: EncounterRef;
}

export type DraftGap = 'coverage' | 'diagnoses' | 'service-date';

export interface ClaimFromVisit {
	readonly draft: ClaimDraft;
	/** What the person still has to supply, each with a sentence saying so. */
	readonly missing: readonly { readonly field: DraftGap; readonly message: string }[];
}

/** Coverages of `patient` in force on `day`, the latest start first (ties by id). */
export function coveragesOn(coverages: Readonly<Record<string, Coverage>>, patient: string, day: number): Coverage[] {
	return Object.values(coverages)
		.filter((c) => c.patient === patient && c.start <= day && (c.end === null || day <= c.end))
		.sort((a, b) => b.start - a.start || a.id.localeCompare(b.id));
}

export function claimFromVisit(visit: Visit, coverages: Readonly<Record<string, Coverage>>): ClaimFromVisit {
	const serviceDate = visit.start && dayOf(visit.start.slice(0, 10)) !== null ? visit.start.slice(0, 10) : '';
	const day = serviceDate ? dayOf(serviceDate) : null;
	const coverage = day === null ? undefined : coveragesOn(coverages, visit.patient, day)[0];
	const diagnoses = visit.diagnoses.slice(0, MAX_DIAGNOSES);
	const missing: { field: DraftGap; message: string }[] = [];
	if (!serviceDate) missing.push({ field: 'service-date', message: 'The visit has no date: enter the date of service.' });
	if (!coverage)
		missing.push({
			field: 'coverage',
			message: serviceDate
				? `No coverage of this patient is in force on ${serviceDate}: the payer enrolls the patient first, or bill the patient.`
				: 'No coverage can be chosen without a date of service.'
		});
	if (diagnoses.length === 0)
		missing.push({ field: 'diagnoses', message: 'No diagnosis (Condition with an ICD-10 code) was recorded at this visit: add one.' });
	return {
		draft: {
			patient: visit.patient,
			coverage: coverage?.id ?? '',
			diagnoses,
			serviceDate,
			encounter: { block: visit.block, rid: visit.rid }
		},
		missing
	};
}
