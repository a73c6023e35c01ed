/**
 * The network's directory: Organization, Practitioner, PractitionerRole and Location
 * resources, shared by every clinic of the network in clear (they describe who and
 * where, never a patient), so records from any clinic can refer to them and an export
 * can include them. A `directory.put` transaction carries one resource; a later put with
 * the same id replaces it (ledger order). The id is derived from the resource's source,
 * so the same Organization imported twice, by one clinic or two, is one entry.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, type Block, type CborValue, type Fold, type Tx, type TxRule } from '$lib/core/index.js';
import { DIRECTORY_TYPES } from './resource-types.js';
import { RECORD_WRITERS } from './transactions.js';

/** Largest directory resource (JSON characters): organizations and practitioners are small. */
export const MAX_DIRECTORY_CHARS = 64 * 1024;

export interface DirectoryEntry {
	readonly type: string;
	/** The resource as JSON, its `id` the entry id. */
	readonly json: string;
	readonly block: string;
	readonly author: string;
	readonly time: number;
}

export interface DirectoryState {
	/** By entry id (32 hex). */
	entries: Record<string, DirectoryEntry>;
}

const encoder = new TextEncoder();

/** The directory id of the resource known by `source` (its fullUrl or `Type/id` where it came from), as 32 hex. */
export function directoryId(type: string, source: string): string {
	return toHex(sha256(encoder.encode(`clinic-ledger/directory/v1\n${type}\n${source}`)).slice(0, 16));
}

/** The `directory.put` transaction storing `resource` (its `id` must be the entry id). */
export function directoryPutTx(resource: { resourceType: string; id?: string }): Tx {
	return { t: 'directory.put', id: fromHex(resource.id!), type: resource.resourceType, resource: JSON.stringify(resource) };
}

export const directoryPutRule: TxRule = {
	type: 'directory.put',
	roles: RECORD_WRITERS,
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'id', 'type', 'resource'].includes(key)) return `unexpected field ${key}`;
		if (!(tx.id instanceof Uint8Array) || tx.id.length !== 16) return 'id: expected 16 bytes';
		if (typeof tx.type !== 'string' || !(DIRECTORY_TYPES as readonly string[]).includes(tx.type))
			return `type: expected one of ${DIRECTORY_TYPES.join(', ')}`;
		if (typeof tx.resource !== 'string' || tx.resource.length > MAX_DIRECTORY_CHARS)
			return `resource: expected JSON of at most ${MAX_DIRECTORY_CHARS} characters`;
		let value: unknown;
		try {
			value = JSON.parse(tx.resource);
		} catch {
			return 'resource: not JSON';
		}
		const r = value as { resourceType?: unknown; id?: unknown } | null;
		if (typeof r !== 'object' || r === null || r.resourceType !== tx.type || r.id !== toHex(tx.id))
			return 'resource: expected a resource of the given type whose id is the entry id';
		return null;
	}
};

function apply(state: DirectoryState, block: Block, tx: Tx): void {
	if (tx.t !== 'directory.put') return;
	const id = toHex(tx.id as Uint8Array);
	const entry: DirectoryEntry = {
		type: tx.type as string,
		json: tx.resource as string,
		block: block.id,
		author: block.author,
		time: block.time
	};
	// Ids are derived from the source, so two clinics importing the same organization agree; the later put is current.
	Object.defineProperty(state.entries, id, { value: entry, enumerable: true, writable: true, configurable: true });
}

export const directoryFold: Fold<DirectoryState> = {
	name: 'directory',
	version: 1,
	affectedBy: (type) => type === 'directory.put',
	init: () => ({ entries: {} }),
	apply(state, block) {
		for (const tx of block.txs) apply(state, block, tx);
		return state;
	},
	encode: (state) => state as unknown as CborValue,
	decode: (value) => ({ entries: { ...(value as unknown as DirectoryState).entries } })
};

/** The directory entry `Type/id`, parsed; null when there is none. */
export function directoryResource(state: DirectoryState | undefined, type: string, id: string): Record<string, unknown> | null {
	const entry = state?.entries[id];
	return entry && entry.type === type ? (JSON.parse(entry.json) as Record<string, unknown>) : null;
}
