/** Doses at administration: expired and recalled lots refused, a recall across clinics, doses linked to sealed encounter records, and the administration rules on the contract engine. */
import { describe, expect, it } from 'vitest';
import { fromHex, publicKeyOf, toHex } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { grantMessage, grantTx } from '$lib/domain/privacy/consent.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { SYSTEMS } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { administerProblem, lotKey } from '$lib/domain/supply/fold.js';
import { administrationResource } from '$lib/domain/supply/fhir.js';
import {
	administerTx,
	contactTx,
	itemTx,
	recallTx,
	receiveTx,
	transferReceiveTx,
	transferSendTx
} from '$lib/domain/supply/transactions.js';
import { lotHistory, recallTrace } from '$lib/domain/supply/lot-index.js';
import { activeRecalls, inventory } from '$lib/domain/supply/views.js';
import { encountersOfPatient } from '$lib/domain/records/encounter-lookup.js';
import { DAY, GTIN, T0, clock, key, options, patientKey, supply, transferId } from './supply-support.js';

describe('expired and recalled lots at administration', () => {
	it('are refused with the reason: by the check the form runs before writing, and by the fold for a dose written anyway', async () => {
		const time = clock();
		const admin = await foundNetwork({ ...options, now: time.now });
		await admin.append([
			itemTx({ gtin: GTIN, name: 'Measles vaccine' }),
			receiveTx({ gtin: GTIN, lot: 'OLD', expiry: '2026-11-10', qty: 5, supplier: 'Acme' }),
			receiveTx({ gtin: GTIN, lot: 'BAD', expiry: '2027-06-30', qty: 5, supplier: 'Acme' }),
			receiveTx({ gtin: GTIN, lot: 'GOOD', expiry: '2027-06-30', qty: 5, supplier: 'Acme' })
		]);
		await admin.append([recallTx({ gtin: GTIN, lot: 'BAD', reason: 'particles found in vials' })]);
		// The last day of use is still usable; from the next midnight (UTC) the lot is expired.
		expect(administerProblem(await supply(admin), GTIN, 'OLD', Date.UTC(2026, 10, 10, 23, 59))).toBeNull();
		expect(administerProblem(await supply(admin), GTIN, 'OLD', Date.UTC(2026, 10, 11))).toBe('lot OLD expired on 2026-11-10');
		expect(administerProblem(await supply(admin), GTIN, 'BAD', T0)).toBe('lot BAD was recalled: particles found in vials');
		expect(administerProblem(await supply(admin), GTIN, 'GOOD', T0)).toBeNull();

		time.set(Date.UTC(2026, 10, 12));
		const dose = (lot: string, n: number) => administerTx({ patient: patientKey(n), gtin: GTIN, lot, kind: 'immunization' });
		const block = await admin.append([dose('OLD', 1), dose('BAD', 2), dose('GOOD', 3)]);
		const state = await supply(admin);
		const dosesOf = async (lot: string) => (await lotHistory(admin, state, GTIN, lot)).administrations;
		const refusedOf = async (lot: string) => (await dosesOf(lot)).map((a) => a.refused);
		expect(await refusedOf('OLD')).toEqual(['lot OLD expired on 2026-11-10']);
		expect(await refusedOf('BAD')).toEqual(['lot BAD was recalled: particles found in vials']);
		expect(await refusedOf('GOOD')).toEqual([null]);
		expect(state.flags[`refused-administration|${block.id}|0`]).toMatchObject({
			kind: 'refused-administration',
			message: 'dose given although lot OLD expired on 2026-11-10',
			evidence: [block.id]
		});
		expect(state.flags[`refused-administration|${block.id}|1`]?.message).toBe(
			'dose given although lot BAD was recalled: particles found in vials'
		);
		expect(state.flags[`refused-administration|${block.id}|2`]).toBeUndefined();
		// The doses left the shelf all the same; the inventory says which lots are blocked and why.
		const rows = inventory(state, admin.author!, time.now());
		expect(rows.map((r) => [r.lot, r.qty, r.blocked])).toEqual([
			['OLD', 4, 'lot OLD expired on 2026-11-10'],
			['BAD', 4, 'lot BAD was recalled: particles found in vials'],
			['GOOD', 4, null]
		]);
		// The FHIR resource of a dose that should not have been given says so.
		const resource = administrationResource((await dosesOf('BAD'))[0]!, state.lots[lotKey(GTIN, 'BAD')]!, state.items[GTIN]!);
		expect(resource).toMatchObject({
			resourceType: 'Immunization',
			status: 'completed',
			lotNumber: 'BAD',
			expirationDate: '2027-06-30',
			isSubpotent: true,
			vaccineCode: { coding: [{ code: GTIN, display: 'Measles vaccine' }] }
		});
	});
});

describe('recall across clinics', () => {
	it('blocks the lot everywhere, lists the clinics holding it and the patients who received it, with contact status', async () => {
		const time = clock();
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'clinician' }, now: time.now });
		const b = await joinNetwork(a.net, 'clinic-b', { ...options, now: time.now });
		await syncInto(b, a);
		await a.append([receiveTx({ gtin: GTIN, lot: 'L7', expiry: '2027-12-31', qty: 10, supplier: 'Acme', location: 'fridge' })]);
		await a.append([transferSendTx({ id: transferId(9), to: key('clinic-b'), gtin: GTIN, lot: 'L7', qty: 4, location: 'fridge' })]);
		await a.append([administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L7', kind: 'immunization', location: 'fridge' })]);
		await a.append([administerTx({ patient: patientKey(2), gtin: GTIN, lot: 'L7', kind: 'immunization', location: 'fridge' })]);
		await syncInto(b, a);
		await b.append([transferReceiveTx({ id: transferId(9) })]);
		await syncInto(a, b);
		// The supplier's recall, entered by clinic A's admin.
		await a.append([recallTx({ gtin: GTIN, lot: 'L7', reason: 'cold chain failure at the distributor' })]);
		await syncInto(b, a);
		// Clinic B's form refuses before writing, with the reason.
		expect(administerProblem(await supply(b), GTIN, 'L7', time.now())).toBe('lot L7 was recalled: cold chain failure at the distributor');
		// Written anyway (an old node, a device offline): every node records it as refused.
		const late = await b.append([administerTx({ patient: patientKey(3), gtin: GTIN, lot: 'L7', kind: 'immunization' })]);
		await syncInto(a, b);
		for (const node of [a, b]) {
			const state = await supply(node);
			expect(activeRecalls(state).map((r) => [r.lot, r.recall.reason])).toEqual([['L7', 'cold chain failure at the distributor']]);
			const trace = await recallTrace(node, state, GTIN, 'L7');
			expect(trace.patients.map((p) => [p.patient, p.status])).toEqual([
				[toHex(patientKey(1)), 'pending'],
				[toHex(patientKey(2)), 'pending'],
				[toHex(patientKey(3)), 'pending']
			]);
			expect(trace.administrations.map((x) => [x.clinic, x.refused !== null])).toEqual([
				[authorOf('clinic-a'), false],
				[authorOf('clinic-a'), false],
				[authorOf('clinic-b'), true]
			]);
			expect(trace.holding).toEqual([
				{ clinic: authorOf('clinic-a'), qty: 4 },
				{ clinic: authorOf('clinic-b'), qty: 3 }
			]);
			expect(state.flags[`refused-administration|${late.id}|0`]?.kind).toBe('refused-administration');
		}
		await a.append([contactTx({ gtin: GTIN, lot: 'L7', patient: patientKey(1), status: 'contacted', note: 'booked a new dose' })]);
		const contacted = (await recallTrace(a, await supply(a), GTIN, 'L7')).patients[0]!;
		expect([contacted.status, contacted.contact?.note]).toEqual(['contacted', 'booked a new dose']);
	});
});

describe('doses linked to encounter records of the records layer', () => {
	it('a dose linked to a sealed Encounter raises no flag; one linked to another patient’s encounter does', async () => {
		const ledger = await foundNetwork({ ...options, founder: 'clinic-a', now: () => T0 });
		const book = new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		// The patient grants clinic A their encounters; A records the visit, sealed.
		const seed = testSecret('patient-9');
		const patient = toHex(publicKeyOf(seed));
		const other = toHex(patientKey(8));
		const grant = {
			id: 'cd'.repeat(16),
			patient,
			grantee: authorOf('clinic-a'),
			categories: ['encounters' as const],
			purpose: 'treatment' as const,
			expires: T0 + 365 * DAY,
			issued: T0
		};
		await ledger.append([grantTx(grant, signNoble(seed, grantMessage(grant)))]);
		// The visit: its Encounter first, then a vital sign, in one block.
		const vital = await book.sealTxs(
			{
				resourceType: 'Observation',
				status: 'final',
				category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs' }] }],
				code: { coding: [{ system: SYSTEMS.loinc, code: '8310-5', display: 'Body temperature' }] },
				subject: { reference: `Patient/${patient}` },
				effectiveDateTime: '2026-11-20T09:00:00Z',
				valueQuantity: { value: 37.2, unit: 'Cel', system: SYSTEMS.ucum, code: 'Cel' }
			},
			{ now: T0 }
		);
		const visit = await book.write(
			{
				resourceType: 'Encounter',
				status: 'finished',
				class: { system: SYSTEMS.actCode, code: 'AMB' },
				subject: { reference: `Patient/${patient}` },
				period: { start: '2026-11-20T09:00:00Z' }
			},
			{ now: T0, extra: vital.txs }
		);
		// The dose form offers the visit by its Encounter record, once.
		// Read from the records index; the supply state keeps no encounters.
		expect(await encountersOfPatient(ledger, patient)).toEqual([{ block: visit.block, rid: visit.rid, time: T0 }]);
		expect(await supply(ledger)).not.toHaveProperty('encounters');
		expect(await encountersOfPatient(ledger, other)).toEqual([]);
		await ledger.append([receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2030-01-31', qty: 5, supplier: 'Acme' })]);
		const encounter = { block: fromHex(visit.block), rid: fromHex(visit.rid) };
		const good = await ledger.append([administerTx({ patient: fromHex(patient), gtin: GTIN, lot: 'L1', kind: 'immunization', encounter })]);
		const wrong = await ledger.append([administerTx({ patient: fromHex(other), gtin: GTIN, lot: 'L1', kind: 'immunization', encounter })]);
		const flags = Object.values((await supply(ledger)).flags);
		expect(flags.filter((f) => f.evidence.includes(good.id))).toEqual([]);
		expect(flags.map((f) => [f.kind, f.evidence])).toEqual([['encounter-patient-mismatch', [visit.block, wrong.id]]]);
		const dose = (await lotHistory(ledger, await supply(ledger), GTIN, 'L1')).administrations[0]!;
		expect(administrationResource(dose, (await supply(ledger)).lots[lotKey(GTIN, 'L1')]!, null)).toMatchObject({
			resourceType: 'Immunization',
			encounter: { reference: `Encounter/${visit.block}-${visit.rid}` },
			patient: { identifier: { value: patient } }
		});
	});
});

describe('administration rules on the contract engine', () => {
	it('are JsonLogic compiled within the step budget, and judge recalled and expired lots', async () => {
		const { ADMINISTER_RULE_DATA } = await import('$lib/domain/supply/fold.js');
		const { compileRule, ruleHolds, STEP_BUDGET } = await import('$lib/domain/contracts/rule-logic.js');
		const compiled = ADMINISTER_RULE_DATA.map((r) => ({ code: r.code, ...compileRule(r.rule as never, r.code) }));
		for (const c of compiled) expect(c.cost).toBeLessThan(STEP_BUDGET);
		const holds = (code: string, data: unknown) => ruleHolds(compiled.find((c) => c.code === code)!.logic, data);
		expect(holds('recalled', { time: 5, lot: { recalled: false, expiresAt: 10 } })).toBe(true);
		expect(holds('recalled', { time: 5, lot: { recalled: true, expiresAt: 10 } })).toBe(false);
		expect(holds('expired', { time: 5, lot: { recalled: false, expiresAt: 10 } })).toBe(true);
		expect(holds('expired', { time: 10, lot: { recalled: false, expiresAt: 10 } })).toBe(false);
		expect(holds('expired', { time: 10, lot: { recalled: false, expiresAt: null } })).toBe(true);
	});
});
