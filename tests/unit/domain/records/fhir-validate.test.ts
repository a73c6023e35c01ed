import { describe, expect, it } from 'vitest';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { CATEGORIES, encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { MAX_RESOURCE_BYTES, planImport, runImport } from '$lib/domain/records/bundle.js';
import { MAX_ATTACHMENT_BYTES } from '$lib/domain/records/fhir.js';
import { MAX_DEPTH, textDepth } from '$lib/domain/records/json-input.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import shipped from '$lib/domain/records/r4-definitions.json';
import { STORED_TYPES } from '$lib/domain/records/resource-types.js';

type Json = Record<string, unknown>;
const NOW = fixedNow();
const PATIENT_URL = 'urn:uuid:11111111-1111-4111-8111-111111111111';
const subject = { reference: PATIENT_URL };
const patient = (extra: Json = {}): Json => ({
	resourceType: 'Patient',
	name: [{ family: 'Okafor', given: ['Amina'] }],
	birthDate: '1980-04-12',
	...extra
});
const observation = (extra: Json = {}): Json => ({
	resourceType: 'Observation',
	status: 'final',
	code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
	subject,
	effectiveDateTime: '2024-05-01T09:30:00Z',
	valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
	...extra
});
const encounter = (extra: Json = {}): Json => ({
	resourceType: 'Encounter',
	status: 'finished',
	class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
	subject,
	...extra
});
/** A collection Bundle: the Patient first, then `resources`. */
const bundleOf = (resources: Json[], patientResource: Json = patient(), type = 'collection'): Json => ({
	resourceType: 'Bundle',
	type,
	entry: [
		{ fullUrl: PATIENT_URL, resource: patientResource },
		...resources.map((resource, i) => ({ fullUrl: `urn:uuid:22222222-2222-4222-8222-${String(i).padStart(12, '0')}`, resource }))
	]
});

async function refusedWithNothingWritten(input: string | Json) {
	const ledger = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, founder: 'clinic-a' });
	const book = new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
	const plan = planImport(input);
	const size = ledger.size;
	await expect(runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES, now: NOW })).rejects.toThrow(
		/nothing was imported/
	);
	expect(ledger.size).toBe(size);
	return plan.issues;
}

describe('invalid R4 is refused with the path of the error, and nothing is written', () => {
	const cases: [string, string | Json, string, RegExp][] = [
		['an unknown element', bundleOf([observation({ colour: 'red' })]), '$.entry[1].resource.colour', /additional property/],
		['a wrong JSON type', bundleOf([], patient({ birthDate: 19800412 })), '$.entry[0].resource.birthDate', /JSON type/],
		[
			'an extension without url',
			bundleOf([], patient({ extension: [{ valueString: 'x' }] })),
			'$.entry[0].resource.extension[0].url',
			/required/
		],
		[
			'a period ending before it starts (per-1)',
			bundleOf([encounter({ period: { start: '2024-05-02T10:00:00Z', end: '2024-05-01T10:00:00Z' } })]),
			'$.entry[1].resource.period.end',
			/per-1/
		],
		['an id with a space', bundleOf([observation({ id: 'a b' })]), '$.entry[1].resource.id', /R4 id/],
		[
			'an empty fullUrl',
			{ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: '', resource: patient() }] },
			'$.entry[0].fullUrl',
			/empty string/
		],
		['an empty string in a resource', bundleOf([], patient({ gender: '' }))!, '$.entry[0].resource.gender', /empty|Invalid/],
		[
			'an impossible date (1980-02-30)',
			bundleOf([], patient({ birthDate: '1980-02-30' })),
			'$.entry[0].resource.birthDate',
			/not a calendar date/
		],
		[
			'a dateTime without seconds',
			bundleOf([observation({ effectiveDateTime: '2024-05-01T09:30Z' })]),
			'$.entry[1].resource.effectiveDateTime',
			/dateTime/
		],
		[
			'narrative with <script>',
			bundleOf(
				[],
				patient({ text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Hi<script>alert(1)</script></div>' } })
			),
			'$.entry[0].resource.text.div',
			/active content/
		],
		[
			'narrative with an event handler',
			bundleOf(
				[],
				patient({ text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div>' } })
			),
			'$.entry[0].resource.text.div',
			/active content/
		],
		[
			'a name hidden under __proto__',
			`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"${PATIENT_URL}","resource":{"resourceType":"Patient","__proto__":{"name":[{"family":"Hidden"}]}}}]}`,
			'$.entry[0].resource.__proto__',
			/prototype key/
		],
		[
			'a value under a nested __proto__',
			`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"${PATIENT_URL}","resource":{"resourceType":"Patient","name":[{"__proto__":{"family":"Hidden"}}]}}]}`,
			'$.entry[0].resource.name[0].__proto__',
			/prototype key/
		],
		[
			'constructor as a key',
			`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"${PATIENT_URL}","resource":{"resourceType":"Patient","constructor":{"x":1}}}]}`,
			'$.entry[0].resource.constructor',
			/prototype key/
		],
		[
			'a 10,000-deep document',
			`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","extension":${'['.repeat(10_000)}${']'.repeat(10_000)}}}]}`,
			'$',
			/deeper than/
		],
		[
			'a resource larger than one block',
			bundleOf([observation({ valueString: 'x'.repeat(MAX_RESOURCE_BYTES), valueQuantity: undefined })]),
			'$.entry[1].resource',
			/larger than one record/
		],
		[
			'an attachment that cannot fit one block (4.9 MB)',
			bundleOf([
				{
					resourceType: 'DocumentReference',
					status: 'current',
					subject,
					content: [{ attachment: { contentType: 'application/pdf', data: 'A'.repeat(Math.ceil((4.9 * 1024 * 1024 * 4) / 3 / 4) * 4) } }]
				}
			]),
			'$.entry[1].resource.content[0].attachment.data',
			/attachment larger than/
		],
		[
			'DELETE in a transaction',
			{
				...bundleOf([], patient(), 'transaction'),
				entry: [{ fullUrl: PATIENT_URL, resource: patient(), request: { method: 'DELETE', url: 'Patient/1' } }]
			},
			'$.entry[0].request.method',
			/append-only/
		],
		[
			'a conditional create',
			{
				...bundleOf([], patient(), 'transaction'),
				entry: [{ fullUrl: PATIENT_URL, resource: patient(), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=x|1' } }]
			},
			'$.entry[0].request.ifNoneExist',
			/conditional/
		],
		['a transaction entry without request', { ...bundleOf([], patient(), 'transaction') }, '$.entry[0].request', /bdl-3/],
		[
			'a POST to another type',
			{
				...bundleOf([], patient(), 'transaction'),
				entry: [{ fullUrl: PATIENT_URL, resource: patient(), request: { method: 'POST', url: 'Observation' } }]
			},
			'$.entry[0].request.url',
			/POST of a Patient/
		],
		[
			'a conditional reference',
			bundleOf([observation({ performer: [{ reference: 'Practitioner?identifier=x|1' }] })]),
			'$.entry[1].resource',
			/conditional reference/
		],
		[
			'a record about no patient in the Bundle',
			bundleOf([observation({ subject: { reference: 'Patient/elsewhere' } })]),
			'$.entry[1].resource',
			/about no Patient/
		],
		[
			'a type the ledger does not keep',
			bundleOf([{ resourceType: 'Basic', code: { text: 'x' } }]),
			'$.entry[1].resource.resourceType',
			/not a resource type/
		],
		[
			'a code outside its required value set',
			bundleOf([encounter({ status: 'done' })]),
			'$.entry[1].resource.status',
			/required value set/
		],
		[
			'a code outside its required value set, in a list',
			bundleOf([
				{
					resourceType: 'AllergyIntolerance',
					patient: subject,
					clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
					code: { text: 'Penicillin' },
					category: ['food', 'poison']
				}
			]),
			'$.entry[1].resource.category[1]',
			/required value set/
		],
		[
			'two entries with one fullUrl',
			{
				resourceType: 'Bundle',
				type: 'collection',
				entry: [
					{ fullUrl: PATIENT_URL, resource: patient() },
					{ fullUrl: PATIENT_URL, resource: patient() }
				]
			},
			'$.entry[1].fullUrl',
			/bdl-7/
		]
	];
	it.each(cases)('%s', async (_label, input, path, message) => {
		const issues = await refusedWithNothingWritten(input);
		expect(
			issues.some((i) => i.path === path && message.test(i.message)),
			JSON.stringify(issues, null, 1)
		).toBe(true);
	});

	it('the depth check counts on the text, outside strings, and stops early', () => {
		expect(textDepth('{"a":"[[[[{{{{","b":[1,[2]]}')).toBe(3);
		expect(textDepth('{"a":"\\"[[["}')).toBe(1);
		expect(textDepth('['.repeat(1_000_000))).toBe(MAX_DEPTH + 1);
	});

	it('the attachment limit keeps a DocumentReference within one record', () => {
		expect(Math.ceil(MAX_ATTACHMENT_BYTES / 3) * 4 + 64 * 1024).toBeLessThan(MAX_RESOURCE_BYTES);
	});
});

describe('valid R4 the clinic forms would not write is accepted (clinic rules only warn)', () => {
	const cases: [string, Json][] = [
		[
			'a blood-pressure panel with components and no value[x]',
			bundleOf([
				observation({
					code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
					valueQuantity: undefined,
					component: [
						{
							code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
							valueQuantity: { value: 120, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }
						},
						{
							code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
							valueQuantity: { value: 80, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }
						}
					]
				})
			])
		],
		[
			'effectivePeriod',
			bundleOf([
				observation({ effectiveDateTime: undefined, effectivePeriod: { start: '2024-05-01T09:00:00Z', end: '2024-05-01T10:00:00Z' } })
			])
		],
		[
			'ICD-10-CM',
			bundleOf([{ resourceType: 'Condition', subject, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' }] } }])
		],
		[
			'an Immunization coded by another national register',
			bundleOf([
				{
					resourceType: 'Immunization',
					status: 'completed',
					patient: subject,
					vaccineCode: { coding: [{ system: 'urn:oid:1.2.36.1.2001.1005.17', code: 'FLUVAX' }] },
					occurrenceDateTime: '2024-05-01'
				}
			])
		],
		[
			'medicationReference to a Medication in the Bundle',
			bundleOf([
				{ resourceType: 'Medication', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975' }] } },
				{
					resourceType: 'MedicationRequest',
					status: 'active',
					intent: 'order',
					subject,
					medicationReference: { reference: 'urn:uuid:22222222-2222-4222-8222-000000000000' }
				}
			])
		],
		[
			'a weight in [lb_av]',
			bundleOf([observation({ valueQuantity: { value: 154, unit: 'lb', system: 'http://unitsofmeasure.org', code: '[lb_av]' } })])
		],
		['an Encounter without period', bundleOf([encounter()])],
		['a Patient without birthDate', bundleOf([], patient({ birthDate: undefined }))],
		['a partial date (2015)', bundleOf([{ resourceType: 'Condition', subject, code: { text: 'Asthma' }, onsetDateTime: '2015' }])],
		[
			'a lot number over 20 characters',
			bundleOf([
				{
					resourceType: 'Immunization',
					status: 'completed',
					patient: subject,
					vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '140' }] },
					occurrenceDateTime: '2024-05-01',
					lotNumber: 'LOT-2024-0501-ABCDEFGHIJ-123'
				}
			])
		],
		['a leap day', bundleOf([], patient({ birthDate: '1980-02-29' }))]
	];
	it.each(cases)('%s', async (_label, input) => {
		const clean = JSON.parse(JSON.stringify(input)) as Json;
		const ledger = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, founder: 'clinic-a' });
		const book = new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		const plan = planImport(clean);
		expect(plan.issues).toEqual([]);
		const result = await runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES, now: NOW });
		expect(result.records).toBe((clean.entry as unknown[]).length);
	});
});

describe('the shipped R4 definitions', () => {
	it('hold a StructureDefinition for every stored type (regenerate with node scripts/fhir-definitions.js)', () => {
		const names = new Set(
			(shipped.definitions as { name: string; kind: string }[]).filter((d) => d.kind === 'resource').map((d) => d.name)
		);
		for (const type of STORED_TYPES) expect(names.has(type), type).toBe(true);
		expect(names.size).toBe(STORED_TYPES.length + 2); // + Resource and DomainResource
	});
});
