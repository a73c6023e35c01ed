// The inventory use cases (domain/supply/stock-writes.ts) called as the Inventory screen
// and the headless peer call them, on real ledgers over the memory store: each writes one
// block; a field typed wrong or a refused movement writes nothing.
import { describe, expect, it } from 'vitest';
import { toHex, type Ledger } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { emptyMovement, MovementInputError } from '$lib/domain/supply/movement.js';
import {
	onHandAt,
	recallLot,
	receiveTransfer,
	recordContact,
	recordMovement,
	setExpiryHorizon,
	setReorderPoint,
	stockClinicOf
} from '$lib/domain/supply/stock-writes.js';
import { recallTrace } from '$lib/domain/supply/lot-index.js';
import { incomingTransfers } from '$lib/domain/supply/views.js';
import { readSupply } from '$lib/domain/supply/fold.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, now: () => Date.now() };
const GTIN = '09506000134352';
const PATIENT = toHex(new Uint8Array(32).fill(5));
const refusalOf = (promise: Promise<unknown>) => promise.then(() => null).catch((e: unknown) => e);
const onHand = async (l: Ledger, lot: string, at = 'main') => onHandAt(await readSupply(l), stockClinicOf(l), GTIN, lot, at);
const receive = {
	...emptyMovement('receive'),
	gtin: GTIN,
	lot: 'L1',
	expiry: '2030-01-31',
	qty: '5',
	supplier: 'Acme',
	itemName: 'Vaccine'
};

describe('inventory use cases', () => {
	it('movements, transfers, recalls, contacts and settings: one block each; refusals write nothing', async () => {
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'front-desk' } });
		const b = await joinNetwork(a.net, 'clinic-b', options);
		await syncInto(b, a);
		const now = Date.now();

		let size = a.size;
		expect(await refusalOf(recordMovement(a, { ...receive, itemName: '' }, { now }))).toBeInstanceOf(MovementInputError);
		expect(a.size).toBe(size);
		await recordMovement(a, receive, { now });
		expect(await onHand(a, 'L1')).toBe(5);

		const dose = { ...emptyMovement('administer'), gtin: GTIN, lot: 'L1', patient: PATIENT };
		size = a.size;
		expect(await refusalOf(recordMovement(a, { ...dose, qty: '9' }, { now }))).toBeInstanceOf(MovementInputError);
		expect(a.size).toBe(size);
		await recordMovement(a, dose, { now });
		expect(await onHand(a, 'L1')).toBe(4);

		await recordMovement(a, { ...emptyMovement('transfer'), gtin: GTIN, lot: 'L1', qty: '2', to: authorOf('clinic-b') }, { now });
		await syncInto(b, a);
		const [incoming] = incomingTransfers(await readSupply(b), stockClinicOf(b)!);
		await receiveTransfer(b, incoming!.id, 'fridge');
		expect(await onHand(b, 'L1', 'fridge')).toBe(2);

		size = a.size;
		expect(await refusalOf(recallLot(a, GTIN, 'L1', ' '))).toMatchObject({ code: 'MOVEMENT_INPUT', message: 'Reason: required' });
		expect(await refusalOf(setReorderPoint(a, GTIN, '-1'))).toBeInstanceOf(MovementInputError);
		expect(await refusalOf(setExpiryHorizon(a, '0'))).toBeInstanceOf(MovementInputError);
		expect(a.size).toBe(size);
		await recallLot(a, GTIN, 'L1', 'sterility not assured');
		await recordContact(a, GTIN, 'L1', PATIENT, 'contacted', ' called ');
		expect((await recallTrace(a, await readSupply(a), GTIN, 'L1')).patients).toMatchObject([{ patient: PATIENT, status: 'contacted' }]);
		await setReorderPoint(a, GTIN, '3');
		await setExpiryHorizon(a, '30');
		expect(a.size).toBe(size + 4);
		// A recalled lot is refused before anything is written.
		expect(await refusalOf(recordMovement(a, dose, { now }))).toBeInstanceOf(MovementInputError);
		expect(a.size).toBe(size + 4);
	}, 60_000);

	it('a serial given at two clinics while apart is flagged the same on both, the first in ledger order kept; the form refuses a serial already given', async () => {
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'admin' } });
		const b = await joinNetwork(a.net, 'clinic-b', options);
		await syncInto(b, a);
		const now = Date.now();
		await recordMovement(a, receive, { now });
		await syncInto(b, a);
		await recordMovement(b, { ...receive, lot: 'L2' }, { now });
		const dose = { ...emptyMovement('administer'), gtin: GTIN, patient: PATIENT, serial: 'SN-1' };
		// Apart: each gives the same serial (from its own lot), neither knowing of the other.
		const atA = await recordMovement(a, { ...dose, lot: 'L1' }, { now });
		const atB = await recordMovement(b, { ...dose, lot: 'L2' }, { now });
		await syncInto(a, b);
		await syncInto(b, a);
		const key = `serial-reused|${GTIN}|SN-1`;
		const first = [atA, atB].sort((x, y) => x.clock - y.clock || (x.id < y.id ? -1 : 1));
		for (const node of [a, b]) expect((await readSupply(node)).flags[key]).toMatchObject({ evidence: first.map((blk) => blk.id) });
		// Given already (a row of the store): refused before anything is written, at either clinic, from any lot.
		for (const node of [a, b]) {
			const size = node.size;
			const refusal = await refusalOf(recordMovement(node, { ...dose, lot: node === a ? 'L1' : 'L2' }, { now }));
			expect(refusal).toMatchObject({ code: 'MOVEMENT_INPUT', message: 'Refused: serial SN-1 was already given' });
			expect(node.size).toBe(size);
		}
		// Another serial is given as usual.
		await recordMovement(a, { ...dose, lot: 'L1', serial: 'SN-2' }, { now });
	}, 60_000);
});
