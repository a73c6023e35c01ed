/**
 * A stock movement as a person typed it, checked field by field and turned into
 * transactions. A dose of an expired or recalled lot, or more than is on hand, is refused
 * here before anything is written; the fold judges the same again on every node.
 */
import { CodedError, fromHex, type Tx } from '$lib/core/index.js';
import { administerProblem, type SupplyView } from './fold.js';
import { serialKey } from './supply-state.js';
import { isGs1Text, normalizeGtin } from './gs1.js';
import {
	adjustTx,
	administerTx,
	DEFAULT_LOCATION,
	isIsoDate,
	itemTx,
	MAX_QTY,
	receiveTx,
	transferSendTx,
	wasteTx,
	type AdministrationKind
} from './transactions.js';

export const MOVEMENTS = [
	{ id: 'receive', label: 'Receive from a supplier' },
	{ id: 'administer', label: 'Give to a patient' },
	{ id: 'transfer', label: 'Transfer to another clinic' },
	{ id: 'waste', label: 'Waste' },
	{ id: 'adjust', label: 'Adjust after a count' }
] as const;
export type Movement = (typeof MOVEMENTS)[number]['id'];

/** What the movement form holds, all as typed; the encounter as chosen from the patient's visits. */
export interface MovementInput {
	movement: Movement;
	gtin: string;
	lot: string;
	expiry: string;
	serial: string;
	qty: string;
	location: string;
	supplier: string;
	itemName: string;
	patient: string;
	kind: AdministrationKind;
	encounterBlock: string;
	encounterRid: string;
	to: string;
	reason: string;
}

export const emptyMovement = (movement: Movement = 'receive'): MovementInput => ({
	movement,
	gtin: '',
	lot: '',
	expiry: '',
	serial: '',
	qty: '1',
	location: DEFAULT_LOCATION,
	supplier: '',
	itemName: '',
	patient: '',
	kind: 'immunization',
	encounterBlock: '',
	encounterRid: '',
	to: '',
	reason: ''
});

/** A field typed wrong, or a movement refused before it is written; the message names the field. */
export class MovementInputError extends CodedError {
	override name = 'MovementInputError';
	constructor(message: string) {
		super('MOVEMENT_INPUT', message);
	}
}

export const hexOf = (text: string, bytes: number, what: string): Uint8Array => {
	const clean = text.replace(/\s+/g, '').toLowerCase();
	if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(clean))
		throw new MovementInputError(`${what}: expected ${bytes * 2} hexadecimal characters`);
	return fromHex(clean);
};
export const qtyOf = (text: string, what = 'Quantity'): number => {
	const n = Number(text.trim());
	if (!Number.isSafeInteger(n) || n < 1 || n > MAX_QTY) throw new MovementInputError(`${what}: a whole number from 1 to ${MAX_QTY}`);
	return n;
};
export const lotOf = (text: string): string => {
	const lot = text.trim();
	if (!isGs1Text(lot)) throw new MovementInputError('Lot: 1-20 letters, digits or -./_ (as printed after (10))');
	return lot;
};
export const gtinOf = (text: string): string => {
	try {
		return normalizeGtin(text);
	} catch (e) {
		throw new MovementInputError((e as Error).message);
	}
};
export const locationOf = (text: string): string => text.trim() || DEFAULT_LOCATION;
export const required = (text: string, what: string): string => {
	const t = text.trim();
	if (!t) throw new MovementInputError(`${what}: required`);
	return t;
};

/** What a movement is checked against: the fold, this clinic's stock, the moment, fresh ids. */
export interface MovementContext {
	readonly supply: SupplyView | null;
	/** Serials already given (`<gtin>|<serial>`), read from the store for this movement (stock-writes.ts). */
	readonly givenSerials?: ReadonlySet<string>;
	onHand(gtin: string, lot: string, location: string): number;
	readonly now: number;
	randomId(): Uint8Array;
}

/** The transactions for a movement as typed; throws MovementInputError naming the field, or the refusal. */
export function movementTxs(input: MovementInput, ctx: MovementContext): Tx[] {
	const s = ctx.supply;
	const gtin = gtinOf(input.gtin);
	const lot = lotOf(input.lot);
	const location = locationOf(input.location);
	const out = (qty: number) => {
		const have = ctx.onHand(gtin, lot, location);
		if (have < qty) throw new MovementInputError(`Refused: ${have} of lot ${lot} on hand at ${location}, ${qty} needed`);
	};
	switch (input.movement) {
		case 'receive': {
			if (!isIsoDate(input.expiry)) throw new MovementInputError('Expiry: a date (from the barcode’s (17) or the pack)');
			const qty = qtyOf(input.qty);
			const serial = input.serial.trim();
			if (serial && (!isGs1Text(serial) || qty !== 1))
				throw new MovementInputError('Serial: one serial number, for a quantity of 1 (as printed after (21))');
			const txs: Tx[] = [];
			const name = input.itemName.trim();
			if (name) txs.push(itemTx({ gtin, name }));
			else if (!s?.items[gtin])
				throw new MovementInputError('Item name: this GTIN is new here; name it (e.g. “Measles vaccine, 10-dose vial”)');
			txs.push(
				receiveTx({
					gtin,
					lot,
					expiry: input.expiry,
					qty,
					supplier: required(input.supplier, 'Supplier'),
					location,
					...(serial ? { serials: [serial] } : {})
				})
			);
			return txs;
		}
		case 'administer': {
			const patient = hexOf(input.patient, 32, 'Patient key');
			const qty = qtyOf(input.qty);
			const problem = s ? administerProblem(s, gtin, lot, ctx.now) : null;
			if (problem) throw new MovementInputError(`Refused: ${problem}. Do not give this dose.`);
			out(qty);
			const serial = input.serial.trim();
			if (serial && !isGs1Text(serial)) throw new MovementInputError('Serial: 1-20 letters, digits or -./_');
			if (serial && ctx.givenSerials?.has(serialKey(gtin, serial)))
				throw new MovementInputError(`Refused: serial ${serial} was already given`);
			const hasEncounter = input.encounterBlock.trim() !== '' || input.encounterRid.trim() !== '';
			const encounter = hasEncounter
				? { block: hexOf(input.encounterBlock, 32, 'Encounter block'), rid: hexOf(input.encounterRid, 16, 'Encounter record id') }
				: undefined;
			return [
				administerTx({
					patient,
					gtin,
					lot,
					kind: input.kind,
					qty,
					location,
					...(serial ? { serial } : {}),
					...(encounter ? { encounter } : {})
				})
			];
		}
		case 'transfer': {
			const to = hexOf(input.to, 32, 'To clinic');
			const qty = qtyOf(input.qty);
			out(qty);
			return [transferSendTx({ id: ctx.randomId(), to, gtin, lot, qty, location })];
		}
		case 'waste': {
			const qty = qtyOf(input.qty);
			out(qty);
			return [wasteTx({ gtin, lot, qty, reason: required(input.reason, 'Reason'), location })];
		}
		case 'adjust': {
			const delta = Number(input.qty.trim());
			if (!Number.isSafeInteger(delta) || delta === 0 || Math.abs(delta) > MAX_QTY)
				throw new MovementInputError('Change: a whole number other than 0 (negative to take away)');
			if (delta < 0) out(-delta);
			return [adjustTx({ gtin, lot, delta, reason: required(input.reason, 'Reason'), location })];
		}
	}
}
