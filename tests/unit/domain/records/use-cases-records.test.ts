// The record use cases (domain/records/: write-records, request-access, import-bundle,
// pending-cards, patient-consent), called as the UI managers and the headless peer call
// them, on a real Ledger over the memory store: each writes one block, and nothing at all
// when a check or the append refuses.
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { decodeBlock, type Ledger } from '$lib/core/index.js';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey, type Category } from '$lib/domain/privacy/envelope.js';
import { RecordBook, RecordInputError } from '$lib/domain/records/book.js';
import { openCard } from '$lib/domain/records/card.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import type { RecordsState } from '$lib/domain/records/fold.js';
import { importBundle, planBundleImport } from '$lib/domain/records/import-bundle.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { PatientSession } from '$lib/domain/records/patient.js';
import { consentView, grantAccess, revokeAccess } from '$lib/domain/records/patient-consent.js';
import { pendingCards, printPendingCard } from '$lib/domain/records/pending-cards.js';
import { registerPatient, type RegisterInput } from '$lib/domain/records/register.js';
import { requestAccess } from '$lib/domain/records/request-access.js';
import { writeRecords } from '$lib/domain/records/write-records.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const NOW = fixedNow();
const PIN = '31415926';
const bookFor = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

const form = (categories: Category[] = ['demographics', 'encounters', 'medications']): RegisterInput => ({
	given: 'Amina',
	family: 'Okonkwo',
	birthDate: '1984-03-02',
	gender: 'female',
	identifier: '',
	phone: '',
	pin: PIN,
	pinAgain: PIN,
	categories,
	confirmDuplicate: false
});

/** A clinic (founder) with a second clinic member, and one registered patient. */
async function clinicWithPatient(categories?: Category[]) {
	const ledger = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'clinician' } });
	const book = bookFor(ledger, 'clinic-a');
	const made = await registerPatient(book, form(categories), { grantee: authorOf('clinic-a'), now: NOW, cardParams: CHEAP });
	return { ledger, book, patient: made.patient, card: made.card };
}

const encounter = (patient: string): ClinicalResource =>
	({
		resourceType: 'Encounter',
		status: 'finished',
		class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
		subject: { reference: `Patient/${patient}` },
		period: { start: '2024-05-01T09:00:00Z' }
	}) as ClinicalResource;
const condition = (patient: string, code: unknown = [{ system: 'http://snomed.info/sct', code: '38341003' }]): ClinicalResource =>
	({ resourceType: 'Condition', subject: { reference: `Patient/${patient}` }, code: { coding: code } }) as ClinicalResource;

const typesOf = async (ledger: Ledger, id: string) =>
	decodeBlock((await ledger.store.getMany([id as never]))[0]!.bytes).txs.map((t) => t.t);

describe('writeRecords', () => {
	it('writes an encounter and what was recorded in it in one block, readable in the chart', async () => {
		const { ledger, book, patient } = await clinicWithPatient();
		const size = ledger.size;
		const block = await writeRecords(book, [encounter(patient), condition(patient)]);
		expect(ledger.size).toBe(size + 1);
		expect((await typesOf(ledger, block)).filter((t) => t === 'record.put')).toHaveLength(2);
		const { records } = await book.chart(patient);
		expect(records.map((r) => r.versions.at(-1)!.resource?.resourceType).sort()).toEqual(['Condition', 'Encounter', 'Patient']);
	});

	it('writes nothing when one resource is refused, naming it by its place in the list', async () => {
		const { ledger, book, patient } = await clinicWithPatient();
		const heads = ledger.heads();
		const error = await writeRecords(book, [encounter(patient), condition(patient, 'not a list')]).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(RecordInputError);
		expect((error as RecordInputError).issues.every((i) => i.path.startsWith('$[1] Condition'))).toBe(true);
		expect(ledger.heads()).toEqual(heads);
	});

	it('amends a record: a second version, the first kept in the history', async () => {
		const { book, patient } = await clinicWithPatient();
		await writeRecords(book, [condition(patient)]);
		const record = (await book.chart(patient)).records.find((r) => r.versions.at(-1)!.resource?.resourceType === 'Condition')!;
		const amended = { ...record.versions.at(-1)!.resource!, note: [{ text: 'resolved' }] } as ClinicalResource;
		await writeRecords(book, [amended], { rid: record.rid, prev: record.versions.at(-1)!.block });
		const after = (await book.chart(patient)).records.find((r) => r.rid === record.rid)!;
		expect(after.versions).toHaveLength(2);
	});
});

describe('requestAccess', () => {
	it('refuses a request without categories or reason, writing nothing', async () => {
		const { ledger, patient } = await clinicWithPatient();
		const heads = ledger.heads();
		await expect(requestAccess(ledger, { kind: 'request', patient, categories: [], reason: 'x' })).rejects.toMatchObject({
			code: 'NO_CATEGORIES'
		});
		await expect(requestAccess(ledger, { kind: 'break-glass', patient, categories: ['labs'], reason: '  ' })).rejects.toMatchObject({
			code: 'NO_REASON',
			message: expect.stringContaining('Emergency access needs a reason')
		});
		expect(ledger.heads()).toEqual(heads);
	});

	it('records a request and an emergency access, each one block the patient sees', async () => {
		const { ledger, patient } = await clinicWithPatient();
		const size = ledger.size;
		await requestAccess(ledger, { kind: 'request', patient, categories: ['labs'], reason: 'Follow-up' });
		await requestAccess(ledger, { kind: 'break-glass', patient, categories: ['labs'], reason: 'Unconscious' });
		expect(ledger.size).toBe(size + 2);
		const requests = Object.values((ledger.state().records as RecordsState).requests).filter((r) => r.patient === patient);
		expect(requests.map((r) => r.kind).sort()).toEqual(['break-glass', 'request']);
		expect((await consentView(ledger, patient)).requests.map((r) => r.reason)).toEqual(
			expect.arrayContaining(['Follow-up', 'Unconscious'])
		);
	});
});

describe('importBundle and the cards it leaves owed', () => {
	const bundle: Bundle = {
		resourceType: 'Bundle',
		type: 'collection',
		entry: [
			{
				fullUrl: 'urn:uuid:8f2e3a1c-0000-4000-8000-000000000001',
				resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe', given: ['Jo'] }], birthDate: '1970-01-01' }
			}
		]
	};

	it('refuses without categories, writing nothing; imports with them and keeps the key until the card is printed', async () => {
		const ledger = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(ledger, 'clinic-a');
		const plan = await planBundleImport(book, JSON.stringify(bundle), NOW);
		expect(plan.issues).toEqual([]);
		const heads = ledger.heads();
		await expect(importBundle(book, plan, { grantee: authorOf('clinic-a'), categories: [], now: NOW })).rejects.toMatchObject({
			code: 'NO_CATEGORIES'
		});
		expect(ledger.heads()).toEqual(heads);

		const imported = await importBundle(book, plan, { grantee: authorOf('clinic-a'), categories: ['demographics'], now: NOW });
		expect(imported).toMatchObject({ patients: 1, blocks: 1 });
		expect(imported.pendingCards).toHaveLength(1);
		const [patient] = imported.pendingCards as [string];
		expect(await pendingCards(ledger)).toEqual([patient]);
		expect((await book.demographics(NOW)).get(patient)).toMatchObject({ birthDate: '1970-01-01' });

		await expect(printPendingCard(book, patient, PIN, '27182818')).rejects.toMatchObject({ code: 'PIN_MISMATCH' });
		expect(await pendingCards(ledger)).toEqual([patient]);
		const { code, pendingCards: left } = await printPendingCard(book, patient, PIN, PIN, { cardParams: CHEAP });
		expect(left).toEqual([]);
		expect((await openCard(code, PIN)).patient).toBe(patient);
		await expect(printPendingCard(book, patient, PIN, PIN, { cardParams: CHEAP })).rejects.toMatchObject({ code: 'CARD_NOT_KEPT' });
	});

	it('a plan with issues is refused (BUNDLE_INVALID), nothing written', async () => {
		const ledger = await foundNetwork({ ...options, founder: 'clinic-a' });
		const book = bookFor(ledger, 'clinic-a');
		const plan = await planBundleImport(
			book,
			JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', birthDate: 'soon' } }] }),
			NOW
		);
		expect(plan.issues.length).toBeGreaterThan(0);
		const heads = ledger.heads();
		await expect(importBundle(book, plan, { grantee: authorOf('clinic-a'), categories: ['demographics'], now: NOW })).rejects.toMatchObject(
			{
				code: 'BUNDLE_INVALID'
			}
		);
		expect(ledger.heads()).toEqual(heads);
	});
});

describe('grantAccess, revokeAccess and the consent view', () => {
	it('the patient grants another member access answering their request, sees it, and revokes it', async () => {
		const { ledger, patient, card } = await clinicWithPatient();
		const { seed } = await openCard(card, PIN);
		const session = new PatientSession(seed);
		try {
			await requestAccess(ledger, { kind: 'request', patient, categories: ['labs'], reason: 'Second opinion' });
			const request = (await consentView(ledger, patient)).requests[0]!;
			expect(request.answered).toBe(false);

			const heads = ledger.heads();
			await expect(
				grantAccess(ledger, session, { grantee: '', categories: ['labs'], purpose: 'treatment', days: 30 })
			).rejects.toMatchObject({
				code: 'NO_GRANTEE'
			});
			await expect(
				grantAccess(ledger, session, { grantee: authorOf('clinic-b'), categories: ['labs'], purpose: 'treatment', days: 0 })
			).rejects.toBeInstanceOf(RangeError);
			expect(ledger.heads()).toEqual(heads);

			const { grant } = await grantAccess(ledger, session, {
				grantee: authorOf('clinic-b'),
				categories: ['labs'],
				purpose: 'treatment',
				days: 30,
				request: request.id,
				now: NOW + 1
			});
			const view = await consentView(ledger, patient);
			expect(view.grants[0]).toMatchObject({ id: grant.id, grantee: authorOf('clinic-b'), revoked: false });
			expect(view.requests[0]!.answered).toBe(true);

			await revokeAccess(ledger, session, grant.id, NOW + 2);
			expect((await consentView(ledger, patient)).grants.find((g) => g.id === grant.id)).toMatchObject({ revoked: true });
			expect((await consentView(ledger, patient)).audit.map((e) => e.kind)).toEqual(expect.arrayContaining(['grant', 'revoke']));
		} finally {
			session.close();
		}
	});
});
