import { describe, expect, it } from 'vitest';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { authorOf, fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { fromHex, type Ledger } from '$lib/core/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { CATEGORIES, encryptionSecretKey, type Category } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { planImport, runImport, type ImportPlan } from '$lib/domain/records/bundle.js';
import { exportBundle } from '$lib/domain/records/bundle-export.js';
import type { DirectoryState } from '$lib/domain/records/directory.js';
import { categoryOf, type ClinicalResource } from '$lib/domain/records/fhir.js';
import { referencesIn } from '$lib/domain/records/json-input.js';
import { knownRecords, SOURCE_SYSTEM } from '$lib/domain/records/known.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { envelopeIssues, r4Issues } from '$lib/domain/records/r4-validate.js';
import { DIRECTORY_TYPES, FINANCIAL_TYPES } from '$lib/domain/records/resource-types.js';
import { hl7Examples, syntheaBundles } from './fhir-samples.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const NOW = fixedNow();
const bookFor = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));
const directoryOf = (ledger: Ledger) => ledger.state().directory as DirectoryState;
type Json = Record<string, unknown>;

async function clinicNode() {
	const ledger = await foundNetwork({ ...options, founder: 'clinic-a' });
	return { ledger, book: bookFor(ledger, 'clinic-a') };
}

async function importInto(
	node: { ledger: Ledger; book: RecordBook },
	input: string | unknown,
	categories: readonly Category[] = CATEGORIES
) {
	const known = await knownRecords(node.book, directoryOf(node.ledger), NOW);
	const plan = planImport(input, { known });
	expect(plan.issues).toEqual([]);
	const result = await runImport(node.book, plan, { grantee: authorOf('clinic-a'), categories, now: NOW });
	return { plan, result };
}

/** Every reference of an exported Bundle resolves by R4's rules: a fullUrl of an entry, or a contained resource. */
function unresolvedIn(bundle: Bundle): string[] {
	const urls = new Set(bundle.entry!.map((e) => e.fullUrl));
	return bundle.entry!.flatMap((e) => referencesIn(e.resource).filter((r) => !r.startsWith('#') && !urls.has(r)));
}

function exportIssues(bundle: Bundle) {
	return [...envelopeIssues(bundle as unknown as Json), ...bundle.entry!.flatMap((e, i) => r4Issues(e.resource, `$.entry[${i}].resource`))];
}

const written = (plan: ImportPlan) => Object.values(plan.counts).reduce((a, b) => a + b, 0);

describe('real FHIR data: every Synthea sample', () => {
	const samples = syntheaBundles();

	it.each(samples.map((s) => [s.name, s.text]))(
		'%s imports whole, in the right categories, with its references kept, and exports resolving',
		async (_name, text) => {
			const source = JSON.parse(text) as Bundle;
			const node = await clinicNode();
			const { plan, result } = await importInto(node, text);
			// Every entry kept: written, or skipped on purpose (Provenance).
			expect(written(plan) + plan.skipped).toBe(source.entry!.length);
			expect(plan.unchanged).toBe(0);
			const bySource = new Map(source.entry!.map((e) => [e.fullUrl!, e.resource!]));

			const directory = directoryOf(node.ledger);
			const directorySources = source.entry!.filter((e) =>
				(DIRECTORY_TYPES as readonly string[]).includes(e.resource!.resourceType)
			).length;
			expect(Object.keys(directory.entries)).toHaveLength(directorySources);
			expect(result.directory).toBe(directorySources);

			const patients = source.entry!.filter((e) => e.resource!.resourceType === 'Patient').length;
			expect(result.patients).toHaveLength(patients);
			const ledgerRefs = (await knownRecords(node.book, directory, NOW)).refs;
			for (const patient of result.patients) {
				const { records } = await node.book.chart(patient, NOW);
				const resources = records.map((r) => ({ rid: r.rid, category: r.category, resource: r.versions.at(-1)!.resource! }));
				expect(resources.every((r) => r.resource)).toBe(true);
				expect(resources).toHaveLength(source.entry!.length - directorySources - plan.skipped);
				for (const { rid, category, resource } of resources) {
					// Stored under its ledger id, with where it came from and the category its content calls for.
					const origin =
						resource.identifier &&
						(Array.isArray(resource.identifier) ? resource.identifier : [resource.identifier]).find((i) => i.system === SOURCE_SYSTEM)
							?.value;
					expect(bySource.get(origin!)?.resourceType).toBe(resource.resourceType);
					expect(resource.id).toBe(resource.resourceType === 'Patient' ? patient : rid);
					expect(category).toBe(categoryOf(resource));
					if ((FINANCIAL_TYPES as readonly string[]).includes(resource.resourceType))
						expect(['financial', 'mental-health', 'sexual-health']).toContain(category);
					if (resource.resourceType === 'Patient') expect(category).toBe('demographics');
					// Every reference names something on this ledger, or a contained resource.
					for (const ref of referencesIn(resource))
						if (!ref.startsWith('#')) expect(ledgerRefs.has(ref), `${resource.resourceType} → ${ref}`).toBe(true);
				}
				const { bundle, sealed, unresolved } = await exportBundle(node.book, patient, { now: NOW, directory });
				expect(sealed).toBe(0);
				expect(unresolved).toBe(0);
				expect(unresolvedIn(bundle)).toEqual([]);
				expect(exportIssues(bundle)).toEqual([]);

				// The export into a fresh node: the same resources, references still resolving.
				const other = await clinicNode();
				const again = await importInto(other, JSON.stringify(bundle));
				expect(again.result.records).toBe(resources.length);
				const reexported = await exportBundle(other.book, again.result.patients[0]!, { now: NOW, directory: directoryOf(other.ledger) });
				expect(unresolvedIn(reexported.bundle)).toEqual([]);
				expect(reexported.bundle.entry!.filter((e) => e.resource!.resourceType !== 'Provenance')).toHaveLength(
					bundle.entry!.filter((e) => e.resource!.resourceType !== 'Provenance').length
				);
				// And back into the first node: all of it recognized, nothing written.
				const back = planImport(JSON.stringify(bundle), { known: await knownRecords(node.book, directory, NOW) });
				expect(back.issues).toEqual([]);
				expect(back.patients).toEqual([]);
				expect(back.unchanged).toBe(bundle.entry!.length - back.skipped);
			}

			// The same file again writes nothing: no second patient with the same record number.
			const size = node.ledger.size;
			const twice = await importInto(node, text);
			expect(twice.plan.unchanged).toBe(source.entry!.length - plan.skipped);
			expect(twice.result.blocks).toBe(0);
			expect(node.ledger.size).toBe(size);
			expect(await node.book.patients()).toHaveLength(patients);
		},
		120_000
	);

	it('a Synthea patient changed at the source is amended in place on a second import, not duplicated', async () => {
		const { text } = samples.find((s) => s.name.startsWith('Carroll'))!;
		const node = await clinicNode();
		const first = await importInto(node, text);
		const patient = first.result.patients[0]!;
		const changed = JSON.parse(text) as Bundle;
		const obs = changed.entry!.find((e) => e.resource!.resourceType === 'Observation')!.resource as { status: string };
		obs.status = 'amended';
		const second = await importInto(node, changed);
		expect(second.plan.counts).toEqual({ Observation: 1 });
		const { records } = await node.book.chart(patient, NOW);
		const amended = records.filter((r) => r.versions.length === 2);
		expect(amended).toHaveLength(1);
		expect((amended[0]!.versions[1]!.resource as { status: string }).status).toBe('amended');
		expect(records).toHaveLength(first.result.records);
	}, 60_000);

	it('the directory and the records reach a second clinic over sync; records stay sealed without a grant', async () => {
		const node = await clinicNode();
		const { text } = samples.find((s) => s.name.startsWith('Gabriele'))!;
		const { result } = await importInto(node, text);
		const other = await joinNetwork(node.ledger.net, 'clinic-b', options);
		await node.ledger.append([{ t: 'member.add', key: fromHex(authorOf('clinic-b')), role: 'clinician' }]);
		await syncInto(other, node.ledger);
		expect(directoryOf(other).entries).toEqual(directoryOf(node.ledger).entries);
		const { bundle, sealed } = await exportBundle(bookFor(other, 'clinic-b'), result.patients[0]!, {
			now: NOW,
			directory: directoryOf(other)
		});
		expect(bundle.entry).toEqual([]);
		expect(sealed).toBe(result.records);
	}, 60_000);
});

describe('real FHIR data: the HL7 R4 examples', () => {
	const examples = hl7Examples();
	const patient = examples.get('patient-example.json')!;

	it('each example, wrapped with the Patient it names, imports; references to what is not in the Bundle become logical references', async () => {
		for (const [name, resource] of examples) {
			if (name === 'patient-example.json') continue;
			const entries: BundleEntry[] = [
				{ fullUrl: 'http://hl7.org/fhir/Patient/example', resource: patient as never },
				{ fullUrl: `http://hl7.org/fhir/${resource.resourceType}/${resource.id}`, resource: resource as never }
			];
			const node = await clinicNode();
			const { plan } = await importInto(node, { resourceType: 'Bundle', type: 'collection', entry: entries });
			expect(written(plan)).toBe(2);
			for (const ref of referencesIn(resource).filter((r) => r !== 'Patient/example'))
				expect(plan.warnings.map((w) => w.message)).toContain(
					`refers to ${ref}, which is neither in this Bundle nor on this ledger: kept as a logical reference`
				);
			const kept =
				resource.resourceType === 'Organization'
					? Object.values(directoryOf(node.ledger).entries)
					: (await node.book.chart((await node.book.patients())[0]!, NOW)).records;
			expect(kept.length).toBeGreaterThan(0);
			for (const patient of await node.book.patients()) {
				const { bundle } = await exportBundle(node.book, patient, { now: NOW, directory: directoryOf(node.ledger) });
				expect(unresolvedIn(bundle)).toEqual([]);
				expect(exportIssues(bundle)).toEqual([]);
				// Re-imported into a fresh node: the same records; back here: nothing new.
				const other = await clinicNode();
				const again = await importInto(other, bundle);
				expect(again.result.records).toBe((await node.book.chart(patient, NOW)).records.length);
				const back = planImport(bundle, { known: await knownRecords(node.book, directoryOf(node.ledger), NOW) });
				expect(back.patients).toEqual([]);
			}
		}
	}, 60_000);
});

describe('sensitive records are sealed under their own category, whatever the code system', () => {
	const condition = (coding: Json, extra: Json = {}) =>
		({
			resourceType: 'Condition',
			subject: { reference: 'Patient/p' },
			code: { coding: [coding] },
			...extra
		}) as unknown as ClinicalResource;
	it.each([
		['SNOMED CT depression', { system: 'http://snomed.info/sct', code: '35489007' }, 'mental-health'],
		['SNOMED CT HIV', { system: 'http://snomed.info/sct', code: '86406008' }, 'sexual-health'],
		['ICD-10-CM F32.9', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }, 'mental-health'],
		['ICD-10 B20', { system: 'http://hl7.org/fhir/sid/icd-10', code: 'B20' }, 'sexual-health'],
		['ICD-10-CM A54.9 (gonorrhea)', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'A54.9' }, 'sexual-health'],
		['SNOMED CT diabetes (ordinary)', { system: 'http://snomed.info/sct', code: '44054006' }, 'encounters'],
		['ICD-10-CM E11.9 (ordinary)', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' }, 'encounters'],
		['the same code under another system (ordinary)', { system: 'http://example.org/local', code: 'F32.9' }, 'encounters']
	] as const)('%s', (_label, coding, category) => {
		expect(categoryOf(condition(coding))).toBe(category);
	});
	it.each([
		['PSY', 'mental-health'],
		['ETH', 'mental-health'],
		['HIV', 'sexual-health'],
		['STD', 'sexual-health']
	] as const)('security label %s', (code, category) => {
		const resource = condition(
			{ system: 'http://snomed.info/sct', code: '44054006' },
			{ meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code }] } }
		);
		expect(categoryOf(resource)).toBe(category);
	});

	it('on import: sensitive records, and records referring to them, are out of an ordinary grant; meta.security is kept', async () => {
		const node = await clinicNode();
		const bundle = {
			resourceType: 'Bundle',
			type: 'collection',
			entry: [
				{ fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Doe' }] } },
				{
					fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002',
					resource: {
						resourceType: 'Condition',
						meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
						subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
						code: { coding: [{ system: 'http://snomed.info/sct', code: '35489007' }] }
					}
				},
				{
					fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000003',
					resource: {
						resourceType: 'MedicationRequest',
						status: 'active',
						intent: 'order',
						subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
						medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '312938' }] },
						reasonReference: [{ reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' }]
					}
				},
				{
					fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000004',
					resource: {
						resourceType: 'Condition',
						subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
						code: { coding: [{ system: 'http://snomed.info/sct', code: '86406008' }] }
					}
				}
			]
		};
		const ordinary: Category[] = ['demographics', 'encounters', 'medications', 'labs'];
		const known = await knownRecords(node.book, directoryOf(node.ledger), NOW);
		const plan = planImport(bundle, { known });
		expect(plan.patients[0]!.records.map((r) => [r.resource.resourceType, r.category])).toEqual([
			['Patient', 'demographics'],
			['Condition', 'mental-health'],
			['MedicationRequest', 'mental-health'],
			['Condition', 'sexual-health']
		]);
		expect((plan.patients[0]!.records[1]!.resource.meta as Json).security).toEqual([
			{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }
		]);
		// Granted the ordinary categories only: the sensitive three stay with the source system.
		const result = await runImport(node.book, plan, { grantee: authorOf('clinic-a'), categories: ordinary, now: NOW });
		expect(result.records).toBe(1);
		const { records } = await node.book.chart(result.patients[0]!, NOW);
		expect(records.map((r) => r.category)).toEqual(['demographics']);
	});
});
