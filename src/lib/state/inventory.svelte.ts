/**
 * The Inventory tab's seam to the ledger: reads the supply fold after every accepted
 * block, checks what a person typed before it becomes a transaction, and refuses a dose
 * of an expired or recalled lot (or more than is on hand) before writing it. The fold
 * judges the same again on every node, for doses written elsewhere or offline.
 */
import { fromHex, LedgerError, type AuthorId, type Ledger, type Tx } from '$lib/core/index.js';
import type { MemberNames } from '$lib/domain/members.js';
import { administerProblem, clinicOf, lotKey, type SupplyState } from '$lib/domain/supply/fold.js';
import { Gs1Error, isGs1Text, normalizeGtin, parseGs1, type Gs1Fields } from '$lib/domain/supply/gs1.js';
import {
	adjustTx,
	administerTx,
	contactTx,
	DEFAULT_LOCATION,
	isIsoDate,
	itemTx,
	MAX_QTY,
	policyTx,
	recallTx,
	receiveTx,
	reorderTx,
	transferReceiveTx,
	transferSendTx,
	wasteTx,
	type AdministrationKind,
	type ContactStatus
} from '$lib/domain/supply/transactions.js';
import { activeRecalls, encountersOf, expiryAlerts, expiryTimeline, flagsFor, incomingTransfers, inventory, recallTrace, reorderAlerts } from '$lib/domain/supply/views.js';

export const MOVEMENTS = [
	{ id: 'receive', label: 'Receive from a supplier' },
	{ id: 'administer', label: 'Give to a patient' },
	{ id: 'transfer', label: 'Transfer to another clinic' },
	{ id: 'waste', label: 'Waste' },
	{ id: 'adjust', label: 'Adjust after a count' }
] as const;
export type Movement = (typeof MOVEMENTS)[number]['id'];

/** What the movement form holds, all as typed. */
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

class InputError extends Error {}

/** Roles of members that hold no stock. */
const NOT_CLINICS = ['patient', 'payer', 'researcher'];

/** The parts of the tab that write: each shows the outcome of its own actions. */
export type Area = 'movement' | 'transfer' | 'recall' | 'settings';

const hexOf = (text: string, bytes: number, what: string) => {
	const clean = text.replace(/\s+/g, '').toLowerCase();
	if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(clean)) throw new InputError(`${what}: expected ${bytes * 2} hexadecimal characters`);
	return fromHex(clean);
};
const qtyOf = (text: string, what = 'Quantity') => {
	const n = Number(text.trim());
	if (!Number.isSafeInteger(n) || n < 1 || n > MAX_QTY) throw new InputError(`${what}: a whole number from 1 to ${MAX_QTY}`);
	return n;
};
const lotOf = (text: string) => {
	const lot = text.trim();
	if (!isGs1Text(lot)) throw new InputError('Lot: 1-20 letters, digits or -./_ (as printed after (10))');
	return lot;
};
const gtinOf = (text: string) => {
	try {
		return normalizeGtin(text);
	} catch (e) {
		throw new InputError((e as Error).message);
	}
};
const locationOf = (text: string) => text.trim() || DEFAULT_LOCATION;
const required = (text: string, what: string) => {
	const t = text.trim();
	if (!t) throw new InputError(`${what}: required`);
	return t;
};

export class InventoryState {
	/** Bumped after each accepted block: the fold's state is updated in place. */
	version = $state(0);
	busy = $state(false);
	error = $state<string | null>(null);
	done = $state<string | null>(null);
	/** Which part of the tab the last action (and so `error` and `done`) belongs to. */
	area = $state<Area>('movement');
	/** Wall clock for alerts (a view of the moment; the fold uses block time). */
	now = $state(Date.now());
	#ledger: () => Ledger | null;

	constructor(ledger: () => Ledger | null) {
		this.#ledger = ledger;
	}

	/**
	 * Follows `ledger` until the returned cleanup runs. Call it untracked from an effect
	 * that depends on the ledger only: a refresh writes the state the getters read.
	 */
	attach(ledger: Ledger | null): () => void {
		const off = ledger ? ledger.on('accepted', () => this.#refresh()) : null;
		this.#refresh();
		return () => off?.();
	}

	#refresh() {
		this.now = Date.now();
		this.version++;
	}

	get supply(): SupplyState | null {
		void this.version;
		return (this.#ledger()?.state().supply as SupplyState | undefined) ?? null;
	}
	get names(): MemberNames {
		void this.version;
		return (this.#ledger()?.state()['member-names'] as MemberNames | undefined) ?? {};
	}
	get self(): AuthorId | null {
		return this.#ledger()?.author ?? null;
	}
	/** This node's clinic: the clinic member it was added for, else itself. */
	get clinic(): string | null {
		const s = this.supply;
		const self = this.self;
		return s && self ? clinicOf(s, self) : null;
	}
	/** Clinics a transfer may go to: members that hold stock (not patients, payers or researchers, not a clinic's devices), but this clinic. */
	get clinics(): { key: string; name: string }[] {
		void this.version;
		const ledger = this.#ledger();
		const s = this.supply;
		if (!ledger || !s) return [];
		return [...ledger.roster().entries()]
			.filter(([key, role]) => !NOT_CLINICS.includes(role) && key !== this.clinic && clinicOf(s, key) === key)
			.map(([key]) => ({ key, name: this.nameOf(key) }));
	}

	nameOf(key: string): string {
		return this.names[key] ?? `${key.slice(0, 8)}…`;
	}

	get rows() {
		const s = this.supply;
		return s && this.clinic ? inventory(s, this.clinic, this.now) : [];
	}
	get expiring() {
		const s = this.supply;
		return s && this.clinic ? expiryAlerts(s, this.clinic, this.now) : [];
	}
	get reorder() {
		const s = this.supply;
		return s && this.clinic ? reorderAlerts(s, this.clinic, this.now) : [];
	}
	get timeline() {
		const s = this.supply;
		return s && this.clinic ? expiryTimeline(s, this.clinic, this.now) : [];
	}
	get recalls() {
		const s = this.supply;
		return s ? activeRecalls(s) : [];
	}
	get incoming() {
		const s = this.supply;
		return s && this.clinic ? incomingTransfers(s, this.clinic) : [];
	}
	get flags() {
		const s = this.supply;
		return s ? flagsFor(s, null) : [];
	}
	/** The visits on the ledger of the patient whose key is typed, for linking a dose (none until the key is complete). */
	encountersFor(patientText: string) {
		const s = this.supply;
		const key = patientText.replace(/\s+/g, '').toLowerCase();
		return s && /^[0-9a-f]{64}$/.test(key) ? encountersOf(s, key) : [];
	}
	trace(gtin: string, lot: string) {
		const s = this.supply;
		return s ? recallTrace(s, gtin, lot) : null;
	}

	/** Fields of a scanned or typed GS1 string, or null with `error` set. */
	readCode(text: string): Gs1Fields | null {
		this.area = 'movement';
		try {
			const fields = parseGs1(text);
			this.error = null;
			return fields;
		} catch (e) {
			this.error = e instanceof Gs1Error ? `Barcode: ${e.message}` : String(e);
			return null;
		}
	}

	/** Quantity of a lot on hand at this clinic's location. */
	onHand(gtin: string, lot: string, location: string): number {
		const s = this.supply;
		const clinic = this.clinic;
		if (!s || !clinic) return 0;
		return s.stock[lotKey(gtin, lot)]?.[clinic]?.[location] ?? 0;
	}

	/** The transactions for a movement as typed; throws InputError naming the field, or a refusal. */
	#movementTxs(input: MovementInput): Tx[] {
		const s = this.supply;
		const gtin = gtinOf(input.gtin);
		const lot = lotOf(input.lot);
		const location = locationOf(input.location);
		const out = (qty: number) => {
			const have = this.onHand(gtin, lot, location);
			if (have < qty) throw new InputError(`Refused: ${have} of lot ${lot} on hand at ${location}, ${qty} needed`);
		};
		switch (input.movement) {
			case 'receive': {
				if (!isIsoDate(input.expiry)) throw new InputError('Expiry: a date (from the barcode’s (17) or the pack)');
				const qty = qtyOf(input.qty);
				const serial = input.serial.trim();
				if (serial && (!isGs1Text(serial) || qty !== 1)) throw new InputError('Serial: one serial number, for a quantity of 1 (as printed after (21))');
				const txs: Tx[] = [];
				const name = input.itemName.trim();
				if (name) txs.push(itemTx({ gtin, name }));
				else if (!s?.items[gtin]) throw new InputError('Item name: this GTIN is new here; name it (e.g. “Measles vaccine, 10-dose vial”)');
				txs.push(receiveTx({ gtin, lot, expiry: input.expiry, qty, supplier: required(input.supplier, 'Supplier'), location, ...(serial ? { serials: [serial] } : {}) }));
				return txs;
			}
			case 'administer': {
				const patient = hexOf(input.patient, 32, 'Patient key');
				const qty = qtyOf(input.qty);
				const problem = s ? administerProblem(s, gtin, lot, Date.now()) : null;
				if (problem) throw new InputError(`Refused: ${problem}. Do not give this dose.`);
				out(qty);
				const serial = input.serial.trim();
				if (serial && !isGs1Text(serial)) throw new InputError('Serial: 1-20 letters, digits or -./_');
				if (serial && s?.serials[`${gtin}|${serial}`]) throw new InputError(`Refused: serial ${serial} was already given`);
				const hasEncounter = input.encounterBlock.trim() !== '' || input.encounterRid.trim() !== '';
				const encounter = hasEncounter ? { block: hexOf(input.encounterBlock, 32, 'Encounter block'), rid: hexOf(input.encounterRid, 16, 'Encounter record id') } : undefined;
				return [administerTx({ patient, gtin, lot, kind: input.kind, qty, location, ...(serial ? { serial } : {}), ...(encounter ? { encounter } : {}) })];
			}
			case 'transfer': {
				const to = hexOf(input.to, 32, 'To clinic');
				const qty = qtyOf(input.qty);
				out(qty);
				return [transferSendTx({ id: crypto.getRandomValues(new Uint8Array(16)), to, gtin, lot, qty, location })];
			}
			case 'waste': {
				const qty = qtyOf(input.qty);
				out(qty);
				return [wasteTx({ gtin, lot, qty, reason: required(input.reason, 'Reason'), location })];
			}
			case 'adjust': {
				const delta = Number(input.qty.trim());
				if (!Number.isSafeInteger(delta) || delta === 0 || Math.abs(delta) > MAX_QTY) throw new InputError('Change: a whole number other than 0 (negative to take away)');
				if (delta < 0) out(-delta);
				return [adjustTx({ gtin, lot, delta, reason: required(input.reason, 'Reason'), location })];
			}
		}
	}

	async record(input: MovementInput): Promise<boolean> {
		return this.#write(() => this.#movementTxs(input), `${MOVEMENTS.find((m) => m.id === input.movement)!.label}: saved`, 'movement');
	}

	async receiveTransfer(id: string, location: string): Promise<boolean> {
		return this.#write(() => [transferReceiveTx({ id: fromHex(id), location: locationOf(location) })], 'Transfer received', 'transfer');
	}

	async recall(gtin: string, lot: string, reason: string): Promise<boolean> {
		return this.#write(() => [recallTx({ gtin: gtinOf(gtin), lot: lotOf(lot), reason: required(reason, 'Reason') })], `Lot ${lot.trim()} recalled`, 'recall');
	}

	async contact(gtin: string, lot: string, patient: string, status: ContactStatus, note: string): Promise<boolean> {
		return this.#write(() => [contactTx({ gtin, lot, patient: fromHex(patient), status, ...(note.trim() ? { note: note.trim() } : {}) })], 'Contact status saved', 'recall');
	}

	async setHorizon(days: string): Promise<boolean> {
		return this.#write(() => [policyTx({ horizonDays: qtyOf(days, 'Days') })], 'Expiry alert horizon saved', 'settings');
	}

	async setReorder(gtin: string, level: string): Promise<boolean> {
		return this.#write(() => {
			const n = Number(level.trim());
			if (!Number.isSafeInteger(n) || n < 0 || n > MAX_QTY) throw new InputError(`Reorder point: a whole number from 0 to ${MAX_QTY}`);
			return [reorderTx({ gtin: gtinOf(gtin), level: n })];
		}, 'Reorder point saved', 'settings');
	}

	async #write(build: () => Tx[], done: string, area: Area): Promise<boolean> {
		const ledger = this.#ledger();
		this.area = area;
		this.done = null;
		if (!ledger) return ((this.error = 'No ledger open.'), false);
		let txs: Tx[];
		try {
			txs = build();
		} catch (e) {
			if (e instanceof InputError) return ((this.error = e.message), false);
			throw e;
		}
		this.busy = true;
		try {
			await ledger.append(txs);
			this.error = null;
			this.done = done;
			return true;
		} catch (e) {
			this.error = e instanceof LedgerError ? `Not saved: ${e.message}` : `Not saved: ${String(e)}`;
			return false;
		} finally {
			this.busy = false;
		}
	}
}
