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
import type { Category } from '../privacy/envelope.js';

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
	/** In ledger order; the last is current. */
	readonly versions: RecordVersion[];
	/** Uncommitted versions naming another patient or category than an uncommitted binding: kept until a committed put decides. */
	readonly contested?: ContestedVersion[];
}

export interface ContestedVersion {
	readonly patient: string;
	readonly category: Category;
	readonly version: RecordVersion;
}

export type AuditKind = 'grant' | 'revoke' | 'request' | 'break-glass' | 'key-share' | 'read' | 'export' | 'print' | 'write';

export interface AuditEvent {
	readonly kind: AuditKind;
	/** Member whose node wrote the block (for reads: who read). */
	readonly by: string;
	readonly block: string;
	/** When it happened (the block's time, or the logged read time). */
	readonly at: number;
	readonly categories: readonly string[];
	/** Grantee, key reader, request or record id: what the event is about. */
	readonly subject?: string;
	readonly detail?: string;
}

export interface RecordsState {
	keys: Record<string, KeyEntry>;
	records: Record<string, RecordEntry>;
	patients: Record<string, string[]>;
	/** Access requests and emergency accesses by id. */
	requests: Record<
		string,
		{
			kind: 'request' | 'break-glass';
			patient: string;
			by: string;
			block: string;
			at: number;
			categories: Category[];
			purpose: string;
			reason: string;
		}
	>;
}

const hex = (v: CborValue | undefined) => toHex(v as Uint8Array);

function applyTx(state: RecordsState, block: Block, tx: Tx, index: number): void {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	switch (tx.t) {
		case 'record.put': {
			const rid = hex(tx.rid);
			const patient = hex(tx.patient);
			const category = tx.category as Category;
			const version: RecordVersion = {
				block: block.id,
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
			if (state.requests[id]) return;
			const kind = tx.t === 'access.request' ? 'request' : 'break-glass';
			const patient = hex(tx.patient);
			const categories = [...(tx.categories as Category[])];
			state.requests[id] = {
				kind,
				patient,
				...base,
				categories,
				purpose: kind === 'request' ? (tx.purpose as string) : 'emergency',
				reason: tx.reason as string
			};
			return;
		}
	}
}

/**
 * Files a version under record `rid`; true when it amends an existing record. A record
 * belongs to the patient and category its id commits to (`salt`); a record written before
 * ids were commitments, to those of its first version. An uncommitted version naming
 * others is kept aside (`contested`), and a committed version takes the record over from
 * an uncommitted binding, keeping the set-aside versions that agree with it: so the
 * outcome does not depend on which arrived first.
 */
function putRecord(
	state: RecordsState,
	rid: string,
	patient: string,
	category: Category,
	salt: string | undefined,
	version: RecordVersion
): boolean {
	const entry = state.records[rid];
	if (!entry) {
		state.records[rid] = { patient, category, ...(salt ? { salt } : {}), versions: [version] };
		(state.patients[patient] ??= []).push(rid);
		return false;
	}
	if (entry.patient === patient && entry.category === category) {
		const versions = [...entry.versions, version];
		// Once committed, the binding is final: claims set aside against it can never win.
		state.records[rid] = entry.salt || !salt ? { ...entry, versions } : { patient, category, salt, versions };
		return true;
	}
	if (entry.salt || !salt) {
		// Against a committed binding an uncommitted claim is void; two committed ones cannot disagree (the rule checked both).
		if (!entry.salt) state.records[rid] = { ...entry, contested: [...(entry.contested ?? []), { patient, category, version }] };
		return false;
	}
	const kept = (entry.contested ?? []).filter((c) => c.patient === patient && c.category === category).map((c) => c.version);
	state.patients[entry.patient] = state.patients[entry.patient]!.filter((r) => r !== rid);
	if (state.patients[entry.patient]!.length === 0) delete state.patients[entry.patient];
	state.records[rid] = { patient, category, salt, versions: [...kept, version] };
	(state.patients[patient] ??= []).push(rid);
	return kept.length > 0;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();
type Packed<T> = { [K in keyof T]: T[K] extends Uint8Array ? string : T[K] };

/** The checkpoint bytes of a records state: JSON, the wrapped keys' bytes as hex. */
export function packRecords(state: RecordsState): Uint8Array {
	const keys: Record<string, Omit<KeyEntry, 'readers'> & { readers: Record<string, Packed<WrapEntry>[]> }> = {};
	for (const [slot, entry] of Object.entries(state.keys)) {
		const readers: Record<string, Packed<WrapEntry>[]> = {};
		for (const [reader, wraps] of Object.entries(entry.readers))
			readers[reader] = wraps.map((w) => ({ ...w, eph: toHex(w.eph), nonce: toHex(w.nonce), wrapped: toHex(w.wrapped) }));
		keys[slot] = { ...entry, readers };
	}
	return utf8.encode(JSON.stringify({ ...state, keys }));
}

/** The records state of checkpoint bytes ({@link packRecords}): fresh objects, shared with nothing. */
export function unpackRecords(bytes: Uint8Array): RecordsState {
	const state = JSON.parse(text.decode(bytes)) as RecordsState;
	for (const entry of Object.values(state.keys))
		for (const wraps of Object.values(entry.readers)) {
			const packed = wraps as unknown as Packed<WrapEntry>[];
			packed.forEach((w, i) => (wraps[i] = { ...w, eph: fromHex(w.eph), nonce: fromHex(w.nonce), wrapped: fromHex(w.wrapped) }));
		}
	return state;
}

export const recordsFold: Fold<RecordsState> = {
	name: 'records',
	// 3: the checkpoint is one JSON byte string. Canonical CBOR of tens of thousands of small
	// maps took seconds per checkpoint (0.5 s per MB), JSON a tenth of that (issue 19).
	// 4: the audit trails moved to an index fold in the store (audit-index.ts).
	version: 4,
	init: () => ({ keys: {}, records: {}, patients: {}, requests: {} }),
	apply(state, block) {
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index));
		return state;
	},
	encode: (state) => ({ json: packRecords(state) }),
	decode: (value) => unpackRecords((value as { json: Uint8Array }).json)
};
