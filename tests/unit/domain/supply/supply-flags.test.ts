/** Supply flags with their evidence (over-dispensing, negative stock, transfers, serials, encounters, expiry), expiry and reorder alerts, and the timeline. */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '$lib/core/index.js';
import { authorOf } from '$lib/core/testing/fixtures.js';
import { lotKey, supplyView } from '$lib/domain/supply/fold.js';
import {
	adjustTx,
	administerTx,
	itemTx,
	policyTx,
	receiveTx,
	reorderTx,
	transferReceiveTx,
	transferSendTx,
	wasteTx
} from '$lib/domain/supply/transactions.js';
import { expiryAlerts, expiryTimeline, flagsFor, inventory, reorderAlerts } from '$lib/domain/supply/views.js';
import { DAY, GTIN, GTIN2, T0, fakeBlock, foldAll, foldOn, foldView, patientKey, transferId } from './supply-support.js';

describe('supply flags with evidence', () => {
	const a = authorOf('clinic-a');
	const b = authorOf('clinic-b');
	const rcv = (lot: string, qty: number) => receiveTx({ gtin: GTIN, lot, expiry: '2027-12-31', qty, supplier: 'Acme' });
	const give = (lot: string, extra: Partial<Parameters<typeof administerTx>[0]> = {}) =>
		administerTx({ patient: patientKey(1), gtin: GTIN, lot, kind: 'medication', ...extra });

	it('more dispensed than received, even when an upward adjustment hides it from the stock count', () => {
		const state = foldView([
			fakeBlock(1, a, T0, [rcv('L1', 1), adjustTx({ gtin: GTIN, lot: 'L1', delta: 5, reason: 'found some' })]),
			fakeBlock(2, a, T0, [give('L1')]),
			fakeBlock(3, a, T0, [give('L1')])
		]);
		expect(Object.values(state.stock[lotKey(GTIN, 'L1')]![a]!)).toEqual([4]);
		const over = state.flags[`dispensed-exceeds-received|${lotKey(GTIN, 'L1')}|${a}`]!;
		expect(over.message).toBe('lot L1: 2 given, 0 wasted and 0 sent, but only 1 received and 0 transferred in');
		expect(over.evidence).toEqual([fakeBlock(3, a, T0, []).id]);
		expect(Object.keys(state.flags).filter((k) => k.startsWith('negative-stock'))).toEqual([]);
	});

	it('negative stock at a location is flagged with the block that caused it', () => {
		const folded = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 1)]),
			fakeBlock(2, a, T0, [wasteTx({ gtin: GTIN, lot: 'L1', qty: 3, reason: 'dropped' })])
		]);
		expect(supplyView(folded).flags[`negative-stock|${lotKey(GTIN, 'L1')}|${a}|main`]).toMatchObject({
			message: 'stock of lot L1 at main went to -2',
			evidence: [fakeBlock(2, a, T0, []).id]
		});
		// One block taking two locations below zero: two flags, each listed once for the clinic.
		const state = supplyView(
			foldOn(
				folded,
				fakeBlock(3, a, T0 + 1, [
					wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x', location: 'fridge' }),
					wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x', location: 'bag' })
				])
			)
		);
		const listed = flagsFor(state, a).filter((f) => f.kind === 'negative-stock');
		expect(listed.map((f) => f.key)).toEqual([
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|fridge`,
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|bag`,
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|main`
		]);
		expect(flagsFor(state, authorOf('clinic-b'))).toEqual([]);
	});

	it('a transfer sent and never received is flagged at the first supply transaction once the transit days pass (block time), and marked settled when received', () => {
		const send = fakeBlock(1, a, T0, [
			policyTx({ transitDays: 3 }),
			rcv('L1', 5),
			transferSendTx({ id: transferId(1), to: fromHex(b), gtin: GTIN, lot: 'L1', qty: 2 })
		]);
		const early = foldView([send, fakeBlock(2, a, T0 + 3 * DAY, [rcv('L9', 1)])]);
		expect(Object.keys(early.flags)).toEqual([]);
		// A block of other transactions cannot change the supply state, whatever its time (so a late one needs no refold).
		expect(Object.keys(foldView([send, fakeBlock(2, a, T0 + 30 * DAY, [{ t: 'note', text: 'x' }])]).flags)).toEqual([]);
		const late = foldAll([send, fakeBlock(2, a, T0 + 3 * DAY + 1, [rcv('L9', 1)])]);
		const id = toHex(transferId(1));
		expect(supplyView(late).flags[`transfer-not-received|${id}`]).toMatchObject({ clinic: a, evidence: [send.id], resolved: null });
		const settled = supplyView(foldOn(late, fakeBlock(3, b, T0 + 4 * DAY, [transferReceiveTx({ id: transferId(1) })])));
		expect(settled.flags[`transfer-not-received|${id}`]!.resolved).toBe(fakeBlock(3, b, 0, []).id);
		expect(settled.stock[lotKey(GTIN, 'L1')]![b]).toEqual({ main: 2 });
	});

	it('a receipt by another clinic than the addressee, of an unknown transfer, or a second receipt is ignored and flagged', () => {
		const c = authorOf('clinic-c');
		const state = foldView([
			fakeBlock(1, a, T0, [rcv('L1', 5), transferSendTx({ id: transferId(1), to: fromHex(b), gtin: GTIN, lot: 'L1', qty: 2 })]),
			fakeBlock(2, c, T0, [transferReceiveTx({ id: transferId(1) }), transferReceiveTx({ id: transferId(2) })]),
			fakeBlock(3, b, T0, [transferReceiveTx({ id: transferId(1) })]),
			fakeBlock(4, b, T0, [transferReceiveTx({ id: transferId(1) })])
		]);
		expect(
			Object.values(state.flags)
				.map((f) => f.kind)
				.sort()
		).toEqual(['transfer-duplicate', 'transfer-unknown', 'transfer-wrong-clinic']);
		expect(state.stock[lotKey(GTIN, 'L1')]![c]).toBeUndefined();
		expect(state.stock[lotKey(GTIN, 'L1')]![b]).toEqual({ main: 2 });
	});

	it('the same serial used twice, with both administrations as evidence', () => {
		const state = foldView([
			fakeBlock(1, a, T0, [rcv('L1', 5), give('L1', { serial: 'S9' })]),
			fakeBlock(2, b, T0, [give('L1', { serial: 'S9' })]),
			fakeBlock(3, b, T0, [give('L1', { serial: 'S8' })])
		]);
		expect(state.flags[`serial-reused|${GTIN}|S9`]).toMatchObject({
			kind: 'serial-reused',
			evidence: [fakeBlock(1, a, 0, []).id, fakeBlock(2, b, 0, []).id]
		});
		expect(Object.keys(state.flags).filter((k) => k.startsWith('serial-reused'))).toHaveLength(1);
	});

	it('a serial given twice in one block is flagged with that block twice; the same serial of another GTIN is not a reuse; the state keeps no serial', () => {
		const block = fakeBlock(1, a, T0, [rcv('L1', 5), give('L1', { serial: 'S7' }), give('L1', { serial: 'S7' })]);
		const other = fakeBlock(2, a, T0, [
			receiveTx({ gtin: GTIN2, lot: 'M1', expiry: '2027-12-31', qty: 5, supplier: 'Acme' }),
			administerTx({ patient: patientKey(2), gtin: GTIN2, lot: 'M1', kind: 'medication', serial: 'S7' })
		]);
		const folded = foldAll([block, other]);
		const state = supplyView(folded);
		expect(state.flags[`serial-reused|${GTIN}|S7`]).toMatchObject({ kind: 'serial-reused', evidence: [block.id, block.id] });
		expect(state.flags[`serial-reused|${GTIN2}|S7`]).toBeUndefined();
		// The serials given are rows of the store (supply/serial-index.ts), not part of the state or its checkpoints.
		expect('serials' in folded).toBe(false);
		expect(Object.keys(folded)).toEqual(['clinics', 'policy', 'items', 'reorder', 'transit', 'open', 'pages']);
	});

	it('administrations with no encounter, an encounter not on the ledger, or another patient’s encounter', () => {
		const rid = new Uint8Array(16).fill(7);
		const encounterBlock = fakeBlock(1, a, T0, [
			rcv('L1', 5),
			{
				t: 'record.put',
				patient: patientKey(1),
				category: 'encounters',
				rid,
				kid: 0,
				ver: 0,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(8)
			}
		]);
		const ref = { block: fromHex(encounterBlock.id), rid };
		const state = foldView([
			encounterBlock,
			fakeBlock(2, a, T0, [
				give('L1', { encounter: ref }),
				give('L1'),
				give('L1', { encounter: { block: ref.block, rid: new Uint8Array(16) } }),
				give('L1', { encounter: ref, patient: patientKey(2) })
			])
		]);
		const id = fakeBlock(2, a, T0, []).id;
		expect(state.flags[`no-encounter|${id}|0`]).toBeUndefined();
		expect(state.flags[`no-encounter|${id}|1`]?.message).toBe('administration not linked to an encounter');
		expect(state.flags[`no-encounter|${id}|2`]?.message).toMatch(/is not on the ledger before this administration/);
		expect(state.flags[`encounter-patient-mismatch|${id}|3`]).toMatchObject({ evidence: [encounterBlock.id, id] });
	});

	it('a lot received twice with different expiry dates keeps the first and is flagged', () => {
		const state = foldView([
			fakeBlock(1, a, T0, [rcv('L1', 1)]),
			fakeBlock(2, b, T0, [receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2028-01-31', qty: 1, supplier: 'Other' })])
		]);
		expect(state.lots[lotKey(GTIN, 'L1')]!.expiry).toBe('2027-12-31');
		expect(state.flags[`lot-expiry-mismatch|${lotKey(GTIN, 'L1')}`]?.message).toBe(
			'lot L1 received with expiry 2028-01-31, earlier with 2027-12-31 (the earlier one is used)'
		);
	});
});

describe('alerts and timeline', () => {
	it('expiry alerts follow the policy horizon, reorder points count usable stock only, the timeline groups by month', () => {
		const a = authorOf('clinic-a');
		const blocks = [
			fakeBlock(1, a, T0, [
				itemTx({ gtin: GTIN, name: 'Measles vaccine' }),
				itemTx({ gtin: GTIN2, name: 'Amoxicillin 500 mg' }),
				receiveTx({ gtin: GTIN, lot: 'SOON', expiry: '2026-12-15', qty: 3, supplier: 'Acme' }),
				receiveTx({ gtin: GTIN, lot: 'LATER', expiry: '2027-09-30', qty: 4, supplier: 'Acme', location: 'fridge' }),
				receiveTx({ gtin: GTIN2, lot: 'A1', expiry: '2026-12-31', qty: 20, supplier: 'Acme' }),
				reorderTx({ gtin: GTIN, level: 5 }),
				reorderTx({ gtin: GTIN2, level: 5 })
			])
		];
		const folded = foldAll(blocks);
		expect(expiryAlerts(supplyView(folded), a, T0).map((r) => [r.lot, r.daysLeft])).toEqual([
			['A1', 60],
			['SOON', 44]
		]);
		const state = supplyView(foldOn(folded, fakeBlock(2, a, T0, [policyTx({ horizonDays: 50 })])));
		expect(expiryAlerts(state, a, T0).map((r) => r.lot)).toEqual(['SOON']);
		// 7 measles doses on hand, above the reorder point of 5, until SOON expires.
		expect(reorderAlerts(state, a, T0)).toEqual([]);
		expect(reorderAlerts(state, a, Date.UTC(2026, 11, 16))).toEqual([{ gtin: GTIN, name: 'Measles vaccine', onHand: 4, level: 5 }]);
		expect(expiryTimeline(state, a, T0)).toEqual([
			{ month: '2026-12', qty: 23, lots: ['A1', 'SOON'], expired: false },
			{ month: '2027-09', qty: 4, lots: ['LATER'], expired: false }
		]);
		expect(inventory(state, authorOf('clinic-b'), T0)).toEqual([]);
	});
});
