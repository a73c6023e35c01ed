/**
 * FHIR resources as the chart shows them: a person's name, one line per resource, when it
 * happened, its main code, and its narrative as plain text.
 */
import type { Patient } from '@medplum/fhirtypes';
import { isObject, type Json } from './fhir-checker.js';
import type { ClinicalResource } from './fhir-resource.js';

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
