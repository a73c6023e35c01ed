/**
 * The clinic's own rules for what its forms write (required fields, code systems, units,
 * plausible values), with the JSON path of every issue. Structural R4 validation of
 * imported data is r4-validate.ts; these rules only warn about imported data.
 */
import { Checker, DATETIME, isObject, type Json } from './fhir-checker.js';
import { MAX_ATTACHMENT_BYTES, RESOURCE_TYPES, SYSTEMS, VITALS, type FhirIssue, type ResourceType } from './fhir-resource.js';

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
