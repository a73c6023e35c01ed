/**
 * Every wrapped data key, kept in the store by patient (core index-fold.ts), not in memory:
 * a network's key wraps grow with every patient, category, epoch and reader for as long as
 * it lives (at 1,000,000 blocks they were 29.5 MB of the records fold's checkpoint, issue
 * 19). One row per block and patient under the patient's key, holding that block's
 * `key.wrap` transactions for the patient in transaction order.
 *
 * A node reads the wraps of the patients it is about to seal for, open or share
 * ({@link keySlotsOf}): a {@link KeySlots} answers only for the patients it was read for,
 * and throws for any other, so a key is never taken as missing because it was not read.
 *
 * Nothing a member writes can take a key away from its readers: every wrap is kept (the
 * reader tries each, and a key whose id is not its commitment is bogus), and a key is
 * filed under the patient, category and epoch each wrap names (a wrap naming other ones
 * fills another slot). Rows are in ledger order whatever order their blocks arrived in.
 */
import { CodedError, toHex, type Block, type CborValue, type Fact, type FactRow, type IndexFold } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';
import type { FactReader } from './record-index.js';

export interface WrapEntry {
	readonly eph: Uint8Array;
	readonly nonce: Uint8Array;
	readonly wrapped: Uint8Array;
	readonly block: string;
	/** Who wrote the wrap (hex member key). */
	readonly by: string;
}

export interface KeyEntry {
	readonly kid: string;
	readonly patient: string;
	readonly category: Category;
	readonly epoch: number;
	/** Every wrapped copy of the key by reader (hex member or patient key), in ledger order: a bogus one cannot hide the genuine one. */
	readonly readers: Record<string, WrapEntry[]>;
}

/** Where data key `kid` of `patient`'s `category` at `epoch` is filed. */
export const keySlot = (patient: string, category: Category, epoch: number, kid: string) => `${patient}/${category}/${epoch}/${kid}`;

export const KEY_WRAPS = 'key-wraps';

/** A row's value: the block's author, then each `key.wrap` for the row's patient as [kid, category, epoch, [reader, eph, nonce, wrapped]...]. */
type WrapsValue = [
	by: string,
	...keys: [kid: string, category: Category, epoch: number, ...wraps: [string, Uint8Array, Uint8Array, Uint8Array][]][]
];

export const keyWrapsIndex: IndexFold = {
	name: KEY_WRAPS,
	version: 1,
	facts(block: Block): Fact[] {
		const byPatient = new Map<string, CborValue[]>();
		for (const tx of block.txs) {
			if (tx.t !== 'key.wrap') continue;
			const patient = toHex(tx.patient as Uint8Array);
			const wraps = (tx.wraps as Record<string, Uint8Array>[]).map((w) => [toHex(w.reader!), w.eph!, w.nonce!, w.wrapped!]);
			const entry: CborValue = [toHex(tx.kid as Uint8Array), tx.category as string, tx.epoch as number, ...wraps];
			const list = byPatient.get(patient);
			if (list) list.push(entry);
			else byPatient.set(patient, [block.author, entry]);
		}
		return [...byPatient];
	}
};

/** Adds the wraps of `rows` (one patient's, in ledger order) to `slots`, by slot. */
function addRows(slots: Map<string, KeyEntry>, patient: string, rows: readonly FactRow[]): void {
	for (const row of rows) {
		const [by, ...keys] = row.value as WrapsValue;
		for (const [kid, category, epoch, ...wraps] of keys) {
			const slot = keySlot(patient, category, epoch, kid);
			let entry = slots.get(slot);
			if (!entry) slots.set(slot, (entry = { kid, patient, category, epoch, readers: {} }));
			for (const [reader, eph, nonce, wrapped] of wraps) (entry.readers[reader] ??= []).push({ eph, nonce, wrapped, block: row.block, by });
		}
	}
}

/** The wrapped keys of some patients, read from the store: it answers for those patients only. */
export class KeySlots {
	readonly #slots: Map<string, KeyEntry>;
	readonly #patients: ReadonlySet<string>;
	/** Each patient's keys, in the order of {@link #slots}. */
	readonly #byPatient = new Map<string, KeyEntry[]>();

	constructor(patients: Iterable<string>, slots: Map<string, KeyEntry> = new Map()) {
		this.#patients = new Set(patients);
		this.#slots = slots;
		for (const entry of slots.values()) {
			const list = this.#byPatient.get(entry.patient);
			if (list) list.push(entry);
			else this.#byPatient.set(entry.patient, [entry]);
		}
	}

	/** Keys read for no patient: the view of a decision that needs no key. */
	static readonly none = new KeySlots([]);

	#check(patient: string): void {
		if (!this.#patients.has(patient))
			throw new CodedError('KEYS_NOT_READ', `the keys of patient ${patient.slice(0, 12)} were not read for this decision`);
	}

	/** The key filed at `slot` ({@link keySlot}), if any. */
	get(slot: string): KeyEntry | undefined {
		this.#check(slot.slice(0, slot.indexOf('/')));
		return this.#slots.get(slot);
	}

	/** Every key of `patient`, in the ledger order of their first wraps. */
	ofPatient(patient: string): readonly KeyEntry[] {
		this.#check(patient);
		return this.#byPatient.get(patient) ?? [];
	}

	/** Every key read. */
	all(): IterableIterator<KeyEntry> {
		return this.#slots.values();
	}

	get patients(): ReadonlySet<string> {
		return this.#patients;
	}
}

/** Patients whose wraps are read together in one store read. */
const KEYS_PER_READ = 2000;

/** The wrapped keys of `patients`, read from the store (thousands of patients to a read). */
export async function keySlotsOf(ledger: FactReader, patients: Iterable<string>): Promise<KeySlots> {
	const list = [...new Set(patients)];
	const slots = new Map<string, KeyEntry>();
	for (let i = 0; i < list.length; i += KEYS_PER_READ) {
		const chunk = list.slice(i, i + KEYS_PER_READ);
		const rows = await ledger.factsOfKeys(KEY_WRAPS, chunk);
		chunk.forEach((patient, n) => addRows(slots, patient, rows[n]!));
	}
	return new KeySlots(list, slots);
}

/** Every patient with a wrapped key on the ledger, in key order, a page at a time. */
export async function* keyPatients(ledger: FactReader, page = 2000): AsyncGenerator<string[]> {
	let after: string | null = null;
	for (;;) {
		const keys = await ledger.factKeys(KEY_WRAPS, after, page);
		if (keys.length > 0) yield keys;
		if (keys.length < page) return;
		after = keys.at(-1)!;
	}
}
