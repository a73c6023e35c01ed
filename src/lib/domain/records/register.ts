/**
 * Registering a patient at the front desk: a use case the UI, the headless peer and the
 * tests call the same way. A new patient key signs the patient's grant to the clinic,
 * the Patient resource is sealed under it, and both go into ONE block: a failed register
 * (a refused resource, a grant that does not cover demographics, a refused append) leaves
 * nothing on the ledger, never a grant without its patient.
 */
import type { Patient } from '@medplum/fhirtypes';
import { CodedError, type BlockId } from '$lib/core/index.js';
import type { ScryptParams } from '../keystore.js';
import type { Category } from '../privacy/envelope.js';
import { RecordInputError, type RecordBook } from './book.js';
import { encodeCard, MIN_PIN_CHARS, newPatientKey } from './card.js';
import { displayName, encodeResource, validateResource, type ClinicalResource } from './fhir.js';
import { newPatientView } from './keyring.js';
import { PatientSession } from './patient.js';

/** How long the registration grant lasts: a clinic keeps treating its patients for years. */
export const REGISTRATION_GRANT_DAYS = 5 * 365;

export interface RegisterInput {
	readonly given: string;
	readonly family: string;
	readonly birthDate: string;
	readonly gender: 'male' | 'female' | 'other' | 'unknown';
	readonly identifier: string;
	readonly phone: string;
	readonly pin: string;
	readonly pinAgain: string;
	readonly categories: readonly Category[];
	/** Register even though a patient with the same name and birth date exists. */
	readonly confirmDuplicate: boolean;
}

export type RegisterRefusalCode = 'NO_NAME' | 'PIN_MISMATCH' | 'PIN_TOO_SHORT' | 'NO_CATEGORIES' | 'DUPLICATE_PATIENT';

/** A registration refused before anything was written; `duplicate` names the patient it may be. */
export class RegisterRefusal extends CodedError {
	override readonly name = 'RegisterRefusal';
	declare readonly code: RegisterRefusalCode;
	constructor(
		code: RegisterRefusalCode,
		message: string,
		readonly duplicate: string | null = null
	) {
		super(code, message);
	}
}

export interface Registered {
	readonly patient: string;
	readonly name: string;
	/** The key card's text, encrypted under the PIN, to print for the patient. */
	readonly card: string;
	readonly block: BlockId;
}

/** The Patient resource the desk's form describes, for patient key `patient`. */
export function patientResource(patient: string, input: RegisterInput): Patient {
	const given = input.given.trim();
	const family = input.family.trim();
	const identifier = input.identifier.trim();
	const phone = input.phone.trim();
	return {
		resourceType: 'Patient',
		id: patient,
		name: [{ ...(family ? { family } : {}), ...(given ? { given: given.split(/\s+/) } : {}) }],
		gender: input.gender,
		birthDate: input.birthDate,
		...(identifier ? { identifier: [{ system: 'urn:clinic-ledger:mrn', value: identifier }] } : {}),
		...(phone ? { telecom: [{ system: 'phone', value: phone }] } : {})
	};
}

/** The checks that need no ledger: a name, matching PINs long enough to protect a lost card, a grant. */
export function registerProblem(input: RegisterInput): RegisterRefusal | null {
	if (!input.given.trim() && !input.family.trim()) return new RegisterRefusal('NO_NAME', 'Enter the patient’s name.');
	if (input.pin !== input.pinAgain) return new RegisterRefusal('PIN_MISMATCH', 'The two PINs differ.');
	if (input.pin.length < MIN_PIN_CHARS)
		return new RegisterRefusal(
			'PIN_TOO_SHORT',
			`The card PIN needs at least ${MIN_PIN_CHARS} digits or characters: the card can be lost, and the PIN is all that protects it.`
		);
	if (input.categories.length === 0) return new RegisterRefusal('NO_CATEGORIES', 'Choose what the patient lets this clinic read.');
	return null;
}

/**
 * Registers a patient for `grantee` (the clinic's member key): checks the form, refuses
 * a likely duplicate (same name and birth date among the patients this node can read)
 * unless confirmed, then appends the grant and the sealed Patient in one block. Throws
 * {@link RegisterRefusal}, {@link RecordInputError} with JSON paths, or the ledger's
 * refusal; in every case nothing was written.
 */
export async function registerPatient(
	book: RecordBook,
	input: RegisterInput,
	options: { grantee: string; now?: number; cardParams?: ScryptParams }
): Promise<Registered> {
	const problem = registerProblem(input);
	if (problem) throw problem;
	const now = options.now ?? Date.now();
	const wanted = [input.given.trim(), input.family.trim()].join(' ').trim().toLowerCase();
	if (!input.confirmDuplicate) {
		for (const [patient, resource] of await book.demographics(now)) {
			const existing = resource as Patient;
			if (existing.birthDate !== input.birthDate || displayName(existing).toLowerCase() !== wanted) continue;
			throw new RegisterRefusal(
				'DUPLICATE_PATIENT',
				`A patient named ${displayName(existing)}, born ${existing.birthDate}, is already registered. Open that chart, or confirm this is a different person.`,
				patient
			);
		}
	}
	const { seed, patient } = newPatientKey();
	const session = new PatientSession(seed.slice());
	try {
		const resource = patientResource(patient, input);
		// Checked before the slow card encryption runs.
		const issues = validateResource(resource, '$', patient);
		if (issues.length) throw new RecordInputError(issues);
		const { grant, tx } = session.grant({
			grantee: options.grantee,
			categories: input.categories,
			purpose: 'treatment',
			days: REGISTRATION_GRANT_DAYS,
			now
		});
		// Sealed against the grant being written with it: the ledger does not hold it yet.
		const sealed = book.keyring.sealRecordTxs(newPatientView(await book.view(), grant), {
			patient,
			category: 'demographics',
			plaintext: encodeResource(resource as ClinicalResource),
			now
		});
		const card = await encodeCard(seed, input.pin, { createdAt: now, ...(options.cardParams ? { params: options.cardParams } : {}) });
		const block = await book.ledger.append([tx, ...sealed.txs]);
		return { patient, name: displayName(resource), card, block: block.id };
	} finally {
		session.close();
		seed.fill(0);
	}
}
