/**
 * The records fold: the access requests and emergency accesses by id, built from
 * ciphertext metadata only (every node keeps it, readers or not). What grows with the
 * ledger is kept in the store by key, not here: every version of every record
 * (record-index.ts), every wrapped data key (key-index.ts) and the patients' audit trails
 * (audit-index.ts).
 *
 * Nothing a member writes can take a key or a record away from its readers: every wrap is
 * kept (key-index.ts), and a record id that commits to its patient and category wins over
 * any uncommitted claim to it, whatever their order (record-index.ts, docs/privacy.md).
 */
import { toHex, type Block, type CborValue, type Fold, type Tx } from '$lib/core/index.js';
import { packMap, unpackMap } from '../json-chunks.js';
import type { Category } from '../privacy/envelope.js';
import { idsByPatient, insertSorted } from '../sorted-ids.js';

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

/** The checkpoint form of a records state: the requests as JSON pieces (json-chunks.ts). */
export function packRecords(state: RecordsState): CborValue {
	return { requests: packMap(state.requests) };
}

/** The records state of its checkpoint form ({@link packRecords}): fresh objects, shared with nothing. */
export function unpackRecords(value: CborValue): RecordsState {
	const requests = unpackMap<RecordsState['requests'][string]>((value as { requests: Uint8Array[] }).requests);
	return { requests, requestsByPatient: idsByPatient(requests) };
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
	// 8: wrapped keys moved to an index fold in the store (key-index.ts).
	version: 8,
	commutative: true,
	init: () => ({ requests: {}, requestsByPatient: {} }),
	apply(state, block) {
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index));
		return state;
	},
	encode: packRecords,
	decode: unpackRecords
};
