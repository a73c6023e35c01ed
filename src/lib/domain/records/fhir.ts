/**
 * Clinical records as FHIR R4 resources (types from @medplum/fhirtypes): which consent
 * category each falls in, the clinic's own rules for what its forms write (required
 * fields, code systems, units, plausible values, with the JSON path of every issue), and
 * one-line summaries for the chart. Structural R4 validation of imported data is
 * r4-validate.ts; these rules only warn about imported data.
 *
 * A resource's patient is the patient's ledger key: `Patient.id` is the key in hex and
 * every other resource points at it (`subject` / `patient` / `beneficiary` = `Patient/<key>`).
 */
import type {
	AllergyIntolerance,
	CarePlan,
	CareTeam,
	Claim,
	Condition,
	Coverage,
	Device,
	DiagnosticReport,
	DocumentReference,
	Encounter,
	ExplanationOfBenefit,
	Goal,
	ImagingStudy,
	Immunization,
	Medication,
	MedicationAdministration,
	MedicationRequest,
	MedicationStatement,
	Observation,
	Patient,
	Procedure,
	Resource,
	ServiceRequest
} from '@medplum/fhirtypes';
import type { Category } from '../privacy/envelope.js';
import { Checker, DATETIME, isObject, type Json } from './fhir-checker.js';
import { FINANCIAL_TYPES, PATIENT_ELEMENTS } from './resource-types.js';
import { sensitivityOf } from './sensitivity.js';
import type { FhirIssue } from './fhir-issue.js';

export type ClinicalResource =
	| Patient
	| Encounter
	| Observation
	| Condition
	| MedicationStatement
	| MedicationRequest
	| AllergyIntolerance
	| Immunization
	| DocumentReference
	| Procedure
	| DiagnosticReport
	| MedicationAdministration
	| Medication
	| CarePlan
	| CareTeam
	| Goal
	| ServiceRequest
	| ImagingStudy
	| Device
	| Claim
	| ExplanationOfBenefit
	| Coverage;
/** Types the clinic's forms write, with the rules of {@link validateResource}. */
export const RESOURCE_TYPES = [
	'Patient',
	'Encounter',
	'Observation',
	'Condition',
	'MedicationStatement',
	'MedicationRequest',
	'AllergyIntolerance',
	'Immunization',
	'DocumentReference'
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const SYSTEMS = {
	loinc: 'http://loinc.org',
	snomed: 'http://snomed.info/sct',
	icd10: 'http://hl7.org/fhir/sid/icd-10',
	icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
	rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
	cvx: 'http://hl7.org/fhir/sid/cvx',
	ucum: 'http://unitsofmeasure.org',
	obsCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
	actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
} as const;

/** Vital signs the encounter form records: LOINC code, display, UCUM unit and a plausible range. */
export const VITALS = [
	{ key: 'systolic', code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', min: 40, max: 300 },
	{ key: 'diastolic', code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', min: 20, max: 200 },
	{ key: 'heartRate', code: '8867-4', display: 'Heart rate', unit: '/min', min: 20, max: 300 },
	{ key: 'temperature', code: '8310-5', display: 'Body temperature', unit: 'Cel', min: 30, max: 45 },
	{ key: 'weight', code: '29463-7', display: 'Body weight', unit: 'kg', min: 0.2, max: 500 },
	{ key: 'height', code: '8302-2', display: 'Body height', unit: 'cm', min: 20, max: 280 },
	{ key: 'spo2', code: '59408-5', display: 'Oxygen saturation', unit: '%', min: 50, max: 100 }
] as const;

const LAB = (concepts: { coding?: { code?: string }[] }[] | undefined) =>
	concepts?.some((c) => c.coding?.some((x) => x.code === 'laboratory' || x.code === 'LAB')) ?? false;

/**
 * The consent category a resource is stored under: anything coded or labelled as mental
 * or sexual health goes to its own category (sensitivity.ts), claims and insurance to
 * `financial`, the rest by type.
 */
export function categoryOf(resource: ClinicalResource): Category {
	if (resource.resourceType === 'Patient') return 'demographics';
	const sensitive = sensitivityOf(resource);
	if (sensitive) return sensitive;
	if ((FINANCIAL_TYPES as readonly string[]).includes(resource.resourceType)) return 'financial';
	switch (resource.resourceType) {
		case 'Observation':
		case 'DiagnosticReport':
			return LAB(resource.category) ? 'labs' : 'encounters';
		case 'MedicationStatement':
		case 'MedicationRequest':
		case 'MedicationAdministration':
		case 'Medication':
		case 'AllergyIntolerance':
		case 'Immunization':
			return 'medications';
		default:
			return 'encounters';
	}
}

export type { FhirIssue };

/**
 * Largest attachment (decoded) in a DocumentReference: its base64 text, the rest of the
 * resource and the envelope must fit one block (MAX_BLOCK_BYTES, 6 MB). The entry form and
 * the import both enforce it.
 */
export const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

/**
 * Problems with `resource` as a record of this ledger; empty when valid. `root` prefixes
 * paths (e.g. `$.entry[3].resource`); `patient` (hex key) is the patient it must be about.
 */
export function validateResource(resource: unknown, root = '$', patient: string | null = null): FhirIssue[] {
	const c = new Checker(root);
	if (!isObject(resource)) {
		c.fail('', 'must be a JSON object');
		return c.issues;
	}
	const type = resource.resourceType;
	if (typeof type !== 'string' || !(RESOURCE_TYPES as readonly string[]).includes(type)) {
		c.fail('.resourceType', `must be one of ${RESOURCE_TYPES.join(', ')}`);
		return c.issues;
	}
	const r = resource;
	switch (type as ResourceType) {
		case 'Patient': {
			if (typeof r.id !== 'string' || !/^[0-9a-f]{64}$/.test(r.id)) c.fail('.id', 'must be the patient key (64 hex)');
			else if (patient && r.id !== patient) c.fail('.id', 'is another patient');
			if (c.required(r, 'name')) {
				(r.name as unknown[]).forEach((n, i) => {
					if (!isObject(n) || ((typeof n.family !== 'string' || !n.family.trim()) && !(Array.isArray(n.given) && n.given.length)))
						c.fail(`.name[${i}]`, 'needs a family or given name');
				});
			}
			c.oneOf(r, 'gender', ['male', 'female', 'other', 'unknown'], false);
			c.date(r, 'birthDate', 'date', true);
			c.date(r, 'deceasedDateTime', 'dateTime');
			if (r.identifier !== undefined) {
				if (!Array.isArray(r.identifier)) c.fail('.identifier', 'must be a list');
				else
					r.identifier.forEach((id, i) =>
						isObject(id) && typeof id.value === 'string' && id.value.trim() ? undefined : c.fail(`.identifier[${i}].value`, 'is required')
					);
			}
			break;
		}
		case 'Encounter':
			c.oneOf(r, 'status', [
				'planned',
				'arrived',
				'triaged',
				'in-progress',
				'onleave',
				'finished',
				'cancelled',
				'entered-in-error',
				'unknown'
			]);
			if (c.required(r, 'class')) {
				const cls = r.class as Json;
				if (!isObject(cls) || typeof cls.code !== 'string') c.fail('.class.code', 'is required');
				else if (cls.system !== SYSTEMS.actCode) c.fail('.class.system', `must be ${SYSTEMS.actCode}`);
			}
			c.reference(r, 'subject', patient);
			if (c.required(r, 'period') && isObject(r.period)) c.date(r.period, 'start', 'dateTime', true);
			if (r.period && isObject(r.period) && typeof r.period.start === 'string' && !DATETIME.test(r.period.start))
				c.fail('.period.start', 'must be a FHIR dateTime');
			break;
		case 'Observation': {
			c.oneOf(r, 'status', ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown']);
			c.concept(r, 'code', [SYSTEMS.loinc]);
			c.reference(r, 'subject', patient);
			c.date(r, 'effectiveDateTime', 'dateTime', true);
			const q = r.valueQuantity;
			if (q === undefined && r.valueString === undefined && r.valueCodeableConcept === undefined)
				c.fail('.value[x]', 'a value is required (valueQuantity, valueString or valueCodeableConcept)');
			if (q !== undefined) {
				if (!isObject(q) || typeof q.value !== 'number' || !Number.isFinite(q.value)) c.fail('.valueQuantity.value', 'must be a number');
				else {
					if (q.system !== SYSTEMS.ucum) c.fail('.valueQuantity.system', `must be UCUM (${SYSTEMS.ucum})`);
					const hasUnit = typeof q.code === 'string' && q.code !== '';
					if (!hasUnit) c.fail('.valueQuantity.code', 'a UCUM unit code is required');
					const code = (r.code as Json | undefined)?.coding as Json[] | undefined;
					const vital = VITALS.find((v) => code?.some((x) => x.code === v.code));
					if (vital && hasUnit) {
						if (q.code !== vital.unit) c.fail('.valueQuantity.code', `${vital.display} is recorded in ${vital.unit}`);
						else if ((q.value as number) < vital.min || (q.value as number) > vital.max)
							c.fail('.valueQuantity.value', `${vital.display} of ${q.value} ${vital.unit} is outside ${vital.min}-${vital.max}`);
					}
				}
			}
			break;
		}
		case 'Condition':
			c.concept(r, 'code', [SYSTEMS.icd10, SYSTEMS.snomed]);
			c.reference(r, 'subject', patient);
			c.concept(r, 'clinicalStatus', [], false);
			c.date(r, 'onsetDateTime', 'dateTime');
			c.date(r, 'recordedDate', 'dateTime');
			break;
		case 'MedicationStatement':
			c.oneOf(r, 'status', ['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold', 'unknown', 'not-taken']);
			c.concept(r, 'medicationCodeableConcept', [SYSTEMS.rxnorm]);
			c.reference(r, 'subject', patient);
			c.date(r, 'effectiveDateTime', 'dateTime');
			break;
		case 'MedicationRequest':
			c.oneOf(r, 'status', ['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown']);
			c.oneOf(r, 'intent', ['proposal', 'plan', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option']);
			c.concept(r, 'medicationCodeableConcept', [SYSTEMS.rxnorm]);
			c.reference(r, 'subject', patient);
			c.date(r, 'authoredOn', 'dateTime');
			break;
		case 'AllergyIntolerance':
			c.concept(r, 'code', [SYSTEMS.rxnorm, SYSTEMS.snomed]);
			c.reference(r, 'patient', patient);
			c.oneOf(r, 'criticality', ['low', 'high', 'unable-to-assess'], false);
			c.date(r, 'recordedDate', 'dateTime');
			break;
		case 'Immunization':
			c.oneOf(r, 'status', ['completed', 'entered-in-error', 'not-done']);
			c.concept(r, 'vaccineCode', [SYSTEMS.cvx]);
			c.reference(r, 'patient', patient);
			c.date(r, 'occurrenceDateTime', 'dateTime', true);
			if (r.lotNumber !== undefined && (typeof r.lotNumber !== 'string' || r.lotNumber.length > 20))
				c.fail('.lotNumber', 'must be up to 20 characters');
			break;
		case 'DocumentReference': {
			c.oneOf(r, 'status', ['current', 'superseded', 'entered-in-error']);
			c.reference(r, 'subject', patient);
			if (c.required(r, 'content') && Array.isArray(r.content)) {
				r.content.forEach((item, i) => {
					const a = isObject(item) ? item.attachment : undefined;
					if (!isObject(a)) return c.fail(`.content[${i}].attachment`, 'is required');
					if (typeof a.contentType !== 'string') c.fail(`.content[${i}].attachment.contentType`, 'is required');
					if (typeof a.data !== 'string') c.fail(`.content[${i}].attachment.data`, 'is required (base64)');
					else if (Math.floor((a.data.length * 3) / 4) > MAX_ATTACHMENT_BYTES)
						c.fail(`.content[${i}].attachment.data`, `is larger than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`);
				});
			}
			break;
		}
	}
	return c.issues;
}

/** The patient key (hex) a resource is about, or null. */
export function patientOf(resource: Resource): string | null {
	const r = resource as unknown as Json;
	if (r.resourceType === 'Patient') return typeof r.id === 'string' ? r.id : null;
	for (const element of PATIENT_ELEMENTS) {
		const ref = isObject(r[element]) ? (r[element] as Json).reference : undefined;
		const m = typeof ref === 'string' ? /^Patient\/([0-9a-f]{64})$/.exec(ref) : null;
		if (m) return m[1]!;
	}
	return null;
}

/** A person's name as shown in the registry. */
export function displayName(patient: Patient): string {
	const n = patient.name?.[0];
	if (!n) return '(no name)';
	return [...(n.given ?? []), n.family ?? ''].join(' ').trim() || n.text || '(no name)';
}

type Concept = { text?: string; coding?: { display?: string; code?: string }[] } | undefined;
const conceptText = (cc: Concept) => cc?.text ?? cc?.coding?.[0]?.display ?? cc?.coding?.[0]?.code ?? '';
const quantityText = (q: { value?: number; unit?: string; code?: string } | undefined) =>
	q ? `${q.value ?? ''} ${q.unit ?? q.code ?? ''}`.trim() : '';

/** The concept naming what a resource is about, for types without a form (code, type, vaccine…). */
function mainConcept(r: Json): Concept {
	for (const key of ['code', 'vaccineCode', 'medicationCodeableConcept', 'productOrService', 'type', 'category']) {
		const v = r[key];
		const first = Array.isArray(v) ? v[0] : v;
		if (isObject(first) && (Array.isArray(first.coding) || typeof first.text === 'string')) return first as Concept;
	}
	return undefined;
}

/** One line describing a resource in a chart timeline. */
export function summarize(resource: ClinicalResource): string {
	const concept = conceptText;
	switch (resource.resourceType) {
		case 'Patient':
			return `Registered: ${displayName(resource)}, born ${resource.birthDate ?? '?'}`;
		case 'Encounter':
			return `Encounter (${resource.class?.code ?? ''})${resource.reasonCode?.[0] ? `: ${concept(resource.reasonCode[0])}` : resource.type?.[0] ? `: ${concept(resource.type[0])}` : ''}`;
		case 'Observation': {
			const q = resource.valueQuantity;
			const value = q ? quantityText(q) : (resource.valueString ?? concept(resource.valueCodeableConcept));
			const parts = resource.component?.map((c) =>
				`${concept(c.code)} ${quantityText(c.valueQuantity) || (c.valueString ?? concept(c.valueCodeableConcept))}`.trim()
			);
			return `${concept(resource.code)}: ${value || parts?.join(', ') || '(no value)'}`;
		}
		case 'Condition':
			return `Diagnosis: ${concept(resource.code)}`;
		case 'MedicationStatement':
		case 'MedicationRequest':
			return `Medication: ${concept(resource.medicationCodeableConcept) || resource.medicationReference?.display || resource.medicationReference?.reference || ''}`;
		case 'AllergyIntolerance':
			return `Allergy: ${concept(resource.code)}${resource.criticality ? ` (${resource.criticality})` : ''}`;
		case 'Immunization':
			return `Immunization: ${concept(resource.vaccineCode)}${resource.lotNumber ? ` lot ${resource.lotNumber}` : ''}`;
		case 'DocumentReference':
			return `Document: ${resource.description ?? resource.content?.[0]?.attachment?.title ?? 'attachment'}`;
		case 'Claim':
		case 'ExplanationOfBenefit': {
			const total = resource.resourceType === 'Claim' ? resource.total : resource.payment?.amount;
			return `${resource.resourceType === 'Claim' ? 'Claim' : 'Explanation of benefit'}${resource.insurer?.display ? ` to ${resource.insurer.display}` : ''}${total?.value !== undefined ? `: ${total.value} ${total.currency ?? ''}`.trimEnd() : ''}`;
		}
		default:
			return `${resource.resourceType}: ${concept(mainConcept(resource as unknown as Json)) || resource.resourceType}`;
	}
}

/** Elements holding when a resource happened, in the order they are looked for. */
const WHEN = [
	'effectiveDateTime',
	'effectiveInstant',
	'effectivePeriod',
	'occurrenceDateTime',
	'performedDateTime',
	'performedPeriod',
	'period',
	'onsetDateTime',
	'authoredOn',
	'recordedDate',
	'issued',
	'started',
	'billablePeriod',
	'created',
	'date',
	'birthDate'
];

/** When a resource happened (clinically), as written in it; null when it says nothing. */
export function clinicalDate(resource: ClinicalResource): string | null {
	const r = resource as unknown as Json;
	for (const key of WHEN) {
		const v = r[key];
		if (typeof v === 'string') return v;
		if (isObject(v) && typeof v.start === 'string') return v.start;
	}
	return null;
}

/** The main code of a resource as `system|code` and its display, for the generic chart view. */
export function mainCode(resource: ClinicalResource): { system?: string; code?: string; display?: string } | null {
	const c = mainConcept(resource as unknown as Json) as
		{ coding?: { system?: string; code?: string; display?: string }[]; text?: string } | undefined;
	const coding = c?.coding?.[0];
	if (coding)
		return {
			...(coding.system ? { system: coding.system } : {}),
			...(coding.code ? { code: coding.code } : {}),
			...((coding.display ?? c?.text) ? { display: coding.display ?? c!.text! } : {})
		};
	return c?.text ? { display: c.text } : null;
}

/**
 * The narrative of a resource as plain text: tags dropped, the five XML entities and
 * numeric references decoded. Shown as text, never as HTML: imported narrative is data
 * from another system, not markup this app trusts.
 */
export function narrativeText(resource: ClinicalResource): string {
	const div = (resource as { text?: { div?: string } }).text?.div;
	if (typeof div !== 'string') return '';
	return div
		.replace(/<(br|p|div|li|tr|h[1-6])\b[^>]*>/gi, '\n')
		.replace(/<[^>]*>/g, '')
		.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
			e[0] === '#'
				? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
				: ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e.toLowerCase()]!
		)
		.replace(/[ \t]+/g, ' ')
		.replace(/\s*\n\s*/g, '\n')
		.trim();
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
/** The plaintext of a record: the resource as UTF-8 JSON. */
export const encodeResource = (resource: ClinicalResource): Uint8Array => encoder.encode(JSON.stringify(resource));
export function decodeResource(bytes: Uint8Array): ClinicalResource {
	return JSON.parse(decoder.decode(bytes)) as ClinicalResource;
}
