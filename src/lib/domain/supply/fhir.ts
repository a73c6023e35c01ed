/**
 * An administration from the recall index as the FHIR R4 resource it stands for: an
 * Immunization (vaccines: `lotNumber`, `expirationDate`) or a MedicationAdministration
 * (the lot in a contained Medication's `batch`). The patient is referenced by the key
 * the ledger knows it by (a pseudonym), the encounter by its record's block and id.
 */
import type { CodeableConcept, Immunization, Medication, MedicationAdministration, Patient, Reference } from '@medplum/fhirtypes';
import type { AdministrationRecord, ItemState, LotState } from './entities.js';

/** GS1's identifier system for GTINs. */
export const GTIN_SYSTEM = 'https://www.gs1.org/gtin';
/** The system the ledger's patient keys are written under. */
export const PATIENT_KEY_SYSTEM = 'urn:clinic-ledger:patient-key';

export function administrationResource(
	record: AdministrationRecord,
	lot: LotState,
	item: ItemState | null
): Immunization | MedicationAdministration {
	const code: CodeableConcept = {
		coding: [{ system: GTIN_SYSTEM, code: lot.gtin, ...(item ? { display: item.name } : {}) }],
		...(item ? { text: item.name } : {})
	};
	const id = `${record.block}-${record.index}`;
	const patient: Reference<Patient> = { identifier: { system: PATIENT_KEY_SYSTEM, value: record.patient } };
	const encounter = record.encounter ? { reference: `Encounter/${record.encounter.block}-${record.encounter.rid}` } : undefined;
	const when = new Date(record.time).toISOString();
	// The dose was given: the fold's judgement (recalled or expired lot) travels as a note, and for a vaccine as sub-potency.
	const note = record.refused ? { note: [{ text: `Should not have been given: ${record.refused}` }] } : {};
	if (record.kind === 'immunization') {
		return {
			resourceType: 'Immunization',
			id,
			status: 'completed',
			vaccineCode: code,
			patient,
			...(encounter ? { encounter } : {}),
			occurrenceDateTime: when,
			lotNumber: lot.lot,
			...(lot.expiry ? { expirationDate: lot.expiry } : {}),
			doseQuantity: { value: record.qty, unit: 'dose' },
			...(record.refused ? { isSubpotent: true, subpotentReason: [{ text: record.refused }] } : {}),
			...note
		};
	}
	const medication: Medication = {
		resourceType: 'Medication',
		id: 'med',
		code,
		batch: { lotNumber: lot.lot, ...(lot.expiry ? { expirationDate: lot.expiry } : {}) }
	};
	return {
		resourceType: 'MedicationAdministration',
		id,
		status: 'completed',
		contained: [medication],
		medicationReference: { reference: '#med' },
		subject: patient,
		...(encounter ? { context: encounter } : {}),
		effectiveDateTime: when,
		dosage: { dose: { value: record.qty, unit: 'unit' } },
		...note
	};
}
