import { describe, expect, it } from 'vitest';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { authorOf, fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { CATEGORIES, encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { planImport, runImport } from '$lib/domain/records/bundle.js';
import { exportBundle, exportBundleFile } from '$lib/domain/records/bundle-export.js';
import { SOURCE_SYSTEM } from '$lib/domain/records/known.js';
import { CardError, encodeCard, newPatientKey, openCard, readCard } from '$lib/domain/records/card.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { planBundleImport } from '$lib/domain/records/import-bundle.js';
import { patientRecords } from '$lib/domain/records/patient-records.js';
import { readRecord } from '$lib/domain/records/record-index.js';
import { decodeBlock, toHex } from '$lib/core/index.js';
import { grant, labResult, patientKey } from '../../support/patients.js';
import { syntheticBundle } from '../../../synthetic/records.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const NOW = fixedNow();
const bookFor = (ledger: Awaited<ReturnType<typeof foundNetwork>>, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

/** A resource as compared across systems: no id, meta or source identifier, the patient reference replaced by a placeholder, keys sorted. */
function normal(resource: Record<string, unknown>): string {
	const strip = (v: unknown): unknown => {
		if (Array.isArray(v)) return v.map(strip);
		if (v && typeof v === 'object') {
			const out: Record<string, unknown> = {};
			for (const k of Object.keys(v).sort()) {
				if (k === 'id' || k === 'meta') continue;
				let value = (v as Record<string, unknown>)[k];
				if (k === 'identifier' && Array.isArray(value)) {
					value = value.filter((i: { system?: string }) => i.system !== SOURCE_SYSTEM);
					if ((value as unknown[]).length === 0) continue;
				}
				out[k] = k === 'reference' && typeof value === 'string' && /^(Patient\/|urn:uuid:)/.test(value) ? 'PATIENT' : strip(value);
			}
			return out;
		}
		return v;
	};
	return JSON.stringify(strip(resource));
}

const mrnOf = (resources: Record<string, unknown>[]) =>
	(resources.find((r) => r.resourceType === 'Patient') as Patient | undefined)?.identifier?.[0]?.value ?? '?';

describe('FHIR Bundle import and export', () => {
	it('imports a multi-patient Bundle sealed and signed, and exports each patient back: the same resources', async () => {
		const source = syntheticBundle(12, { seed: 7, perPatient: 30 });
		expect(source.entry).toHaveLength(12 * 30);
		const clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(clinic, 'clinic-a');
		const plan = planImport(JSON.stringify(source));
		expect(plan.issues).toEqual([]);
		expect(plan.patients).toHaveLength(12);
		expect(plan.counts.Patient).toBe(12);
		const progress: number[] = [];
		const result = await runImport(book, plan, {
			grantee: authorOf('clinic-a'),
			categories: CATEGORIES,
			now: NOW,
			onProgress: (done) => void progress.push(done)
		});
		expect(result.records).toBe(360);
		expect(progress.at(-1)).toBe(12);
		// Every imported record's id commits to its patient and category (the ledger checked each against its salt).
		const puts = (await clinic.store.ordered(null, 1000)).flatMap((b) => decodeBlock(b.bytes).txs.filter((tx) => tx.t === 'record.put'));
		expect(puts).toHaveLength(360);
		expect(puts.every((tx) => tx.salt instanceof Uint8Array)).toBe(true);

		// Group the source resources by patient (by record number) and compare with each export.
		const expected = new Map<string, string[]>();
		const owner = new Map<string, string>();
		for (const e of source.entry!)
			if (e.resource!.resourceType === 'Patient') {
				owner.set(`Patient/${e.resource!.id}`, mrnOf([e.resource as never]));
				owner.set(e.fullUrl!, mrnOf([e.resource as never]));
			}
		for (const e of source.entry!) {
			const r = e.resource as unknown as Record<string, unknown>;
			const ref = ((r.subject ?? r.patient) as { reference?: string } | undefined)?.reference;
			const mrn = r.resourceType === 'Patient' ? mrnOf([r]) : owner.get(ref!)!;
			expected.set(mrn, [...(expected.get(mrn) ?? []), normal(r)]);
		}
		for (const patient of result.patients) {
			const { bundle, sealed } = await exportBundle(book, patient, { now: NOW });
			expect(sealed).toBe(0);
			// The file, written a piece at a time, is the Bundle: its fields indented, each entry compact on a line of its own.
			const { file } = await exportBundleFile(book, patient, { now: NOW });
			const text = await file.text();
			expect(JSON.parse(text)).toEqual(bundle);
			const lines = text.split('\n');
			expect(lines.slice(0, 5)).toEqual(
				JSON.stringify({ ...bundle, entry: [] }, null, 2)
					.split('\n')
					.slice(0, 4)
					.concat('  "entry": [')
			);
			expect(lines.slice(5, -2)).toEqual(bundle.entry!.map((e, i) => `    ${JSON.stringify(e)}${i < bundle.entry!.length - 1 ? ',' : ''}`));
			expect(lines.slice(-2)).toEqual(['  ]', '}']);
			expect(file.type).toBe('application/fhir+json');
			const resources = bundle.entry!.map((e: { resource?: unknown }) => e.resource as unknown as Record<string, unknown>);
			const provenance = resources.filter((r) => r.resourceType === 'Provenance');
			expect(provenance.length).toBeGreaterThan(0);
			const exported = resources.filter((r) => r.resourceType !== 'Provenance');
			expect(exported.map(normal).sort()).toEqual(expected.get(mrnOf(exported))!.sort());
			// And the export imports again without errors (Provenance skipped).
			const again = planImport(bundle);
			expect(again.issues).toEqual([]);
			expect(again.skipped).toBe(provenance.length);
		}

		// Another clinic without a grant receives the blocks but none of the plaintext.
		const other = await joinNetwork(clinic.net, 'clinic-b', options);
		await clinic.append([{ t: 'member.add', key: (await import('$lib/core/index.js')).fromHex(authorOf('clinic-b')), role: 'clinician' }]);
		await syncInto(other, clinic);
		const otherBook = bookFor(other, 'clinic-b');
		const { bundle, sealed } = await exportBundle(otherBook, result.patients[0]!, { now: NOW });
		expect(bundle.entry).toEqual([]);
		expect(sealed).toBe(30);
		const empty = await exportBundleFile(otherBook, result.patients[0]!, { now: NOW });
		expect(await empty.file.text()).toBe(JSON.stringify(bundle, null, 2));
	}, 60_000);

	it('refuses an invalid Bundle with the JSON path of each R4 error, warns about the clinic rules, and imports nothing', async () => {
		const clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(clinic, 'clinic-a');
		const bundle = syntheticBundle(2, { seed: 3, perPatient: 6 });
		const entries = bundle.entry!;
		const obs = entries.findIndex((e) => e.resource!.resourceType === 'Observation');
		(entries[obs]!.resource as { valueQuantity: { code?: string } }).valueQuantity.code = undefined;
		entries.push({ resource: { resourceType: 'Claim' } as never });
		entries.push({
			resource: {
				resourceType: 'Encounter',
				status: 'finished',
				class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
				subject: { reference: 'Patient/nobody' },
				period: { start: '2025-01-01T10:00:00Z' }
			} as never
		});
		entries.push({ resource: { resourceType: 'Basic' } as never });
		const plan = planImport(bundle as Bundle);
		expect(plan.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
			...['status', 'type', 'use', 'patient', 'created', 'provider', 'priority', 'insurance'].map(
				(field) => `$.entry[12].resource.${field}: Missing required property`
			),
			`$.entry[14].resource.resourceType: Basic is not a resource type this ledger keeps`,
			`$.entry[12].resource: is about no Patient in this Bundle or on this ledger (subject, patient or beneficiary, or a record referring to it)`,
			`$.entry[13].resource: is about no Patient in this Bundle or on this ledger (subject, patient or beneficiary, or a record referring to it)`
		]);
		// A missing unit is the clinic's rule, not R4's: a warning.
		expect(plan.warnings).toContainEqual({ path: `$.entry[${obs}].resource.valueQuantity.code`, message: 'a UCUM unit code is required' });
		const size = clinic.size;
		await expect(runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES })).rejects.toThrow(
			/11 error\(s\); nothing was imported/
		);
		expect(clinic.size).toBe(size);
		expect(planImport('{"resourceType":"Bundle","type":"document","entry":[]}').issues[0]).toEqual({
			path: '$.type',
			message: 'must be collection, transaction or batch'
		});
		expect(planImport('not json').issues[0]!.message).toMatch(/^is not JSON/);
	});
});

describe('re-import of a changed record', () => {
	it('amends a record written here with the salt its id commits to', async () => {
		const clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(clinic, 'clinic-a');
		const p = patientKey();
		await clinic.append([grant(p, authorOf('clinic-a'), ['demographics', 'labs'])]);
		await book.write(
			{
				resourceType: 'Patient',
				id: p.id,
				name: [{ family: 'Salted' }],
				birthDate: '1970-01-01',
				identifier: [{ system: SOURCE_SYSTEM, value: 'registration/1' }]
			},
			{ now: NOW }
		);
		// With the source identifier an import keeps, as a record taken in through the FHIR API or an earlier Bundle carries.
		const lab = { ...labResult(p.id, 'first reading'), identifier: [{ system: SOURCE_SYSTEM, value: 'lab-system/4411' }] };
		const written = await book.write(lab as never, { now: NOW });
		const before = (await readRecord(clinic, written.rid))!;
		expect(before.salt).toMatch(/^[0-9a-f]{32}$/);
		// Export, change the lab result, import the file again: one amendment of the same record.
		const { bundle } = await exportBundle(book, p.id, { now: NOW });
		const text = JSON.stringify(bundle).replace('first reading', 'second reading');
		const plan = await planBundleImport(book, text, NOW);
		expect(plan.issues).toEqual([]);
		expect(plan.counts.Observation).toBe(1);
		await runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES, now: NOW });
		const after = (await readRecord(clinic, written.rid))!;
		expect(after.versions).toHaveLength(2);
		expect(after.salt).toBe(before.salt);
		const amendment = decodeBlock((await clinic.store.get(after.versions[1]!.block as never))!.bytes).txs[after.versions[1]!.index]!;
		expect(toHex(amendment.rid as Uint8Array)).toBe(written.rid);
		expect(toHex(amendment.salt as Uint8Array)).toBe(before.salt);
		expect(toHex(amendment.prev as Uint8Array)).toBe(written.block);
	});
});

describe('import of a resource already here under another patient or category', () => {
	/** A one-patient Bundle: the Patient (record number `mrn`) and a lab result with source `lab-7`, labelled HIV-related when asked (sexual health). */
	const bundleOf = (mrn: string, restricted = false): Bundle => ({
		resourceType: 'Bundle',
		type: 'collection',
		entry: [
			{
				fullUrl: `urn:uuid:${mrn}-0000-4000-8000-000000000001`,
				resource: { resourceType: 'Patient', id: mrn, identifier: [{ system: 'urn:mrn', value: mrn }], birthDate: '1970-01-01' }
			},
			{
				fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000007',
				resource: {
					...labResult('x', 'shared source'),
					subject: { reference: `urn:uuid:${mrn}-0000-4000-8000-000000000001` },
					identifier: [{ system: SOURCE_SYSTEM, value: 'lab-7' }],
					...(restricted ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] } } : {})
				} as never
			}
		]
	});
	it('writes a new record (its id committed to the new owner) and leaves the first one as it was', async () => {
		const clinic = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(clinic, 'clinic-a');
		const run = async (bundle: Bundle) => {
			const plan = await planBundleImport(book, JSON.stringify(bundle), NOW);
			expect(plan.issues).toEqual([]);
			const result = await runImport(book, plan, { grantee: authorOf('clinic-a'), categories: CATEGORIES, now: NOW });
			return { plan, result };
		};
		const first = await run(bundleOf('11111111'));
		const x = first.result.patients[0]!;
		// The same lab result's source under another patient, then under the first one in another category.
		for (const [bundle, owner] of [
			[bundleOf('22222222'), null],
			[bundleOf('11111111', true), x]
		] as const) {
			const { plan, result } = await run(bundle);
			const lab = plan.outcomes.find((o) => o?.ref.startsWith('Observation/'))!;
			expect({ owner: owner !== null, outcome: lab.outcome }).toEqual({ owner: owner !== null, outcome: 'create' });
			const patient = owner ?? result.patients[0]!;
			const records = await patientRecords(clinic, patient);
			const rid = lab.ref.split('/')[1]!;
			const entry = records.find(([r]) => r === rid)![1];
			expect(entry.versions).toHaveLength(1);
			expect(entry.salt).toMatch(/^[0-9a-f]{32}$/);
		}
		// The first patient's first lab result is as it was: one version, its own.
		const labs = (await patientRecords(clinic, x)).filter(([, e]) => e.category === 'labs');
		expect(labs.every(([, e]) => e.versions.length === 1)).toBe(true);
	});
});

describe('patient key cards', () => {
	const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
	it('round-trips the patient key under the PIN; a wrong PIN or a mistyped code is named', async () => {
		const { seed, patient } = newPatientKey();
		const code = await encodeCard(seed, '31415926', { params: CHEAP });
		expect(code.startsWith('CLK1.')).toBe(true);
		expect(readCard(code).patient).toBe(patient);
		const opened = await openCard(`  ${code.slice(0, 20)}\n${code.slice(20)} `, '31415926');
		expect(opened.patient).toBe(patient);
		expect(opened.seed).toEqual(seed);
		await expect(openCard(code, '31415927')).rejects.toThrow(new CardError('Wrong PIN for this key card.'));
		const i = 30;
		const typo = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1);
		expect(() => readCard(typo)).toThrow(/mistyped|damaged/);
		expect(() => readCard('CLK2.abc')).toThrow(/not a patient key card/);
		await expect(encodeCard(seed, 'short', { params: CHEAP })).rejects.toThrow(/at least 8/);
	});
});
