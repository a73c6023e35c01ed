/**
 * The Inventory tab's seam to the ledger: reads the supply fold's pages
 * (domain/supply/pages.ts) when blocks are accepted, at most every 250 ms, and after each of
 * its own writes, and writes the movements a person records, each checked first by the
 * domain (src/lib/domain/supply/movement.ts). Everything a component reads is a getter; only
 * methods change what it shows.
 */
import { Coalesced } from './coalesced.js';
import { LedgerError, type AuthorId, type Block, type Ledger } from '$lib/core/index.js';
import type { MemberNames } from '$lib/domain/members.js';
import { encountersOfPatient, type PatientEncounter } from '$lib/domain/records/encounter-lookup.js';
import type { Visit } from '$lib/domain/records/visit.js';
import { usableLots } from '$lib/domain/supply/dose-from-visit.js';
import { lotPageKey } from '$lib/domain/supply/supply-state.js';
import { clinicOf, lotKey, readSupply, shownPageKeys, type SupplyState, type SupplyView } from '$lib/domain/supply/fold.js';
import { recallTrace } from '$lib/domain/supply/lot-index.js';
import { Gs1Error, parseGs1, type Gs1Fields } from '$lib/domain/supply/gs1.js';
import { MOVEMENTS, MovementInputError, type MovementInput } from '$lib/domain/supply/movement.js';
import {
	giveDose,
	onHandAt,
	recallLot,
	receiveTransfer,
	recordContact,
	recordMovement,
	setExpiryHorizon,
	setReorderPoint
} from '$lib/domain/supply/stock-writes.js';
import type { AdministrationKind, ContactStatus } from '$lib/domain/supply/transactions.js';
import {
	activeRecalls,
	expiryAlerts,
	expiryTimeline,
	flagsFor,
	incomingTransfers,
	inventory,
	recallConcerns,
	reorderAlerts,
	type RecallTrace
} from '$lib/domain/supply/views.js';

export { emptyMovement, MOVEMENTS, type Movement, type MovementInput } from '$lib/domain/supply/movement.js';
export { lotChoice } from '$lib/domain/supply/dose-from-visit.js';
export type { StockRow } from '$lib/domain/supply/views.js';
export type { AdministrationKind } from '$lib/domain/supply/transactions.js';

/** Roles of members that hold no stock. */
const NOT_CLINICS = ['patient', 'payer', 'researcher'];

/** The parts of the tab that write: each shows the outcome of its own actions. */
export type Area = 'movement' | 'transfer' | 'recall' | 'settings' | 'visit';

export class InventoryState {
	/** Bumped at each refresh: what depends on the ledger's other folds is read again. */
	#version = $state(0);
	/** The supply state as last read (every page but the received transfers': pages.ts `shownPageKeys`), null before the first read. */
	#view = $state.raw<SupplyView | null>(null);
	/** Reads started, and the newest whose view is shown: a read that ends after a newer one's is dropped. */
	#reads = 0;
	#shown = 0;
	/** A sync delivers blocks by the thousand: read again at most every 250 ms. */
	readonly #reread = new Coalesced(250, () => void this.refresh());
	#busy = $state(false);
	#error = $state<string | null>(null);
	#done = $state<string | null>(null);
	#area = $state<Area>('movement');
	/** Wall clock for alerts (a view of the moment; the fold uses block time). */
	#now = $state(0);
	/** Recall traces read from the recall index, by lot key (not deeply reactive: replaced whole). */
	#traces = $state.raw<Record<string, RecallTrace>>({});
	/** Reads of each lot's trace asked for so far: a read that finishes after a later one is dropped. */
	#traceAsked = new Map<string, number>();
	#ledger: () => Ledger | null;
	#clock: () => number;

	constructor(ledger: () => Ledger | null, clock: () => number = Date.now) {
		this.#ledger = ledger;
		this.#clock = clock;
		this.#now = clock();
	}

	get busy(): boolean {
		return this.#busy;
	}
	get error(): string | null {
		return this.#error;
	}
	get done(): string | null {
		return this.#done;
	}
	/** Which part of the tab the last action (and so `error` and `done`) belongs to. */
	get area(): Area {
		return this.#area;
	}
	get now(): number {
		return this.#now;
	}

	/**
	 * Follows `ledger` until the returned cleanup runs. Call it untracked from an effect
	 * that depends on the ledger only: a refresh writes the state the getters read.
	 */
	attach(ledger: Ledger | null): () => void {
		const off = ledger ? ledger.on('accepted', () => this.#reread.ask()) : null;
		void this.refresh();
		return () => {
			off?.();
			this.#reread.cancel();
		};
	}

	/**
	 * Reads the supply fold again (its pages, from memory or the store) at the current moment
	 * (alerts age while the tab is open); done when the view is shown. The fold changes the
	 * pages it holds in place, so a view can be ahead of its read, never behind the last one shown.
	 */
	async refresh(): Promise<void> {
		// This read covers every block accepted before it: a redraw they asked for is not needed.
		this.#reread.cancel();
		this.#now = this.#clock();
		this.#version++;
		const ledger = this.#ledger();
		const started = ++this.#reads;
		let view: SupplyView | null;
		try {
			const supply = ledger?.state().supply as SupplyState | undefined;
			// Every lot's page and every flag; not the received transfers (no list here shows them).
			view = ledger && supply ? await readSupply(ledger, shownPageKeys(supply)) : null;
		} catch (e) {
			// The store failed or closed under the read: the last view stays, and says why.
			this.#error = `Inventory: ${e instanceof Error ? e.message : String(e)}`;
			return;
		}
		if (started < this.#shown || ledger !== this.#ledger()) return;
		this.#shown = started;
		this.#view = view;
	}

	/** The supply fold's part in memory (which clinic each device writes for), as of the last refresh. */
	get #fold(): SupplyState | null {
		void this.#version;
		return (this.#ledger()?.state().supply as SupplyState | undefined) ?? null;
	}

	/** The supply state as last read ({@link refresh}); null before, or without a ledger. */
	get supply(): SupplyView | null {
		return this.#view;
	}
	get names(): MemberNames {
		void this.#version;
		return (this.#ledger()?.state()['member-names'] as MemberNames | undefined) ?? {};
	}
	get self(): AuthorId | null {
		return this.#ledger()?.author ?? null;
	}
	/** This node's clinic: the clinic member it was added for, else itself. */
	get clinic(): string | null {
		const s = this.#fold;
		const self = this.self;
		return s && self ? clinicOf(s, self) : null;
	}
	/** Clinics a transfer may go to: members that hold stock (not patients, payers or researchers, not a clinic's devices), but this clinic. */
	get clinics(): { key: string; name: string }[] {
		const ledger = this.#ledger();
		const s = this.#fold;
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
		return s && this.clinic ? inventory(s, this.clinic, this.#now) : [];
	}
	/** Lots a dose may be given from now, first to expire first. */
	get usable() {
		return usableLots(this.rows);
	}
	get expiring() {
		const s = this.supply;
		return s && this.clinic ? expiryAlerts(s, this.clinic, this.#now) : [];
	}
	get reorder() {
		const s = this.supply;
		return s && this.clinic ? reorderAlerts(s, this.clinic, this.#now) : [];
	}
	get timeline() {
		const s = this.supply;
		return s && this.clinic ? expiryTimeline(s, this.clinic, this.#now) : [];
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
	/** The visits on the ledger of a patient (by key), for linking a dose. */
	encountersFor(patient: string): Promise<PatientEncounter[]> {
		const ledger = this.supply ? this.#ledger() : null; // read again after every accepted batch
		return ledger ? encountersOfPatient(ledger, patient) : Promise.resolve([]);
	}
	/** The lot's trace as last read by {@link loadTrace}, or null before the first read. */
	trace(gtin: string, lot: string): RecallTrace | null {
		return this.#traces[lotKey(gtin, lot)] ?? null;
	}
	/** Whether a recall of the lot concerns this clinic: stock on hand here, or doses given here. */
	recallConcernsUs(gtin: string, lot: string): boolean {
		const s = this.supply;
		return s !== null && this.clinic !== null && recallConcerns(s, gtin, lot, this.clinic);
	}
	/**
	 * Reads the lot's trace from the recall index (a page at a time) into {@link trace}. It
	 * reads the fold's version first: an effect that calls it runs again, and so reads the
	 * trace again, after each accepted block. Of reads of one lot that overlap, the last
	 * asked for is kept.
	 */
	async loadTrace(gtin: string, lot: string): Promise<RecallTrace | null> {
		const ledger = this.#fold ? this.#ledger() : null;
		if (!ledger) return null;
		const key = lotKey(gtin, lot);
		const asked = (this.#traceAsked.get(key) ?? 0) + 1;
		this.#traceAsked.set(key, asked);
		try {
			const trace = await recallTrace(ledger, await readSupply(ledger, [lotPageKey(gtin, lot)]), gtin, lot);
			if (this.#traceAsked.get(key) === asked) this.#traces = { ...this.#traces, [key]: trace };
			return trace;
		} catch (e) {
			// The store failed or closed under the read: said where the recall is shown, the last trace kept.
			this.#area = 'recall';
			this.#error = `Recall trace: ${e instanceof Error ? e.message : String(e)}`;
			return null;
		}
	}

	/** Fields of a scanned or typed GS1 string, or null with `error` set. */
	readCode(text: string): Gs1Fields | null {
		this.#area = 'movement';
		try {
			const fields = parseGs1(text);
			this.#error = null;
			return fields;
		} catch (e) {
			this.#error = e instanceof Gs1Error ? `Barcode: ${e.message}` : String(e);
			return null;
		}
	}

	/** Quantity of a lot on hand at this clinic's location. */
	onHand(gtin: string, lot: string, location: string): number {
		return onHandAt(this.supply, this.clinic, gtin, lot, location);
	}

	record(input: MovementInput): Promise<boolean> {
		return this.#write(
			(ledger) => recordMovement(ledger, input, { now: this.#clock() }),
			`${MOVEMENTS.find((m) => m.id === input.movement)!.label}: saved`,
			'movement'
		);
	}

	/** "Give a dose" from a visit: one unit of the chosen lot (see `lotChoice`), linked to the visit. */
	giveDose(visit: Visit, choice: string, kind: AdministrationKind): Promise<boolean> {
		return this.#write((ledger) => giveDose(ledger, visit, choice, kind, this.#now), 'Dose recorded for this visit', 'visit');
	}

	receiveTransfer(id: string, location: string): Promise<boolean> {
		return this.#write((ledger) => receiveTransfer(ledger, id, location), 'Transfer received', 'transfer');
	}

	recall(gtin: string, lot: string, reason: string): Promise<boolean> {
		return this.#write((ledger) => recallLot(ledger, gtin, lot, reason), `Lot ${lot.trim()} recalled`, 'recall');
	}

	contact(gtin: string, lot: string, patient: string, status: ContactStatus, note: string): Promise<boolean> {
		return this.#write((ledger) => recordContact(ledger, gtin, lot, patient, status, note), 'Contact status saved', 'recall');
	}

	setHorizon(days: string): Promise<boolean> {
		return this.#write((ledger) => setExpiryHorizon(ledger, days), 'Expiry alert horizon saved', 'settings');
	}

	setReorder(gtin: string, level: string): Promise<boolean> {
		return this.#write((ledger) => setReorderPoint(ledger, gtin, level), 'Reorder point saved', 'settings');
	}

	/** Runs a stock use case: a refused field shows as its message, a refused block as "Not saved". */
	async #write(write: (ledger: Ledger) => Promise<Block>, done: string, area: Area): Promise<boolean> {
		const ledger = this.#ledger();
		this.#area = area;
		this.#done = null;
		if (!ledger) return ((this.#error = 'No ledger open.'), false);
		this.#busy = true;
		try {
			await write(ledger);
			// What the write changed is shown when the caller goes on.
			await this.refresh();
			this.#error = null;
			this.#done = done;
			return true;
		} catch (e) {
			if (e instanceof MovementInputError) this.#error = e.message;
			else this.#error = e instanceof LedgerError ? `Not saved: ${e.message}` : `Not saved: ${String(e)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}
}
