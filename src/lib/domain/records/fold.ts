/**
 * The records fold: an index of what the ledger holds about each patient, built from
 * ciphertext metadata only (every node keeps it, readers or not), and the patient's
 * audit trail. Which data keys exist and for whom they are wrapped (`keys`), every
 * version of every record (`records`, ciphertext stays in its block), records by patient,
 * and access requests and emergency accesses by id. The patients' audit trails (grants,
 * revocations, requests, key shares, logged reads) are an index fold kept in the store
 * (audit-index.ts).
 *
 * Nothing a member writes can take a key or a record away from its readers: every wrap is
 * kept (the reader tries each, and a key whose id is not its commitment is bogus), a key
 * is indexed under the patient, category and epoch each wrap names (a wrap naming other
 * ones fills another slot), and a record id that commits to its patient and category
 * wins over any uncommitted claim to it, whatever their order (docs/privacy.md).
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
	records: Record<string, RecordEntry>;
	patients: Record<string, string[]>;
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

/** `list` with `item` inserted in order (from the end: blocks mostly arrive in order). */
function inserted<T>(list: readonly T[], item: T, compare: (a: T, b: T) => number): T[] {
	let at = list.length;
	while (at > 0 && compare(list[at - 1]!, item) > 0) at--;
	return [...list.slice(0, at), item, ...list.slice(at)];
}

function applyTx(state: RecordsState, block: Block, tx: Tx, index: number): void {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	switch (tx.t) {
		case 'record.put': {
			const rid = hex(tx.rid);
			const patient = hex(tx.patient);
			const category = tx.category as Category;
			const version: RecordVersion = {
				block: block.id,
				clock: block.clock,
				index,
				author: block.author,
				time: block.time,
				kid: hex(tx.kid),
				epoch: tx.epoch as number,
				prev: tx.prev instanceof Uint8Array ? toHex(tx.prev) : null,
				size: (tx.ct as Uint8Array).length
			};
			putRecord(state, rid, patient, category, tx.salt instanceof Uint8Array ? toHex(tx.salt) : undefined, version);
			return;
		}
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

/** A version and the patient and category it names. */
interface Claim {
	readonly patient: string;
	readonly category: Category;
	readonly version: RecordVersion;
}

/**
 * Files a version under record `rid`. A record belongs to the patient and category its id
 * commits to (`salt`); a record written before ids were commitments, to those of its
 * first version in ledger order. Against a committed binding an uncommitted version
 * naming others is void; against an uncommitted one it is kept aside (`contested`) until
 * a committed version decides. Every list is in ledger order, so the outcome is the same
 * whatever order the versions arrive in (the fold is commutative).
 */
function putRecord(
	state: RecordsState,
	rid: string,
	patient: string,
	category: Category,
	salt: string | undefined,
	version: RecordVersion
): void {
	const entry = state.records[rid];
	if (!entry) {
		state.records[rid] = { patient, category, ...(salt ? { salt } : {}), versions: [version] };
		placeRid(state, patient, rid);
		return;
	}
	const agrees = entry.patient === patient && entry.category === category;
	if (agrees && (entry.salt || !salt || entry.contested === undefined)) {
		// The common case: another version of the record as bound (a committed one commits the binding).
		const versions = inserted(entry.versions, version, compareVersions);
		state.records[rid] = { ...entry, ...(salt && !entry.salt ? { salt } : {}), versions };
		if (versions[0] !== entry.versions[0]) placeRid(state, patient, rid);
		return;
	}
	// Against a committed binding an uncommitted claim is void; two committed ones cannot disagree (the rule checked both).
	if (entry.salt) return;
	const claims: Claim[] = [
		...entry.versions.map((v) => ({ patient: entry.patient, category: entry.category, version: v })),
		...(entry.contested ?? []),
		{ patient, category, version }
	].sort((a, b) => compareVersions(a.version, b.version));
	// Bound by the committed version if there is one, else by the first version in ledger order.
	const binding = salt ? { patient, category } : claims[0]!;
	const bound = (c: Claim) => c.patient === binding.patient && c.category === binding.category;
	const contested = salt ? [] : claims.filter((c) => !bound(c));
	state.records[rid] = {
		patient: binding.patient,
		category: binding.category,
		...(salt ? { salt } : {}),
		versions: claims.filter(bound).map((c) => c.version),
		...(contested.length > 0 ? { contested } : {})
	};
	if (binding.patient !== entry.patient) unplaceRid(state, entry.patient, rid);
	placeRid(state, binding.patient, rid);
}

/** Takes `rid` off `patient`'s list of records. */
function unplaceRid(state: RecordsState, patient: string, rid: string): void {
	const rids = state.patients[patient]?.filter((r) => r !== rid) ?? [];
	if (rids.length > 0) state.patients[patient] = rids;
	else delete state.patients[patient];
}

/** Puts `rid` in `patient`'s list of records, ordered by each record's first version in ledger order. */
function placeRid(state: RecordsState, patient: string, rid: string): void {
	const first = (r: string) => state.records[r]!.versions[0]!;
	const rids = (state.patients[patient] ??= []);
	const at = rids.indexOf(rid);
	if (at >= 0 && rids.length > 1) rids.splice(at, 1);
	else if (at >= 0) return;
	let to = rids.length;
	while (to > 0 && compareVersions(first(rids[to - 1]!), first(rid)) > 0) to--;
	rids.splice(to, 0, rid);
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
	return { keys: packMap(keys), records: packMap(state.records), patients: packMap(state.patients), requests: packMap(state.requests) };
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
	return { keys, records: unpackMap(v.records), patients: unpackMap(v.patients), requests, requestsByPatient: idsByPatient(requests) };
}

export const recordsFold: Fold<RecordsState> = {
	name: 'records',
	// 3: the checkpoint is one JSON byte string. Canonical CBOR of tens of thousands of small
	// maps took seconds per checkpoint (0.5 s per MB), JSON a tenth of that (issue 19).
	// 4: the audit trails moved to an index fold in the store (audit-index.ts).
	// 5: commutative: versions, records and requests in ledger order, not arrival order.
	// 6: each map as JSON pieces: one JSON string of a million-block ledger's records is
	// longer than V8 allows, so its checkpoint (and the ledger's close) failed (issue 19).
	version: 6,
	commutative: true,
	init: () => ({ keys: {}, records: {}, patients: {}, requests: {}, requestsByPatient: {} }),
	apply(state, block) {
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index));
		return state;
	},
	encode: packRecords,
	decode: unpackRecords
};
