/**
 * Which records are mental or sexual health, whatever system coded them: ICD-10 and
 * ICD-10-CM (chapter F; A50-A64, B20, Z21), SNOMED CT (the concepts listed here, the ones
 * clinical systems and Synthea use for these conditions), and the HL7 sensitivity labels
 * in `meta.security` (PSY, ETH, HIV, STD…). Every coding anywhere in the resource counts:
 * a claim line or an encounter reason coded as depression is as revealing as the
 * diagnosis itself. Such records are sealed under their own category, which an ordinary
 * grant does not open (docs/privacy.md).
 */
import type { Category } from '../privacy/envelope.js';
import { isObject } from './json-input.js';

export type SensitiveCategory = Extract<Category, 'mental-health' | 'sexual-health'>;

export const ICD10_SYSTEMS = ['http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-cm'] as const;
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** SNOMED CT concepts of mental health and substance use disorders. */
const SNOMED_MENTAL = new Set([
	'35489007', // depressive disorder
	'370143000', // major depressive disorder
	'36923009', // major depression, single episode
	'66344007', // recurrent major depression
	'191616006', // recurrent depression
	'310495003', // mild depression
	'310496002', // moderate depression
	'197480006', // anxiety disorder
	'48694002', // anxiety
	'21897009', // generalized anxiety disorder
	'47505003', // posttraumatic stress disorder
	'58214004', // schizophrenia
	'13746004', // bipolar disorder
	'191736004', // obsessive-compulsive disorder
	'72366004', // eating disorder
	'7200002', // alcoholism
	'66590003', // alcohol dependence
	'26416006', // drug abuse
	'5602001', // opioid abuse
	'6525002', // dependent drug abuse
	'55680006', // drug overdose
	'231477003' // heroin dependence
]);
/** SNOMED CT concepts of HIV and sexually transmitted infections. */
const SNOMED_SEXUAL = new Set([
	'86406008', // HIV infection
	'165816005', // HIV positive
	'62479008', // AIDS
	'91947003', // asymptomatic HIV infection
	'8098009', // sexually transmitted infectious disease
	'76272004', // syphilis
	'15628003', // gonorrhea
	'105629000', // chlamydial infection
	'240589008', // Chlamydia trachomatis infection
	'33839006', // genital herpes simplex
	'240532009' // human papilloma virus infection
]);
/** HL7 v3 ActCode sensitivity labels, as they appear in `meta.security`. */
const LABELS: Record<string, SensitiveCategory> = {
	PSY: 'mental-health',
	PSYTHPN: 'mental-health',
	BH: 'mental-health',
	ETH: 'mental-health',
	ETHUD: 'mental-health',
	SUD: 'mental-health',
	OPIOIDUD: 'mental-health',
	HIV: 'sexual-health',
	STD: 'sexual-health',
	SEX: 'sexual-health',
	SDV: 'sexual-health'
};

/** The sensitive category of one coding; null for anything else. */
export function codingCategory(system: unknown, code: unknown): SensitiveCategory | null {
	if (typeof code !== 'string' || typeof system !== 'string') return null;
	if ((ICD10_SYSTEMS as readonly string[]).includes(system)) {
		const c = code.toUpperCase();
		if (/^F\d/.test(c)) return 'mental-health';
		if (/^(A5\d|A6[0-4]|B20|Z21)/.test(c)) return 'sexual-health';
		return null;
	}
	if (system === SNOMED_SYSTEM) return SNOMED_MENTAL.has(code) ? 'mental-health' : SNOMED_SEXUAL.has(code) ? 'sexual-health' : null;
	if (system === ACT_CODE_SYSTEM) return LABELS[code] ?? null;
	return null;
}

/**
 * The sensitive category of a resource from every coding in it (security labels
 * included); mental health first when both occur. Null when nothing in it is sensitive.
 */
export function sensitivityOf(resource: unknown): SensitiveCategory | null {
	let found: SensitiveCategory | null = null;
	const stack: unknown[] = [resource];
	while (stack.length) {
		const v = stack.pop();
		if (Array.isArray(v)) stack.push(...v);
		else if (isObject(v)) {
			const category = codingCategory(v.system, v.code);
			if (category === 'mental-health') return category;
			found ??= category;
			stack.push(...Object.values(v));
		}
	}
	return found;
}

/** Whether `meta.security` marks the resource restricted (R) or very restricted (V) without naming a topic: shown as a warning. */
export function restrictedWithoutTopic(resource: unknown): boolean {
	const security = isObject(resource) && isObject(resource.meta) && Array.isArray(resource.meta.security) ? resource.meta.security : [];
	return (
		security.some((s) => isObject(s) && s.system === CONFIDENTIALITY_SYSTEM && (s.code === 'R' || s.code === 'V')) &&
		sensitivityOf({ security }) === null
	);
}
