/**
 * The encounter form's input as FHIR R4 resources: the Encounter, a note
 * (DocumentReference, text/plain), vital signs (Observation, LOINC + UCUM), a diagnosis
 * (Condition, ICD-10), a medication (MedicationStatement, RxNorm), an allergy
 * (AllergyIntolerance) and an immunization (Immunization, CVX, with lot). Empty parts are
 * left out; what is entered is validated by {@link validateResource} when sealed.
 */
import type {
	AllergyIntolerance,
	Condition,
	DocumentReference,
	Encounter,
	Immunization,
	MedicationStatement,
	Observation
} from '@medplum/fhirtypes';
import { SYSTEMS, VITALS, type ClinicalResource } from './fhir.js';

export type VitalKey = (typeof VITALS)[number]['key'];

export interface EncounterInput {
	readonly patient: string;
	/** ISO date-time of the visit. */
	readonly start: string;
	readonly reason: string;
	readonly note: string;
	readonly vitals: Partial<Record<VitalKey, string>>;
	readonly diagnosis: { code: string; text: string };
	readonly medication: { code: string; text: string };
	readonly allergy: { code: string; text: string; criticality: '' | 'low' | 'high' };
	readonly immunization: { code: string; text: string; lot: string };
}

const base64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** The resources an encounter form records, the Encounter first. */
export function encounterResources(input: EncounterInput): ClinicalResource[] {
	const subject = { reference: `Patient/${input.patient}` };
	const at = input.start;
	const encounter: Encounter = {
		resourceType: 'Encounter',
		status: 'finished',
		class: { system: SYSTEMS.actCode, code: 'AMB', display: 'ambulatory' },
		subject,
		period: { start: at },
		...(input.reason.trim() ? { reasonCode: [{ text: input.reason.trim() }] } : {})
	};
	const out: ClinicalResource[] = [encounter];
	if (input.note.trim()) {
		const note: DocumentReference = {
			resourceType: 'DocumentReference',
			status: 'current',
			subject,
			date: at,
			description: 'Clinical note',
			content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64(input.note.trim()), title: 'Clinical note' } }]
		};
		out.push(note);
	}
	for (const vital of VITALS) {
		const raw = input.vitals[vital.key]?.trim();
		if (!raw) continue;
		const value = Number(raw.replace(',', '.'));
		const observation: Observation = {
			resourceType: 'Observation',
			status: 'final',
			category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs' }] }],
			code: { coding: [{ system: SYSTEMS.loinc, code: vital.code, display: vital.display }] },
			subject,
			effectiveDateTime: at,
			valueQuantity: {
				value: Number.isFinite(value) ? value : (raw as unknown as number),
				unit: vital.unit,
				system: SYSTEMS.ucum,
				code: vital.unit
			}
		};
		out.push(observation);
	}
	if (input.diagnosis.code.trim() || input.diagnosis.text.trim()) {
		const condition: Condition = {
			resourceType: 'Condition',
			code: {
				coding: [
					{
						system: SYSTEMS.icd10,
						code: input.diagnosis.code.trim().toUpperCase(),
						...(input.diagnosis.text.trim() ? { display: input.diagnosis.text.trim() } : {})
					}
				]
			},
			subject,
			recordedDate: at,
			clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }
		};
		out.push(condition);
	}
	if (input.medication.code.trim() || input.medication.text.trim()) {
		const medication: MedicationStatement = {
			resourceType: 'MedicationStatement',
			status: 'active',
			medicationCodeableConcept: {
				coding: [
					{
						system: SYSTEMS.rxnorm,
						code: input.medication.code.trim(),
						...(input.medication.text.trim() ? { display: input.medication.text.trim() } : {})
					}
				]
			},
			subject,
			effectiveDateTime: at
		};
		out.push(medication);
	}
	if (input.allergy.code.trim() || input.allergy.text.trim()) {
		const allergy: AllergyIntolerance = {
			resourceType: 'AllergyIntolerance',
			clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
			code: {
				coding: [
					{
						system: SYSTEMS.rxnorm,
						code: input.allergy.code.trim(),
						...(input.allergy.text.trim() ? { display: input.allergy.text.trim() } : {})
					}
				]
			},
			patient: subject,
			recordedDate: at,
			...(input.allergy.criticality ? { criticality: input.allergy.criticality } : {})
		};
		out.push(allergy);
	}
	if (input.immunization.code.trim() || input.immunization.text.trim()) {
		const immunization: Immunization = {
			resourceType: 'Immunization',
			status: 'completed',
			vaccineCode: {
				coding: [
					{
						system: SYSTEMS.cvx,
						code: input.immunization.code.trim(),
						...(input.immunization.text.trim() ? { display: input.immunization.text.trim() } : {})
					}
				]
			},
			patient: subject,
			occurrenceDateTime: at,
			...(input.immunization.lot.trim() ? { lotNumber: input.immunization.lot.trim() } : {})
		};
		out.push(immunization);
	}
	return out;
}

/** The text of a note stored as a DocumentReference. */
export function noteText(doc: DocumentReference): string | null {
	const a = doc.content?.[0]?.attachment;
	if (!a?.data || !a.contentType?.startsWith('text/plain')) return null;
	try {
		return new TextDecoder().decode(Uint8Array.from(atob(a.data), (c) => c.charCodeAt(0)));
	} catch {
		return null;
	}
}
