/**
 * What the research code reads from a patient's FHIR R4 resources, at the clinic node
 * that may decrypt them: birth date, sex, address ZIP and state, coded conditions,
 * numeric observations and encounters. Reading is by allow-list: a field not named here
 * is never read, so names, identifiers, contact points, photos, narrative and notes never
 * enter the research path at all.
 */
import type { CodeableConcept, Condition, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';

/** One patient's decrypted resources, as the record store hands them over. */
export interface PatientRecords {
	/** Patient key (hex). */
	readonly patient: string;
	readonly resources: readonly Resource[];
}

export type Sex = 'male' | 'female' | 'other' | 'unknown';

/** Identifiable facts: they never leave the node that read them. */
export interface Facts {
	patient: string;
	/** Birth date as UTC ms at midnight (month and day default to 1 July when absent), or null. */
	birth: number | null;
	sex: Sex;
	postalCode: string | null;
	/** Two-letter US state, when given. */
	state: string | null;
	conditions: { code: string; time: number | null }[];
	observations: { code: string; value: number; unit: string | null; time: number | null }[];
	encounters: { time: number | null; cls: string | null }[];
}

/** Code systems the research path keeps, by short name; codings of other systems are dropped. */
export const CODE_SYSTEMS: Readonly<Record<string, string>> = {
	SNOMED: 'http://snomed.info/sct',
	LOINC: 'http://loinc.org',
	ICD10: 'http://hl7.org/fhir/sid/icd-10',
	'ICD10-CM': 'http://hl7.org/fhir/sid/icd-10-cm',
	RXNORM: 'http://www.nlm.nih.gov/research/umls/rxnorm'
};
const SHORT_NAMES = new Map(Object.entries(CODE_SYSTEMS).map(([name, url]) => [url, name]));
/** What a code of each system looks like; a value of another shape (an identifier typed into a code) is dropped. */
const CODE_SHAPES: Readonly<Record<string, RegExp>> = {
	SNOMED: /^\d{6,18}$/,
	LOINC: /^\d{1,7}-\d$/,
	ICD10: /^[A-Z]\d{2}(?:\.[A-Z0-9]{1,4})?$/,
	'ICD10-CM': /^[A-Z]\d{2}(?:\.[A-Z0-9]{1,4})?$/,
	RXNORM: /^\d{1,10}$/
};
/** Encounter class codes (v3 ActCode): a few capital letters. */
const CLASS_CODE = /^[A-Z]{2,8}$/;
const UNIT = /^[A-Za-z0-9%/.*[\]{}^-]{1,20}$/;

/** Codes of a concept as `SYSTEM|code`, for the known systems only. */
export function codesOf(concept: CodeableConcept | undefined): string[] {
	const codes: string[] = [];
	for (const coding of concept?.coding ?? []) {
		const system = SHORT_NAMES.get(coding.system ?? '');
		if (system && typeof coding.code === 'string' && CODE_SHAPES[system]!.test(coding.code)) codes.push(`${system}|${coding.code}`);
	}
	return codes;
}

/** UTC ms of a FHIR date or dateTime (year, year-month or full), or null. Missing month/day: 1 July / 1st. */
export function timeOf(value: string | undefined): number | null {
	if (typeof value !== 'string') return null;
	const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
	if (!m) return null;
	const year = Number(m[1]);
	const month = m[2] ? Number(m[2]) - 1 : 6;
	const day = m[3] ? Number(m[3]) : 1;
	const time = Date.UTC(year, month, day);
	return Number.isFinite(time) ? time : null;
}

/** Whole years between `birth` and `now` (both UTC ms). */
export function ageAt(birth: number, now: number): number {
	const b = new Date(birth);
	const n = new Date(now);
	let age = n.getUTCFullYear() - b.getUTCFullYear();
	if (n.getUTCMonth() < b.getUTCMonth() || (n.getUTCMonth() === b.getUTCMonth() && n.getUTCDate() < b.getUTCDate())) age--;
	return Math.max(0, age);
}

const SEXES: readonly string[] = ['male', 'female', 'other', 'unknown'];

/** The facts of one patient's resources (allow-list reading). */
export function factsOf(records: PatientRecords): Facts {
	const facts: Facts = {
		patient: records.patient,
		birth: null,
		sex: 'unknown',
		postalCode: null,
		state: null,
		conditions: [],
		observations: [],
		encounters: []
	};
	for (const resource of records.resources) {
		switch (resource.resourceType) {
			case 'Patient': {
				const p = resource as Patient;
				facts.birth = timeOf(p.birthDate);
				facts.sex = SEXES.includes(p.gender ?? '') ? (p.gender as Sex) : 'unknown';
				const address = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
				facts.postalCode = address?.postalCode ?? null;
				facts.state = typeof address?.state === 'string' && /^[A-Z]{2}$/.test(address.state) ? address.state : null;
				break;
			}
			case 'Condition': {
				const c = resource as Condition;
				const time = timeOf(c.onsetDateTime ?? c.recordedDate);
				for (const code of codesOf(c.code)) facts.conditions.push({ code, time });
				break;
			}
			case 'Observation': {
				const o = resource as Observation;
				const value = o.valueQuantity?.value;
				if (typeof value !== 'number' || !Number.isFinite(value)) break;
				const unit = o.valueQuantity?.code ?? o.valueQuantity?.unit;
				const time = timeOf(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued);
				for (const code of codesOf(o.code))
					facts.observations.push({ code, value, unit: typeof unit === 'string' && UNIT.test(unit) ? unit : null, time });
				break;
			}
			case 'Encounter': {
				const e = resource as Encounter;
				const cls = e.class?.code;
				facts.encounters.push({ time: timeOf(e.period?.start), cls: typeof cls === 'string' && CLASS_CODE.test(cls) ? cls : null });
				break;
			}
		}
	}
	return facts;
}
