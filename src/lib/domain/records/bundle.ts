/**
 * FHIR R4 Bundles in and out.
 *
 * Import (`planImport` → preview → `runImport`): a `collection`, `transaction` or `batch`
 * Bundle. Every Patient gets a new patient key (the ledger's patient id); references to
 * it (`Patient/<id>` or its `fullUrl`) are rewritten to that key; every resource is
 * validated with the JSON path of each error (`$.entry[3].resource.valueQuantity.code`).
 * With any error nothing is imported. Otherwise each patient's grant to this clinic
 * (signed with the new key) and its sealed records go into blocks written in one durable
 * write: all or nothing. The new patient keys are kept, wrapped for this node only, until
 * the patient's key card is printed at their next visit (`pending-cards`).
 *
 * Export (`exportBundle`): a patient's current readable records as a `collection` Bundle,
 * with one Provenance per block naming who wrote them and when.
 */
import type { Bundle, BundleEntry, Provenance, Resource } from '@medplum/fhirtypes';
import type { Tx } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';
import { recordsView, type RecordBook } from './book.js';
import { newPatientKey } from './card.js';
import { categoryOf, encodeResource, RESOURCE_TYPES, validateResource, type ClinicalResource, type FhirIssue } from './fhir.js';
import { newPatientView, type SealBatch } from './keyring.js';
import { PatientSession } from './patient.js';

/** Largest Bundle text taken (a 1,000-patient export is about 30 MB). */
export const MAX_BUNDLE_CHARS = 200 * 1024 * 1024;
/** Transactions and bytes per block when records are imported. */
const BLOCK_TXS = 800;
const BLOCK_BYTES = 4 * 1024 * 1024;

export interface PlannedPatient {
	/** The id the Patient had in the Bundle. */
	readonly sourceId: string;
	/** Its new ledger key (hex). */
	readonly patient: string;
	readonly seed: Uint8Array;
	readonly resources: ClinicalResource[];
}

export interface ImportPlan {
	readonly patients: PlannedPatient[];
	readonly issues: FhirIssue[];
	/** Resources by type, as they will be written. */
	readonly counts: Record<string, number>;
	/** Entries left out on purpose (Provenance: recreated from this ledger's own blocks). */
	readonly skipped: number;
	readonly total: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rewrites every `reference` that names a planned patient to that patient's key. */
function rewriteReferences(value: unknown, map: ReadonlyMap<string, string>): unknown {
	if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map));
	if (!isObject(value)) return value;
	const out: Json = {};
	for (const [k, v] of Object.entries(value)) {
		if (k === 'reference' && typeof v === 'string' && map.has(v)) out[k] = `Patient/${map.get(v)}`;
		else out[k] = rewriteReferences(v, map);
	}
	return out;
}

/** Reads and checks a Bundle; nothing is written. Patient keys are made here (cheap) so the preview shows the final resources. */
export function planImport(input: string | unknown): ImportPlan {
	const issues: FhirIssue[] = [];
	const empty = (message: string, path = '$'): ImportPlan => ({ patients: [], issues: [{ path, message }], counts: {}, skipped: 0, total: 0 });
	let bundle: unknown = input;
	if (typeof input === 'string') {
		if (input.length > MAX_BUNDLE_CHARS) return empty(`is larger than ${MAX_BUNDLE_CHARS / 1024 / 1024} MB`);
		try {
			bundle = JSON.parse(input);
		} catch (error) {
			return empty(`is not JSON (${(error as Error).message})`);
		}
	}
	if (!isObject(bundle) || bundle.resourceType !== 'Bundle') return empty('must be a FHIR Bundle (resourceType "Bundle")', '$.resourceType');
	if (!['collection', 'transaction', 'batch'].includes(bundle.type as string)) return empty('must be collection, transaction or batch', '$.type');
	const entries = bundle.entry;
	if (!Array.isArray(entries) || entries.length === 0) return empty('has no entries', '$.entry');

	// Patients first: their new keys and every way the Bundle refers to them.
	const map = new Map<string, string>();
	const patients = new Map<string, PlannedPatient>();
	entries.forEach((entry: unknown, i) => {
		const resource = isObject(entry) ? entry.resource : undefined;
		if (!isObject(resource) || resource.resourceType !== 'Patient') return;
		const sourceId = typeof resource.id === 'string' && resource.id ? resource.id : isObject(entry) && typeof entry.fullUrl === 'string' ? entry.fullUrl : `entry-${i}`;
		const { seed, patient } = newPatientKey();
		patients.set(patient, { sourceId, patient, seed, resources: [] });
		if (typeof resource.id === 'string') map.set(`Patient/${resource.id}`, patient);
		if (isObject(entry) && typeof entry.fullUrl === 'string') map.set(entry.fullUrl, patient);
	});

	const counts: Record<string, number> = {};
	let skipped = 0;
	entries.forEach((entry: unknown, i) => {
		const root = `$.entry[${i}]`;
		if (!isObject(entry) || !isObject(entry.resource)) {
			issues.push({ path: `${root}.resource`, message: 'is required' });
			return;
		}
		const type = entry.resource.resourceType;
		if (type === 'Provenance') {
			skipped++;
			return;
		}
		if (typeof type !== 'string' || !(RESOURCE_TYPES as readonly string[]).includes(type)) {
			issues.push({ path: `${root}.resource.resourceType`, message: `${String(type)} is not stored by this ledger (one of ${RESOURCE_TYPES.join(', ')})` });
			return;
		}
		const sourcePatientId = type === 'Patient' ? `Patient/${String(entry.resource.id)}` : null;
		const resource = rewriteReferences(entry.resource, map) as Json;
		const key = type === 'Patient' ? (map.get(sourcePatientId!) ?? (typeof entry.fullUrl === 'string' ? map.get(entry.fullUrl) : undefined)) : undefined;
		if (type === 'Patient') {
			resource.id = key;
		} else {
			delete resource.id;
		}
		delete resource.meta;
		const problems = validateResource(resource, `${root}.resource`);
		const ref = (isObject(resource.subject) ? resource.subject.reference : isObject(resource.patient) ? resource.patient.reference : undefined) as string | undefined;
		const owner = type === 'Patient' ? key : /^Patient\/([0-9a-f]{64})$/.exec(ref ?? '')?.[1];
		if (problems.length === 0 && (!owner || !patients.has(owner))) problems.push({ path: `${root}.resource.${isObject(resource.patient) ? 'patient' : 'subject'}.reference`, message: 'refers to no Patient in this Bundle' });
		if (problems.length) {
			issues.push(...problems);
			return;
		}
		patients.get(owner!)!.resources.push(resource as unknown as ClinicalResource);
		counts[type] = (counts[type] ?? 0) + 1;
	});
	// Each patient's own Patient resource first.
	for (const p of patients.values()) p.resources.sort((a, b) => Number(b.resourceType === 'Patient') - Number(a.resourceType === 'Patient'));
	return { patients: [...patients.values()], issues, counts, skipped, total: entries.length };
}

/** Wipes the patient keys of a plan that will not be imported. */
export function discardPlan(plan: ImportPlan): void {
	for (const p of plan.patients) p.seed.fill(0);
}

/**
 * Imports a checked plan: per patient, a grant to `grantee` for `categories` signed with
 * the patient's new key, then the sealed records; all blocks in one durable write.
 * Returns the new patient keys with their seeds wrapped for this node, to be kept until
 * each patient's card is printed. `onProgress(done, total)` runs while sealing.
 */
export async function runImport(
	book: RecordBook,
	plan: ImportPlan,
	options: { grantee: string; categories: readonly Category[]; now?: number; onProgress?: (done: number, total: number) => void | Promise<void> }
): Promise<{ blocks: number; records: number; patients: string[] }> {
	if (plan.issues.length) throw new Error(`the Bundle has ${plan.issues.length} error(s); nothing was imported`);
	const now = options.now ?? Date.now();
	const base = recordsView(book.ledger);
	const batches: Tx[][] = [];
	let records = 0;
	let done = 0;
	for (const p of plan.patients) {
		const session = new PatientSession(p.seed.slice());
		try {
			const { grant, tx } = session.grant({ grantee: options.grantee, categories: options.categories, purpose: 'treatment', days: 5 * 365, now });
			const view = newPatientView(base, grant);
			const seal: SealBatch = new Map();
			let block: Tx[] = [tx];
			let bytes = 0;
			for (const resource of p.resources) {
				const category = categoryOf(resource);
				if (!options.categories.includes(category)) continue; // not granted to this clinic: left with the source system (counted below)
				const sealed = book.keyring.sealRecordTxs(view, { patient: p.patient, category, plaintext: encodeResource(resource), now }, seal);
				const size = sealed.txs.reduce((n, t) => n + (t.ct instanceof Uint8Array ? t.ct.length : 200), 0);
				if (block.length + sealed.txs.length > BLOCK_TXS || bytes + size > BLOCK_BYTES) {
					batches.push(block);
					block = [];
					bytes = 0;
				}
				block.push(...sealed.txs);
				bytes += size;
				records++;
			}
			batches.push(block);
		} finally {
			session.close();
		}
		done++;
		if (done % 25 === 0 || done === plan.patients.length) await options.onProgress?.(done, plan.patients.length);
	}
	await book.ledger.appendBatch(batches);
	return { blocks: batches.length, records, patients: plan.patients.map((p) => p.patient) };
}

/** Resources of `plan` left out because their category is not among `categories`. */
export function notGranted(plan: ImportPlan, categories: readonly Category[]): number {
	return plan.patients.reduce((n, p) => n + p.resources.filter((r) => !categories.includes(categoryOf(r))).length, 0);
}

const uuidOf = (hex32: string) => `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20, 32)}`;

/**
 * A patient's current readable records as a `collection` Bundle, with a Provenance per
 * block. Records this node cannot open are left out and counted in `sealed`.
 */
export async function exportBundle(book: RecordBook, patient: string, options: { names?: Record<string, string>; now?: number } = {}): Promise<{ bundle: Bundle; sealed: number; categories: Category[] }> {
	const { records } = await book.chart(patient, options.now);
	const entries: BundleEntry[] = [];
	const byBlock = new Map<string, { time: number; author: string; targets: string[] }>();
	let sealed = 0;
	const categories = new Set<Category>();
	for (const record of records) {
		const current = record.versions.at(-1)!;
		if (!current.resource) {
			sealed++;
			continue;
		}
		categories.add(record.category);
		const fullUrl = `urn:uuid:${uuidOf(record.rid)}`;
		const resource = { ...current.resource, ...(current.resource.resourceType === 'Patient' ? {} : { id: record.rid }), meta: { versionId: String(record.versions.length), lastUpdated: new Date(current.time).toISOString() } } as Resource;
		entries.push({ fullUrl, resource });
		const b = byBlock.get(current.block) ?? { time: current.time, author: current.author, targets: [] };
		b.targets.push(current.resource.resourceType === 'Patient' ? `Patient/${patient}` : `${current.resource.resourceType}/${record.rid}`);
		byBlock.set(current.block, b);
	}
	for (const [block, b] of byBlock) {
		const provenance: Provenance = {
			resourceType: 'Provenance',
			id: block.slice(0, 32),
			target: b.targets.map((reference) => ({ reference })),
			recorded: new Date(b.time).toISOString(),
			agent: [{ who: { identifier: { system: 'urn:clinic-ledger:member', value: b.author }, ...(options.names?.[b.author] ? { display: options.names[b.author] } : {}) } }],
			entity: [{ role: 'source', what: { identifier: { system: 'urn:clinic-ledger:block', value: block } } }]
		};
		entries.push({ fullUrl: `urn:uuid:${uuidOf(block)}`, resource: provenance });
	}
	return { bundle: { resourceType: 'Bundle', type: 'collection', timestamp: new Date(options.now ?? Date.now()).toISOString(), entry: entries }, sealed, categories: [...categories] };
}
