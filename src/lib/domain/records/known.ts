/**
 * What this node already holds, as an import needs it to be idempotent and to accept
 * references to the ledger: every readable record by its source (the
 * `urn:clinic-ledger:source` identifier kept at import), patients by their identifiers,
 * and which `Type/id` references name something on the ledger. Built by decrypting the
 * current version of every record this node may read.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '$lib/core/index.js';
import type { RecordBook } from './book.js';
import type { Category } from '../privacy/envelope.js';
import type { DirectoryState } from './directory.js';
import { encodeResource, type ClinicalResource } from './fhir.js';

/** Identifier system of the id a resource had where it came from (its fullUrl, or `Type/id`). */
export const SOURCE_SYSTEM = 'urn:clinic-ledger:source';

export interface KnownResource {
	/** `Type/id` of the resource on this ledger. */
	readonly ref: string;
	/** Owner patient key; absent for directory entries. */
	readonly patient?: string;
	/** Record id (records and Patients). */
	readonly rid?: string;
	/** The category the record is bound to (records and Patients). */
	readonly category?: Category;
	/** Block of the current version (records), to amend it. */
	readonly block?: string;
	/** sha256 of the stored JSON: an unchanged re-import writes nothing. */
	readonly digest: string;
}

export interface KnownRecords {
	readonly bySource: ReadonlyMap<string, KnownResource>;
	/** Patient key by `system|value` of each Patient identifier. */
	readonly patientsByIdentifier: ReadonlyMap<string, string>;
	/** The Patient record of each patient key. */
	readonly patientRecords: ReadonlyMap<string, KnownResource>;
	/** `Type/id` of everything on the ledger a reference may name (records, patients, directory entries). */
	readonly refs: ReadonlySet<string>;
}

export const EMPTY_KNOWN: KnownRecords = {
	bySource: new Map(),
	patientsByIdentifier: new Map(),
	patientRecords: new Map(),
	refs: new Set()
};

export const digestOf = (json: string) => toHex(sha256(new TextEncoder().encode(json))).slice(0, 32);
export const digestOfResource = (resource: ClinicalResource) => digestOf(new TextDecoder().decode(encodeResource(resource)));

type Identified = { identifier?: { system?: string; value?: string }[] | { system?: string; value?: string } };
/** The source identifier a resource carries, if any. */
export function sourceOf(resource: unknown): string | undefined {
	const ids = (resource as Identified).identifier;
	return (Array.isArray(ids) ? ids : ids ? [ids] : []).find((i) => i.system === SOURCE_SYSTEM)?.value;
}

/** Indexes every record this node can read, and the directory. */
export async function knownRecords(book: RecordBook, directory: DirectoryState | undefined, now = Date.now()): Promise<KnownRecords> {
	const bySource = new Map<string, KnownResource>();
	const patientsByIdentifier = new Map<string, string>();
	const patientRecords = new Map<string, KnownResource>();
	const refs = new Set<string>();
	for (const [id, entry] of Object.entries(directory?.entries ?? {})) {
		refs.add(`${entry.type}/${id}`);
		const source = sourceOf(JSON.parse(entry.json));
		if (source) bySource.set(source, { ref: `${entry.type}/${id}`, digest: digestOf(entry.json) });
	}
	for (const patient of await book.patients()) {
		refs.add(`Patient/${patient}`);
		const { records } = await book.chart(patient, now);
		for (const record of records) {
			const current = record.versions.at(-1)!;
			const resource = current.resource;
			if (!resource) continue;
			const ref = resource.resourceType === 'Patient' ? `Patient/${patient}` : `${resource.resourceType}/${record.rid}`;
			refs.add(ref);
			const known: KnownResource = {
				ref,
				patient,
				rid: record.rid,
				category: record.category,
				block: current.block,
				digest: digestOfResource(resource)
			};
			const source = sourceOf(resource);
			if (source) bySource.set(source, known);
			if (resource.resourceType === 'Patient') patientRecords.set(patient, known);
			if (resource.resourceType === 'Patient')
				for (const i of resource.identifier ?? []) if (i.system && i.value) patientsByIdentifier.set(`${i.system}|${i.value}`, patient);
		}
	}
	return { bySource, patientsByIdentifier, patientRecords, refs };
}
