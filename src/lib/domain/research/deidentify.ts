/**
 * HIPAA Safe Harbor (45 CFR 164.514(b)(2)) over the facts a clinic node read. Output is
 * built field by field from an allow-list, so of the 18 identifiers none can pass:
 * names, contact points (phone, fax, email), URLs, IP addresses, identifiers of every
 * kind (SSN, record, plan, account, certificate/licence, vehicle, device and any other),
 * biometrics, photos and free text are never read (facts.ts); geography is cut to the
 * state and the ZIP3 (000 for restricted areas); dates keep only the year; ages over
 * 89 become "90+" and lose their birth year. The patient appears under a per-study
 * pseudonym: HMAC-SHA256 keyed with the study key, which the researcher never holds.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '$lib/core/index.js';
import { ageAt, type Facts, type Sex } from './facts.js';
import { zip3Of } from './zip3.js';
import { ResearchInputError } from './input-error.js';

/** Oldest age shown as a number; older is "90+". */
export const MAX_AGE = 89;

/** A patient as a researcher may see them. */
export interface DeidentifiedPatient {
	/** Per-study pseudonym (hex, 16 bytes). */
	pid: string;
	/** Whole years at the reference time, or "90+". */
	age: string;
	/** Null for patients over 89. */
	birthYear: number | null;
	sex: Sex;
	zip3: string | null;
	state: string | null;
	conditions: { code: string; year: number | null }[];
	observations: { code: string; value: number; unit: string | null; year: number | null }[];
	encounters: { year: number | null; cls: string | null }[];
}

/** The pseudonym of `patient` (hex key) in the study whose key is `studyKey`. */
export function pseudonym(studyKey: Uint8Array, patient: string): string {
	if (studyKey.length < 16) throw new ResearchInputError('studyKey: expected at least 16 bytes');
	return toHex(hmac(sha256, studyKey, fromHex(patient)).slice(0, 16));
}

const yearOf = (time: number | null) => (time === null ? null : new Date(time).getUTCFullYear());

/** Safe Harbor age: whole years up to 89, else "90+". */
export function safeHarborAge(birth: number | null, now: number): string | null {
	if (birth === null) return null;
	const age = ageAt(birth, now);
	return age > MAX_AGE ? '90+' : String(age);
}

/** De-identifies one patient's facts for a study, ages taken at `now` (UTC ms). */
export function deidentify(facts: Facts, studyKey: Uint8Array, now: number): DeidentifiedPatient {
	const age = safeHarborAge(facts.birth, now);
	const old = age === '90+';
	return {
		pid: pseudonym(studyKey, facts.patient),
		age: age ?? 'unknown',
		birthYear: old ? null : yearOf(facts.birth),
		sex: facts.sex,
		zip3: zip3Of(facts.postalCode),
		state: facts.state,
		conditions: facts.conditions.map((c) => ({ code: c.code, year: yearOf(c.time) })),
		observations: facts.observations.map((o) => ({ code: o.code, value: o.value, unit: o.unit, year: yearOf(o.time) })),
		encounters: facts.encounters.map((e) => ({ year: yearOf(e.time), cls: e.cls }))
	};
}
