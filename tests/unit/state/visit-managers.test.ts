// The managers the visit workflows write through: "Give a dose" writes one administration
// linked to the visit, of the lot first to expire; a refused dose writes nothing; and
// neither manager exposes a field a component could write.
import { describe, expect, it } from 'vitest';
import type { Summary } from '$lib/core/index.js';
import { foundNetwork } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { lotHistory } from '$lib/domain/supply/lot-index.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import type { Visit } from '$lib/domain/records/visit.js';
import { BillingState } from '$lib/state/billing.svelte.js';
import { emptyMovement, InventoryState, lotChoice } from '$lib/state/inventory.svelte.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const GTIN = '09506000134352';
const blocks = (ledger: { state(): Record<string, unknown> }) => (ledger.state().summary as Summary).blocks;
const visit: Visit = {
	patient: '5a'.repeat(32),
	block: 'e1'.repeat(32),
	rid: 'f2'.repeat(16),
	start: '2026-01-05T09:00:00Z',
	reason: null,
	diagnoses: ['J20.9']
};

describe('Give a dose from a visit', () => {
	it('records one unit of the chosen usable lot, linked to the visit; a recalled lot is refused and nothing is written', async () => {
		const ledger = await foundNetwork({ ...options, now: () => Date.now() });
		const inventory = new InventoryState(() => ledger);
		inventory.attach(ledger);
		for (const [lot, expiry] of [
			['LATE', '2031-06-30'],
			['SOON', '2030-01-31'],
			['BAD', '2029-01-31']
		] as const) {
			expect(
				await inventory.record({
					...emptyMovement('receive'),
					gtin: GTIN,
					lot,
					expiry,
					qty: '3',
					supplier: 'Acme',
					itemName: 'Measles vaccine'
				})
			).toBe(true);
		}
		expect(await inventory.recall(GTIN, 'BAD', 'sterility not assured')).toBe(true);
		expect(inventory.usable.map((r) => r.lot)).toEqual(['SOON', 'LATE']);

		const before = blocks(ledger);
		expect(await inventory.giveDose(visit, lotChoice({ gtin: GTIN, lot: 'BAD', location: 'main' }), 'immunization')).toBe(false);
		expect(inventory.error).toBe('Lot BAD: lot BAD was recalled: sterility not assured. Do not give this dose.');
		expect(inventory.area).toBe('visit');
		expect(blocks(ledger)).toBe(before);

		expect(await inventory.giveDose(visit, lotChoice(inventory.usable[0]!), 'immunization')).toBe(true);
		expect(inventory.done).toBe('Dose recorded for this visit');
		const given = (await lotHistory(ledger, inventory.supply!, GTIN, 'SOON')).administrations;
		expect(given.map((a) => ({ patient: a.patient, qty: a.qty, kind: a.kind, encounter: a.encounter, refused: a.refused }))).toEqual([
			{ patient: visit.patient, qty: 1, kind: 'immunization', encounter: { block: visit.block, rid: visit.rid }, refused: null }
		]);
		expect(inventory.rows.find((r) => r.lot === 'SOON')!.qty).toBe(2);
		// This visit is made up (no Encounter block here): the fold checks the link and says which visit it names.
		expect(inventory.flags.filter((f) => f.kind === 'no-encounter').map((f) => f.message)).toEqual([
			`encounter ${visit.rid.slice(0, 8)} in block ${visit.block.slice(0, 8)} is not on the ledger before this administration`
		]);
	});
});

describe('Bill this visit', () => {
	it('drafts the claim from the visit with the coverage the payer recorded for the patient', async () => {
		const ledger = await foundNetwork({ ...options, members: { insurer: 'payer' }, now: () => Date.now() });
		const billing = new BillingState(() => ledger);
		billing.refresh();
		expect(billing.canBill).toBe(true);
		expect(billing.clinic).toBe(ledger.author);
		expect((await billing.draftFor(visit)).missing.map((m) => m.field)).toEqual(['coverage']);
	});
});

describe('manager fields', () => {
	it('are read-only: every accessor of BillingState and InventoryState is a getter without a setter, and no instance holds a public field', () => {
		for (const [Manager, instance] of [
			[BillingState, new BillingState(() => null)],
			[InventoryState, new InventoryState(() => null)]
		] as const) {
			const accessors = Object.entries(Object.getOwnPropertyDescriptors(Manager.prototype)).filter(([, d]) => d.get || d.set);
			expect(accessors.length).toBeGreaterThan(5);
			expect(accessors.filter(([, d]) => d.set).map(([name]) => name)).toEqual([]);
			expect(Object.keys(instance)).toEqual([]);
			expect(() => Object.assign(instance, { busy: true })).toThrow(TypeError);
		}
	});
});
