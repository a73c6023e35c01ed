/**
 * The inventory use cases: the stock movements, recalls, contact statuses and alert
 * settings a clinic records. Plain functions over the ledger that the Inventory screen,
 * the headless peer and the tests call the same way. Each checks its input against the
 * supply fold first (throwing {@link MovementInputError}, which names the field) and then
 * writes ONE block, so a refusal leaves nothing behind.
 */
import { fromHex, type Block, type Ledger, type Tx } from '$lib/core/index.js';
import type { Visit } from '../records/visit.js';
import { doseFromVisit } from './dose-from-visit.js';
import { clinicOf, lotKey, type SupplyState, type SupplyView } from './fold.js';
import { lotPageKeys, readSupply } from './pages.js';
import { lotPageKey, serialKey } from './supply-state.js';
import { gtinOf, locationOf, lotOf, MovementInputError, movementTxs, qtyOf, required, type MovementInput } from './movement.js';
import {
	administerTx,
	contactTx,
	MAX_QTY,
	policyTx,
	recallTx,
	reorderTx,
	transferReceiveTx,
	type AdministrationKind,
	type ContactStatus
} from './transactions.js';
import { SUPPLY_SERIALS } from './serial-index.js';
import { inventory } from './views.js';

/** The supply fold of `ledger` (its part in memory: clinics, items, transfers in transit; pages.ts reads the rest), or null before it has one. */
export const supplyOf = (ledger: Ledger): SupplyState | null => (ledger.state().supply as SupplyState | undefined) ?? null;

/** The clinic `ledger`'s node stocks for: the clinic member it was added for, else itself. */
export function stockClinicOf(ledger: Ledger): string | null {
	const supply = supplyOf(ledger);
	return supply && ledger.author ? clinicOf(supply, ledger.author) : null;
}

/** Quantity of a lot on hand at `clinic`'s `location`. */
export function onHandAt(supply: SupplyView | null, clinic: string | null, gtin: string, lot: string, location: string): number {
	if (!supply || !clinic) return 0;
	return supply.stock[lotKey(gtin, lot)]?.[clinic]?.[location] ?? 0;
}

/** The supply view with the pages of `lots` (GTIN and lot number), every lot's when omitted; null before the ledger has a supply fold. */
async function readLots(ledger: Ledger, lots?: readonly (readonly [string, string])[]): Promise<SupplyView | null> {
	const supply = supplyOf(ledger);
	if (!supply) return null;
	const keys = lots ? lots.map(([gtin, lot]) => lotPageKey(gtin, lot)) : lotPageKeys(supply);
	return readSupply(ledger, keys);
}

/** The lot a movement as typed names, if its fields can be read (else movementTxs names the field). */
function lotNamed(input: MovementInput): [string, string][] {
	try {
		return [[gtinOf(input.gtin), lotOf(input.lot)]];
	} catch {
		return [];
	}
}

/** Appends what `build` returns; `build` throws {@link MovementInputError} before anything is written. */
async function write(ledger: Ledger, build: () => Tx[]): Promise<Block> {
	return ledger.append(build());
}

/** The key (`<gtin>|<serial>`) of the serial the dose `input` gives when it was already given (read from the store: serial-index.ts); null otherwise, or when the input names none that can be read. */
async function serialGiven(ledger: Ledger, input: MovementInput): Promise<string | null> {
	const serial = input.movement === 'administer' ? input.serial.trim() : '';
	if (!serial) return null;
	let gtin: string;
	try {
		gtin = gtinOf(input.gtin);
	} catch {
		return null; // movementTxs names the field
	}
	const key = serialKey(gtin, serial);
	return (await ledger.facts(SUPPLY_SERIALS, key, { limit: 1 })).length > 0 ? key : null;
}

/** A movement as typed (receive, give, transfer, waste, adjust), checked against this clinic's stock at `now`. */
export async function recordMovement(
	ledger: Ledger,
	input: MovementInput,
	options: { now: number; randomId?: () => Uint8Array }
): Promise<Block> {
	const given = await serialGiven(ledger, input);
	// The lot's page as read now: the fold judges the movement again on every node.
	const supply = await readLots(ledger, lotNamed(input));
	return write(ledger, () => {
		const clinic = stockClinicOf(ledger);
		return movementTxs(input, {
			supply,
			givenSerials: new Set(given ? [given] : []),
			onHand: (gtin, lot, at) => onHandAt(supply, clinic, gtin, lot, at),
			now: options.now,
			randomId: options.randomId ?? (() => crypto.getRandomValues(new Uint8Array(16)))
		});
	});
}

/** "Give a dose" from a visit: one unit of the chosen lot (see `lotChoice`) usable at `now`, linked to the visit. */
export async function giveDose(ledger: Ledger, visit: Visit, choice: string, kind: AdministrationKind, now: number): Promise<Block> {
	const supply = await readLots(ledger);
	return write(ledger, () => {
		const clinic = stockClinicOf(ledger);
		const rows = supply && clinic ? inventory(supply, clinic, now) : [];
		const made = doseFromVisit(visit, rows, choice, kind);
		if ('problem' in made) throw new MovementInputError(made.problem);
		const d = made.draft;
		return [
			administerTx({
				patient: fromHex(d.patient),
				gtin: d.gtin,
				lot: d.lot,
				kind: d.kind,
				qty: d.qty,
				location: d.location,
				encounter: { block: fromHex(d.encounter.block), rid: fromHex(d.encounter.rid) }
			})
		];
	});
}

/** Receives the incoming transfer `id` (hex) into `location`. */
export function receiveTransfer(ledger: Ledger, id: string, location: string): Promise<Block> {
	return write(ledger, () => [transferReceiveTx({ id: fromHex(id), location: locationOf(location) })]);
}

/** Recalls a lot, for a reason every node shows with it. */
export function recallLot(ledger: Ledger, gtin: string, lot: string, reason: string): Promise<Block> {
	return write(ledger, () => [recallTx({ gtin: gtinOf(gtin), lot: lotOf(lot), reason: required(reason, 'Reason') })]);
}

/** Records whether a patient given a recalled lot was reached. */
export function recordContact(
	ledger: Ledger,
	gtin: string,
	lot: string,
	patient: string,
	status: ContactStatus,
	note: string
): Promise<Block> {
	return write(ledger, () => [contactTx({ gtin, lot, patient: fromHex(patient), status, ...(note.trim() ? { note: note.trim() } : {}) })]);
}

/** How many days ahead expiry alerts look. */
export function setExpiryHorizon(ledger: Ledger, days: string): Promise<Block> {
	return write(ledger, () => [policyTx({ horizonDays: qtyOf(days, 'Days') })]);
}

/** The quantity of `gtin` at which a reorder alert shows. */
export function setReorderPoint(ledger: Ledger, gtin: string, level: string): Promise<Block> {
	return write(ledger, () => {
		const n = Number(level.trim());
		if (!Number.isSafeInteger(n) || n < 0 || n > MAX_QTY)
			throw new MovementInputError(`Reorder point: a whole number from 0 to ${MAX_QTY}`);
		return [reorderTx({ gtin: gtinOf(gtin), level: n })];
	});
}
