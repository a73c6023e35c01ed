/**
 * Claims as FHIR R4 `Claim` resources (JSON text in the transaction), checked field by
 * field with the JSON path of every fault, and reduced to what adjudication needs.
 *
 * A claim carries pseudonyms and codes, never names: the patient is `Patient/<patient
 * key hex>`, the provider `Organization/<clinic member key hex>`; `display` on those
 * references, `contained` resources and narrative `text` are refused. Each line names
 * the encounters it bills for as `Encounter/<block id hex>-<record id hex>` (the block of
 * the `record.put` that holds the encounter, and the record's id).
 */
import type { Claim, ClaimItem } from '@medplum/fhirtypes';
import { dayOf } from './dates.js';
import { MAX_CENTS, SERVICE_CODE } from './policy.js';

export const MAX_CLAIM_CHARS = 64 * 1024;
export const MAX_LINES = 50;
export const MAX_DIAGNOSES = 12;
export const CPT_SYSTEM = 'http://www.ama-assn.org/go/cpt';
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const MODIFIER_SYSTEM = 'http://www.ama-assn.org/go/cpt-modifier';

const HEX64 = '[0-9a-f]{64}';
const PATIENT_REF = new RegExp(`^Patient/(${HEX64})$`);
const PROVIDER_REF = new RegExp(`^(?:Organization|Practitioner)/(${HEX64})$`);
const ENCOUNTER_REF = new RegExp(`^Encounter/(${HEX64})-([0-9a-f]{32})$`);
const COVERAGE_REF = /^Coverage\/([A-Za-z0-9._-]{1,64})$/;
const ICD10 = /^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$/;
const MODIFIER = /^[0-9A-Z]{2}$/;
const AUTH_REF = /^[A-Za-z0-9._-]{1,64}$/;

/** An encounter a line bills for: the `record.put` block and the record id in it. */
export interface EncounterRef {
	readonly block: string;
	readonly rid: string;
}

/** One claim line as adjudication reads it. Money in cents. */
export interface ClaimLine {
	readonly seq: number;
	readonly code: string;
	readonly units: number;
	/** Billed amount for the line (units × unit price), cents. */
	readonly charge: number;
	/** Date of service, day number. */
	readonly dos: number;
	readonly modifiers: readonly string[];
	/** Diagnosis codes the line points to. */
	readonly diagnoses: readonly string[];
	readonly encounters: readonly EncounterRef[];
}

/** What a `Claim` says, reduced and checked. */
export interface ParsedClaim {
	readonly patient: string;
	readonly provider: string;
	readonly coverage: string;
	readonly preAuth: readonly string[];
	readonly diagnoses: readonly string[];
	readonly lines: readonly ClaimLine[];
	readonly billed: number;
}

/** Dollars with at most two decimals, as integer cents; null when not exact. */
export function centsOf(value: unknown): number | null {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
	const cents = Math.round(value * 100);
	if (Math.abs(cents / 100 - value) > 1e-9 || cents > MAX_CENTS) return null;
	return cents;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function codeOf(concept: unknown, path: string, errors: string[]): { code: string; system: unknown } | null {
	const coding = isObject(concept) && Array.isArray(concept.coding) ? concept.coding[0] : undefined;
	if (!isObject(coding) || typeof coding.code !== 'string') {
		errors.push(`${path}.coding[0].code: required`);
		return null;
	}
	return { code: coding.code, system: coding.system };
}

/**
 * The claim in `json`, checked; `errors` lists every fault as `path: what is wrong`
 * (empty when the claim is usable, and only then is `claim` set).
 */
export function parseClaim(json: string): { claim: ParsedClaim | null; errors: string[] } {
	const errors: string[] = [];
	if (json.length > MAX_CLAIM_CHARS) return { claim: null, errors: [`$: a claim is at most ${MAX_CLAIM_CHARS} characters`] };
	let c: unknown;
	try {
		c = JSON.parse(json);
	} catch {
		return { claim: null, errors: ['$: not JSON'] };
	}
	if (!isObject(c)) return { claim: null, errors: ['$: expected a FHIR Claim object'] };
	if (c.resourceType !== 'Claim') errors.push('resourceType: expected "Claim"');
	if (c.status !== 'active') errors.push('status: expected "active"');
	if (c.use !== 'claim') errors.push('use: expected "claim"');
	if (c.contained !== undefined) errors.push('contained: not allowed (claims carry references, never copies of records)');
	if (c.text !== undefined) errors.push('text: narrative not allowed (claims carry codes, never names)');

	const patientRef = isObject(c.patient) ? c.patient : {};
	const patient = PATIENT_REF.exec(String(patientRef.reference ?? ''))?.[1] ?? null;
	if (!patient) errors.push('patient.reference: expected Patient/<patient key, 64 hex>');
	if (patientRef.display !== undefined) errors.push('patient.display: names are not allowed on claims');
	const providerRef = isObject(c.provider) ? c.provider : {};
	const provider = PROVIDER_REF.exec(String(providerRef.reference ?? ''))?.[1] ?? null;
	if (!provider) errors.push('provider.reference: expected Organization/<clinic key, 64 hex>');
	if (providerRef.display !== undefined) errors.push('provider.display: names are not allowed on claims');

	let coverage: string | null = null;
	const preAuth: string[] = [];
	if (!Array.isArray(c.insurance) || c.insurance.length === 0) errors.push('insurance: expected at least one coverage');
	else {
		const ins = c.insurance[0];
		coverage = isObject(ins) && isObject(ins.coverage) ? (COVERAGE_REF.exec(String(ins.coverage.reference ?? ''))?.[1] ?? null) : null;
		if (!coverage) errors.push('insurance[0].coverage.reference: expected Coverage/<coverage id>');
		if (isObject(ins) && ins.preAuthRef !== undefined) {
			if (!Array.isArray(ins.preAuthRef) || ins.preAuthRef.length > 20)
				errors.push('insurance[0].preAuthRef: expected a list of authorization ids');
			else
				ins.preAuthRef.forEach((r, i) =>
					typeof r === 'string' && AUTH_REF.test(r)
						? preAuth.push(r)
						: errors.push(`insurance[0].preAuthRef[${i}]: expected an authorization id`)
				);
		}
	}

	const dxBySeq = new Map<number, string>();
	if (!Array.isArray(c.diagnosis) || c.diagnosis.length === 0 || c.diagnosis.length > MAX_DIAGNOSES)
		errors.push(`diagnosis: expected 1-${MAX_DIAGNOSES} diagnoses`);
	else
		c.diagnosis.forEach((d, i) => {
			const at = `diagnosis[${i}]`;
			if (
				!isObject(d) ||
				typeof d.sequence !== 'number' ||
				!Number.isSafeInteger(d.sequence) ||
				d.sequence < 1 ||
				dxBySeq.has(d.sequence)
			) {
				errors.push(`${at}.sequence: expected a unique positive integer`);
				return;
			}
			const coded = codeOf(d.diagnosisCodeableConcept, `${at}.diagnosisCodeableConcept`, errors);
			if (!coded) return;
			if (!ICD10.test(coded.code)) errors.push(`${at}.diagnosisCodeableConcept.coding[0].code: expected an ICD-10 code such as E11.9`);
			else dxBySeq.set(d.sequence, coded.code);
		});

	const lines: ClaimLine[] = [];
	const seqs = new Set<number>();
	if (!Array.isArray(c.item) || c.item.length === 0 || c.item.length > MAX_LINES) errors.push(`item: expected 1-${MAX_LINES} lines`);
	else
		c.item.forEach((item, i) => {
			const line = parseLine(item, `item[${i}]`, dxBySeq, errors);
			if (!line) return;
			if (seqs.has(line.seq)) errors.push(`item[${i}].sequence: ${line.seq} is used twice`);
			seqs.add(line.seq);
			lines.push(line);
		});
	const billed = lines.reduce((sum, l) => sum + l.charge, 0);
	if (c.total !== undefined) {
		const total = isObject(c.total) ? centsOf(c.total.value) : null;
		if (total === null) errors.push('total.value: expected an amount with at most 2 decimals');
		else if (errors.length === 0 && total !== billed)
			errors.push(`total.value: ${total / 100} is not the sum of the lines' net (${billed / 100})`);
	}
	if (errors.length > 0 || !patient || !provider || !coverage) return { claim: null, errors };
	return { claim: { patient, provider, coverage, preAuth, diagnoses: [...dxBySeq.values()], lines, billed }, errors };
}

function parseLine(item: unknown, at: string, dxBySeq: ReadonlyMap<number, string>, errors: string[]): ClaimLine | null {
	const before = errors.length;
	if (!isObject(item)) {
		errors.push(`${at}: expected a line item`);
		return null;
	}
	const seq = item.sequence;
	if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || seq > 999)
		errors.push(`${at}.sequence: expected a positive integer`);
	const coded = codeOf(item.productOrService, `${at}.productOrService`, errors);
	if (coded && !SERVICE_CODE.test(coded.code))
		errors.push(`${at}.productOrService.coding[0].code: expected a CPT/HCPCS code of 5 letters or digits`);
	const modifiers: string[] = [];
	if (item.modifier !== undefined) {
		if (!Array.isArray(item.modifier) || item.modifier.length > 4) errors.push(`${at}.modifier: expected at most 4 modifiers`);
		else
			item.modifier.forEach((m, j) => {
				const mc = codeOf(m, `${at}.modifier[${j}]`, errors);
				if (mc && !MODIFIER.test(mc.code)) errors.push(`${at}.modifier[${j}].coding[0].code: expected a 2-character modifier`);
				else if (mc) modifiers.push(mc.code);
			});
	}
	const quantity = isObject(item.quantity) ? item.quantity.value : undefined;
	if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1 || quantity > 999)
		errors.push(`${at}.quantity.value: expected whole units from 1 to 999`);
	const charge = isObject(item.net) ? centsOf(item.net.value) : null;
	if (charge === null) errors.push(`${at}.net.value: expected an amount with at most 2 decimals`);
	else if (isObject(item.net) && item.net.currency !== undefined && item.net.currency !== 'USD')
		errors.push(`${at}.net.currency: expected USD`);
	if (item.unitPrice !== undefined && charge !== null && typeof quantity === 'number') {
		const unit = isObject(item.unitPrice) ? centsOf(item.unitPrice.value) : null;
		if (unit === null) errors.push(`${at}.unitPrice.value: expected an amount with at most 2 decimals`);
		else if (unit * quantity !== charge) errors.push(`${at}.net.value: is not unitPrice × quantity`);
	}
	const dos = dayOf(item.servicedDate);
	if (dos === null) errors.push(`${at}.servicedDate: expected a date YYYY-MM-DD`);
	const diagnoses: string[] = [];
	if (!Array.isArray(item.diagnosisSequence) || item.diagnosisSequence.length === 0)
		errors.push(`${at}.diagnosisSequence: expected the diagnoses this line treats`);
	else
		item.diagnosisSequence.forEach((s, j) => {
			const code = typeof s === 'number' ? dxBySeq.get(s) : undefined;
			if (code === undefined) errors.push(`${at}.diagnosisSequence[${j}]: no diagnosis with this sequence`);
			else diagnoses.push(code);
		});
	const encounters: EncounterRef[] = [];
	if (!Array.isArray(item.encounter) || item.encounter.length === 0 || item.encounter.length > 8)
		errors.push(`${at}.encounter: expected 1-8 encounter references`);
	else
		item.encounter.forEach((e, j) => {
			const m = isObject(e) ? ENCOUNTER_REF.exec(String(e.reference ?? '')) : null;
			if (!m) errors.push(`${at}.encounter[${j}].reference: expected Encounter/<block id hex>-<record id hex>`);
			else encounters.push({ block: m[1]!, rid: m[2]! });
		});
	if (errors.length > before) return null;
	return { seq: seq as number, code: coded!.code, units: quantity as number, charge: charge!, dos: dos!, modifiers, diagnoses, encounters };
}

/** What a clinic fills in to bill one encounter. */
export interface ClaimForm {
	readonly patient: string;
	readonly provider: string;
	readonly coverage: string;
	readonly preAuth?: readonly string[];
	readonly diagnoses: readonly string[];
	readonly created: string;
	readonly lines: readonly {
		readonly code: string;
		readonly units: number;
		/** Cents per unit. */
		readonly unitPrice: number;
		readonly date: string;
		readonly modifiers?: readonly string[];
		readonly encounter: EncounterRef;
	}[];
}

/** A FHIR R4 Claim for a form (every line points at every diagnosis). */
export function claimResource(form: ClaimForm): Claim {
	const money = (cents: number) => ({ value: cents / 100, currency: 'USD' as const });
	const item: ClaimItem[] = form.lines.map((l, i) => ({
		sequence: i + 1,
		productOrService: { coding: [{ system: CPT_SYSTEM, code: l.code }] },
		...(l.modifiers && l.modifiers.length > 0
			? { modifier: l.modifiers.map((m) => ({ coding: [{ system: MODIFIER_SYSTEM, code: m }] })) }
			: {}),
		servicedDate: l.date,
		quantity: { value: l.units },
		unitPrice: money(l.unitPrice),
		net: money(l.unitPrice * l.units),
		diagnosisSequence: form.diagnoses.map((_, j) => j + 1),
		encounter: [{ reference: `Encounter/${l.encounter.block}-${l.encounter.rid}` }]
	}));
	return {
		resourceType: 'Claim',
		status: 'active',
		use: 'claim',
		type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
		created: form.created,
		patient: { reference: `Patient/${form.patient}` },
		provider: { reference: `Organization/${form.provider}` },
		priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
		insurance: [
			{
				sequence: 1,
				focal: true,
				coverage: { reference: `Coverage/${form.coverage}` },
				...(form.preAuth && form.preAuth.length > 0 ? { preAuthRef: [...form.preAuth] } : {})
			}
		],
		diagnosis: form.diagnoses.map((code, j) => ({
			sequence: j + 1,
			diagnosisCodeableConcept: { coding: [{ system: ICD10_SYSTEM, code }] }
		})),
		item,
		total: money(form.lines.reduce((s, l) => s + l.unitPrice * l.units, 0))
	};
}
