import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import type { Summary } from '$lib/core/index.js';
import { emptyMovement, InventoryState } from '$lib/state/inventory.svelte.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const GTIN = '09506000134352';
const blocks = (ledger: { state(): Record<string, unknown> }) => (ledger.state().summary as Summary).blocks;

describe('the Inventory tab’s typed path', () => {
	it('a typed GS1 code fills the form; receipts, doses and recalls are written; refusals name the reason and write nothing', async () => {
		const ledger = await foundNetwork({ ...options, now: () => Date.now() });
		const inventory = new InventoryState(() => ledger);
		inventory.attach(ledger);

		expect(inventory.readCode('(01)09506000134353(10)X')).toBeNull();
		expect(inventory.error).toBe('Barcode: (01) GTIN: check digit is 3, expected 2');
		const fields = inventory.readCode(`01${GTIN}17301231` + '10LOT-9\u001d21S1')!;
		expect(fields).toEqual({ gtin: GTIN, expiry: '2030-12-31', lot: 'LOT-9', serial: 'S1' });

		const receive = {
			...emptyMovement('receive'),
			gtin: fields.gtin,
			lot: fields.lot!,
			expiry: fields.expiry!,
			qty: '3',
			supplier: 'Acme'
		};
		expect(await inventory.record(receive)).toBe(false);
		expect(inventory.error).toMatch(/Item name: this GTIN is new here/);
		expect(await inventory.record({ ...receive, itemName: 'Measles vaccine' })).toBe(true);
		expect(inventory.done).toBe('Receive from a supplier: saved');
		expect(inventory.rows.map((r) => [r.name, r.lot, r.qty, r.blocked])).toEqual([['Measles vaccine', 'LOT-9', 3, null]]);

		const patient = toHex(new Uint8Array(32).fill(5));
		const dose = { ...emptyMovement('administer'), gtin: GTIN, lot: 'LOT-9', patient };
		const before = blocks(ledger);
		expect(await inventory.record({ ...dose, qty: '4' })).toBe(false);
		expect(inventory.error).toBe('Refused: 3 of lot LOT-9 on hand at main, 4 needed');
		expect(await inventory.record({ ...dose, patient: 'abc' })).toBe(false);
		expect(inventory.error).toBe('Patient key: expected 64 hexadecimal characters');
		expect(blocks(ledger)).toBe(before);
		expect(await inventory.record(dose)).toBe(true);

		expect(await inventory.recall(GTIN, 'LOT-9', '')).toBe(false);
		expect(inventory.error).toBe('Reason: required');
		expect(await inventory.recall(GTIN, 'LOT-9', 'sterility not assured')).toBe(true);
		const after = blocks(ledger);
		expect(await inventory.record(dose)).toBe(false);
		expect(inventory.error).toBe('Refused: lot LOT-9 was recalled: sterility not assured. Do not give this dose.');
		expect(blocks(ledger)).toBe(after);
		expect(inventory.recalls.map((r) => r.lot)).toEqual(['LOT-9']);
		expect(inventory.trace(GTIN, 'LOT-9')).toBeNull();
		expect((await inventory.loadTrace(GTIN, 'LOT-9'))!.patients.map((p) => p.patient)).toEqual([patient]);
		expect(inventory.trace(GTIN, 'LOT-9')!.patients.map((p) => p.patient)).toEqual([patient]);
		expect(inventory.recallConcernsUs(GTIN, 'LOT-9')).toBe(true);
	});

	it('keeps the trace of the read asked last whichever finishes first, and names a read that fails', async () => {
		const ledger = await foundNetwork({ ...options, now: () => Date.now() });
		const patient = toHex(new Uint8Array(32).fill(7));
		const setup = new InventoryState(() => ledger);
		expect(
			await setup.record({
				...emptyMovement('receive'),
				gtin: GTIN,
				lot: 'L1',
				expiry: '2030-12-31',
				qty: '5',
				supplier: 'Acme',
				itemName: 'Measles vaccine'
			})
		).toBe(true);
		expect(await setup.record({ ...emptyMovement('administer'), gtin: GTIN, lot: 'L1', patient })).toBe(true);
		expect(await setup.recall(GTIN, 'L1', 'sterility not assured')).toBe(true);
		// Reads of the recall index held until released, or failing.
		const held: (() => void)[] = [];
		let failing = false;
		const slow = new Proxy(ledger, {
			get(target, name) {
				if (name === 'facts')
					return async (...args: Parameters<typeof ledger.facts>) => {
						if (failing) throw new Error('the store is closed');
						const rows = await target.facts(...args);
						await new Promise<void>((release) => held.push(release));
						return rows;
					};
				const value = Reflect.get(target, name, target);
				return typeof value === 'function' ? value.bind(target) : value;
			}
		});
		const inventory = new InventoryState(() => slow);
		const first = inventory.loadTrace(GTIN, 'L1');
		await inventory.contact(GTIN, 'L1', patient, 'contacted', 'called back');
		const second = inventory.loadTrace(GTIN, 'L1');
		while (held.length < 2) await new Promise((r) => setTimeout(r, 1));
		held[1]!();
		expect((await second)!.patients[0]!.status).toBe('contacted');
		held[0]!();
		expect((await first)!.patients[0]!.status).toBe('pending');
		// The earlier read finished last: the trace shown is still the later one's.
		expect(inventory.trace(GTIN, 'L1')!.patients[0]!.status).toBe('contacted');

		failing = true;
		expect(await inventory.loadTrace(GTIN, 'L1')).toBeNull();
		expect([inventory.area, inventory.error]).toEqual(['recall', 'Recall trace: the store is closed']);
		expect(inventory.trace(GTIN, 'L1')!.patients[0]!.status).toBe('contacted');
	});

	it('transfers go to another clinic, which sees them incoming and receives them', async () => {
		const a = await foundNetwork({
			...options,
			founder: 'clinic-a',
			members: { 'clinic-b': 'front-desk', insurer: 'payer' },
			now: () => Date.now()
		});
		// A tablet of clinic A is one of A's devices, not a clinic to send to.
		await a.append([{ t: 'member.add', key: fromHex(authorOf('a-tablet')), role: 'clinician', clinic: fromHex(authorOf('clinic-a')) }]);
		const b = await joinNetwork(a.net, 'clinic-b', { ...options, now: () => Date.now() });
		await syncInto(b, a);
		const atA = new InventoryState(() => a);
		const atB = new InventoryState(() => b);
		atA.attach(a);
		atB.attach(b);
		expect(atA.clinics.map((c) => c.key)).toEqual([authorOf('clinic-b')]);
		expect(
			await atA.record({
				...emptyMovement('receive'),
				gtin: GTIN,
				lot: 'L1',
				expiry: '2030-01-31',
				qty: '5',
				supplier: 'Acme',
				itemName: 'Vaccine'
			})
		).toBe(true);
		expect(await atA.record({ ...emptyMovement('transfer'), gtin: GTIN, lot: 'L1', qty: '2', to: authorOf('clinic-b') })).toBe(true);
		await syncInto(b, a);
		// The tab reads the supply pages again after blocks are accepted (at most 250 ms later); here at once.
		await atB.refresh();
		expect(atB.incoming.map((t) => [t.lot, t.qty])).toEqual([['L1', 2]]);
		expect(await atB.receiveTransfer(atB.incoming[0]!.id, 'fridge')).toBe(true);
		expect(atB.rows.map((r) => [r.lot, r.location, r.qty])).toEqual([['L1', 'fridge', 2]]);
		expect(atB.incoming).toEqual([]);
	});
});
