/**
 * The records fold: what the ledger holds about each patient's keys and access requests,
 * built from ciphertext metadata only (every node keeps it, readers or not). Which data
 * keys exist and for whom they are wrapped (`keys`), and access requests and emergency
 * accesses by id. Every version of every record is kept in the store by key, not here
 * (record-index.ts); so are the patients' audit trails (audit-index.ts).
 *
 * Nothing a member writes can take a key or a record away from its readers: every wrap is
 * kept (the reader tries each, and a key whose id is not its commitment is bogus), a key
 * is indexed under the patient, category and epoch each wrap names (a wrap naming other
 * ones fills another slot), and a record id that commits to its patient and category
 * wins over any uncommitted claim to it, whatever their order (record-index.ts,
 * docs/privacy.md).
 */
import { fromHex, toHex, type Block, type CborValue, type Fold, type Tx } from '$lib/core/index.js';
import { packMap, unpackMap } from '../json-chunks.js';
import type { Category } from '../privacy/envelope.js';
import { idsByPatient, insertSorted } from '../sorted-ids.js';

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
	/** Every wrapped copy of the key by reader (hex member or patient key), by block id: a bogus one cannot hide the genuine one. */
	readonly readers: Record<string, WrapEntry[]>;
}

/** Where `keys` indexes data key `kid` of `patient`'s `category` at `epoch`. */
export const keySlot = (patient: string, category: Category, epoch: number, kid: string) => `${patient}/${category}/${epoch}/${kid}`;

export interface RecordVersion {
	readonly block: string;
	/** The block's clock: with `block` and `index`, the version's place in the ledger order. */
	readonly clock: number;
	/** Index of the `record.put` in its block. */
	readonly index: number;
	readonly author: string;
	readonly time: number;
	readonly kid: string;
	readonly epoch: number;
	/** Block of the version this one amends. */
	readonly prev: string | null;
	readonly size: number;
}

export interface RecordEntry {
	readonly patient: string;
	readonly category: Category;
	/** The salt the record id commits to (hex, record-id.ts); absent for records written before ids were commitments. */
	readonly salt?: string;
	/** In ledger order (whatever order they arrived in); the last is current. */
	readonly versions: RecordVersion[];
	/** Uncommitted versions naming another patient or category than an uncommitted binding, in ledger order: kept until a committed put decides. */
	readonly contested?: ContestedVersion[];
}

export interface ContestedVersion {
	readonly patient: string;
	readonly category: Category;
	readonly version: RecordVersion;
}

export interface RecordsState {
	keys: Record<string, KeyEntry>;
	/** Access requests and emergency accesses by id: of several under one id, the first in ledger order. */
	requests: Record<
		string,
		{
			kind: 'request' | 'break-glass';
			patient: string;
			by: string;
			block: string;
			/** With `block` and `index`: its place in the ledger order. */
			clock: number;
			index: number;
			at: number;
			categories: Category[];
			purpose: string;
			reason: string;
		}
	>;
	/** Request ids by the patient they name, each list sorted by id. Derived from `requests`: rebuilt on decode, never in a checkpoint. */
	requestsByPatient: Record<string, string[]>;
}

/** `patient`'s access requests and emergency accesses, with their ids, sorted by id. */
export function requestsOf(state: RecordsState, patient: string): [string, RecordsState['requests'][string]][] {
	return (state.requestsByPatient[patient] ?? []).map((id) => [id, state.requests[id]!]);
}

const hex = (v: CborValue | undefined) => toHex(v as Uint8Array);

/** Orders versions (and requests) by their place in the ledger: clock, block, index in the block. */
export function compareVersions(
	a: Pick<RecordVersion, 'clock' | 'block' | 'index'>,
	b: Pick<RecordVersion, 'clock' | 'block' | 'index'>
): number {
	return a.clock - b.clock || (a.block < b.block ? -1 : a.block > b.block ? 1 : 0) || a.index - b.index;
}

function applyTx(state: RecordsState, block: Block, tx: Tx, index: number): void {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	switch (tx.t) {
		case 'key.wrap': {
			const kid = hex(tx.kid);
			const patient = hex(tx.patient);
			const category = tx.category as Category;
			const epoch = tx.epoch as number;
			const entry = (state.keys[keySlot(patient, category, epoch, kid)] ??= { kid, patient, category, epoch, readers: {} });
			for (const w of tx.wraps as Record<string, Uint8Array>[]) {
				const reader = toHex(w.reader!);
				const wraps = (entry.readers[reader] ??= []);
				// Sorted by block, so the list is the same whatever order the blocks were folded in.
				let at = wraps.length;
				while (at > 0 && wraps[at - 1]!.block > block.id) at--;
				wraps.splice(at, 0, { eph: w.eph!, nonce: w.nonce!, wrapped: w.wrapped!, block: block.id, by: block.author });
			}
			return;
		}
		case 'access.request':
		case 'access.breakglass': {
			const id = hex(tx.id);
			const held = state.requests[id];
			if (held && compareVersions(held, { clock: block.clock, block: block.id, index }) < 0) return;
			const kind = tx.t === 'access.request' ? 'request' : 'break-glass';
			const patient = hex(tx.patient);
			const categories = [...(tx.categories as Category[])];
			if (held && held.patient !== patient) {
				const list = state.requestsByPatient[held.patient]!;
				list.splice(list.indexOf(id), 1);
				if (list.length === 0) delete state.requestsByPatient[held.patient];
			}
			if (!held || held.patient !== patient) insertSorted((state.requestsByPatient[patient] ??= []), id);
			state.requests[id] = {
				kind,
				patient,
				...base,
				clock: block.clock,
				index,
				categories,
				purpose: kind === 'request' ? (tx.purpose as string) : 'emergency',
				reason: tx.reason as string
			};
			return;
		}
	}
}

type Packed<T> = { [K in keyof T]: T[K] extends Uint8Array ? string : T[K] };
type PackedKey = Omit<KeyEntry, 'readers'> & { readers: Record<string, Packed<WrapEntry>[]> };

/** The checkpoint form of a records state: each map as JSON pieces (json-chunks.ts), the wrapped keys' bytes as hex. */
export function packRecords(state: RecordsState): CborValue {
	const keys: Record<string, PackedKey> = {};
	for (const [slot, entry] of Object.entries(state.keys)) {
		const readers: Record<string, Packed<WrapEntry>[]> = {};
		for (const [reader, wraps] of Object.entries(entry.readers))
			readers[reader] = wraps.map((w) => ({ ...w, eph: toHex(w.eph), nonce: toHex(w.nonce), wrapped: toHex(w.wrapped) }));
		keys[slot] = { ...entry, readers };
	}
	return { keys: packMap(keys), requests: packMap(state.requests) };
}

/** The records state of its checkpoint form ({@link packRecords}): fresh objects, shared with nothing. */
export function unpackRecords(value: CborValue): RecordsState {
	const v = value as Record<keyof RecordsState, Uint8Array[]>;
	const keys = unpackMap<PackedKey>(v.keys) as unknown as RecordsState['keys'];
	for (const entry of Object.values(keys))
		for (const wraps of Object.values(entry.readers)) {
			const packed = wraps as unknown as Packed<WrapEntry>[];
			packed.forEach((w, i) => (wraps[i] = { ...w, eph: fromHex(w.eph), nonce: fromHex(w.nonce), wrapped: fromHex(w.wrapped) }));
		}
	const requests = unpackMap<RecordsState['requests'][string]>(v.requests);
	return { keys, requests, requestsByPatient: idsByPatient(requests) };
}

export const recordsFold: Fold<RecordsState> = {
	name: 'records',
	// 3: the checkpoint is one JSON byte string. Canonical CBOR of tens of thousands of small
	// maps took seconds per checkpoint (0.5 s per MB), JSON a tenth of that (issue 19).
	// 4: the audit trails moved to an index fold in the store (audit-index.ts).
	// 5: commutative: versions, records and requests in ledger order, not arrival order.
	// 6: each map as JSON pieces: one JSON string of a million-block ledger's records is
	// longer than V8 allows, so its checkpoint (and the ledger's close) failed (issue 19).
	// 7: records moved to index folds in the store (record-index.ts).
	version: 7,
	commutative: true,
	init: () => ({ keys: {}, requests: {}, requestsByPatient: {} }),
	apply(state, block) {
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index));
		return state;
	},
	encode: packRecords,
	decode: unpackRecords
};
