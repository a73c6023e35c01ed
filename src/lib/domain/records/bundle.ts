/**
 * FHIR R4 Bundles in: `planImport` → preview → `runImport`.
 *
 * A `collection`, `transaction` or `batch` Bundle as other systems export it (Synthea,
 * EHR exports, the HL7 examples). The text is checked for size and depth before it is
 * parsed, keys that are JavaScript prototype machinery are refused, and every resource is
 * validated as R4 (r4-validate.ts) with the JSON path of each error; with any error
 * nothing is imported. The clinic's own rules (code systems, units, ranges) are warnings.
 *
 * Every resource is kept: a Patient gets a new patient key (or is recognized as one this
 * node holds, by a source or an identifier), a clinical or financial resource becomes a
 * sealed record of its patient under its consent category, Organization / Practitioner /
 * PractitionerRole / Location become directory entries, Provenance is left out (the
 * ledger records its own). Every reference inside the Bundle (`urn:uuid:`, relative,
 * absolute, `_history`) is rewritten to the new `Type/id`; a reference to something
 * neither in the Bundle nor on the ledger is kept as a logical reference (identifier)
 * with a warning. Where each resource came from is kept as an identifier
 * (`urn:clinic-ledger:source`), with `meta.source`, `meta.security`, `meta.tag` and
 * `meta.profile`: a second import of the same data writes only what changed.
 *
 * Transactions: POST and PUT are honoured (all or nothing, like the whole import); DELETE,
 * PATCH, GET, conditional requests and conditional references are refused with a reason.
 */
import { CodedError, type Tx } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';
import { recordsView, type RecordBook } from './book.js';
import { newPatientKey } from './card.js';
import { directoryId, directoryPutTx, MAX_DIRECTORY_CHARS } from './directory.js';
import {
	categoryOf,
	encodeResource,
	MAX_ATTACHMENT_BYTES,
	RESOURCE_TYPES,
	validateResource,
	type ClinicalResource,
	type FhirIssue
} from './fhir.js';
import { isObject, mapReferences, parseJson, referencesIn, shapeIssues } from './json-input.js';
import { digestOfResource, EMPTY_KNOWN, SOURCE_SYSTEM, sourceOf, type KnownRecords, type KnownResource } from './known.js';
import { newPatientView, type RecordsView, type SealBatch } from './keyring.js';
import { PatientSession } from './patient.js';
import { envelopeIssues, r4Issues } from './r4-validate.js';
import { kindOf, PATIENT_ELEMENTS } from './resource-types.js';
import { restrictedWithoutTopic, sensitivityOf } from './sensitivity.js';

/** Largest Bundle text taken (a 1,000-patient export is about 30 MB). */
export const MAX_BUNDLE_CHARS = 200 * 1024 * 1024;
/** Largest resource (UTF-8 JSON): sealed, with its key wraps and the block around it, it must fit one 6 MB block. */
export const MAX_RESOURCE_BYTES = 5_800_000;
/** Transactions and bytes per block when records are imported. */
const BLOCK_TXS = 800;
const BLOCK_BYTES = 4 * 1024 * 1024;
const BUNDLE_TYPES = ['collection', 'transaction', 'batch'];

type Json = Record<string, unknown>;

export interface PlannedRecord {
	/** Record id on the ledger (32 hex). */
	readonly rid: string;
	readonly resource: ClinicalResource;
	readonly category: Category;
	/** Block of the version this one amends (a changed re-import). */
	readonly prev?: string;
}

export interface PlannedPatient {
	/** Where the Patient came from (its fullUrl or `Patient/id`). */
	readonly sourceId: string;
	/** Its ledger key (hex). */
	readonly patient: string;
	/** The new key's seed; null for a patient already on the ledger. */
	readonly seed: Uint8Array | null;
	/** In write order: the Patient first. */
	readonly records: PlannedRecord[];
}

export interface ImportPlan {
	readonly patients: PlannedPatient[];
	/** Directory resources to write (new or changed). */
	readonly directory: Json[];
	/** R4 violations and refused requests: with any, nothing is imported. */
	readonly issues: FhirIssue[];
	/** The clinic's rules and everything kept differently than it came (shown, not blocking). */
	readonly warnings: FhirIssue[];
	/** Resources by type, as they will be written. */
	readonly counts: Record<string, number>;
	/** Entries left out on purpose (Provenance: recreated from this ledger's own blocks). */
	readonly skipped: number;
	/** Entries already on the ledger exactly as they are: not written again. */
	readonly unchanged: number;
	readonly total: number;
	/** What each entry becomes, by entry index (null: left out): the answer to a transaction. */
	readonly outcomes: (EntryOutcome | null)[];
}

export interface EntryOutcome {
	/** `Type/id` on the ledger. */
	readonly ref: string;
	readonly outcome: 'create' | 'update' | 'unchanged';
}

/** What an entry becomes, once its id on the ledger is decided. */
interface Target {
	readonly index: number;
	readonly kind: 'patient' | 'record' | 'directory';
	readonly type: string;
	readonly source: string;
	/** `Type/id` on the ledger. */
	readonly ref: string;
	readonly id: string;
	readonly known?: KnownResource;
	patient?: string;
	seed?: Uint8Array;
}

const random = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
const RESTFUL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `Type/id` a reference names, without base or version; null for anything else. */
function relativeOf(reference: string): string | null {
	const m = RESTFUL.exec(reference);
	return m ? `${m[1]}/${m[2]}` : null;
}

function requestIssues(entry: Json, root: string, bundleType: string, type: string): FhirIssue[] {
	const request = entry.request;
	if (bundleType === 'collection')
		return request === undefined ? [] : [{ path: `${root}.request`, message: 'is only allowed in a transaction or batch Bundle (bdl-4)' }];
	if (!isObject(request)) return [{ path: `${root}.request`, message: `is required in a ${bundleType} Bundle (bdl-3)` }];
	const issues: FhirIssue[] = [];
	for (const conditional of ['ifNoneExist', 'ifMatch', 'ifNoneMatch', 'ifModifiedSince']) {
		if (request[conditional] !== undefined)
			issues.push({
				path: `${root}.request.${conditional}`,
				message:
					'conditional requests are not supported: send the resource with its identifiers (a re-import of the same source is recognized and not duplicated)'
			});
	}
	const url = typeof request.url === 'string' ? request.url : '';
	if (request.method === 'POST') {
		if (url.split('?')[0] !== type) issues.push({ path: `${root}.request.url`, message: `must be "${type}" for a POST of a ${type}` });
	} else if (request.method === 'PUT') {
		if (url.includes('?')) issues.push({ path: `${root}.request.url`, message: 'conditional update is not supported: PUT to Type/id' });
		else if (relativeOf(url)?.split('/')[0] !== type)
			issues.push({ path: `${root}.request.url`, message: `must be "${type}/<id>" for a PUT of a ${type}` });
	} else if (request.method === 'DELETE' || request.method === 'PATCH') {
		issues.push({
			path: `${root}.request.method`,
			message: `${request.method} is not supported: the ledger is append-only (amend the record, e.g. status entered-in-error)`
		});
	} else issues.push({ path: `${root}.request.method`, message: `${String(request.method)} is not supported in an import (POST or PUT)` });
	return issues;
}

/** Problems with the size of a resource and its attachments, before any copy is made. */
function sizeIssues(resource: Json, root: string): FhirIssue[] {
	const bytes = new TextEncoder().encode(JSON.stringify(resource)).length;
	const issues: FhirIssue[] = [];
	if (bytes > MAX_RESOURCE_BYTES)
		issues.push({
			path: root,
			message: `is ${bytes.toLocaleString('en')} bytes: larger than one record can be (${MAX_RESOURCE_BYTES.toLocaleString('en')} bytes, one block)`
		});
	const stack: [unknown, string][] = [[resource, root]];
	while (stack.length) {
		const [v, path] = stack.pop()!;
		if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${path}[${i}]`]));
		else if (isObject(v)) {
			if (typeof v.data === 'string' && typeof v.contentType === 'string' && Math.floor((v.data.length * 3) / 4) > MAX_ATTACHMENT_BYTES) {
				issues.push({
					path: `${path}.data`,
					message: `is an attachment larger than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB (one record must fit one block)`
				});
			}
			for (const [k, x] of Object.entries(v)) stack.push([x, `${path}.${k}`]);
		}
	}
	return issues;
}

/** Keeps `meta.source/security/tag/profile` and drops what this ledger sets itself (version, time). */
function keptMeta(meta: unknown): Json | undefined {
	if (!isObject(meta)) return undefined;
	const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => ['source', 'security', 'tag', 'profile'].includes(k)));
	return Object.keys(kept).length ? kept : undefined;
}

function withSource(resource: Json, source: string): Json {
	const ids = Array.isArray(resource.identifier) ? (resource.identifier as Json[]) : [];
	if (ids.some((i) => i.system === SOURCE_SYSTEM)) return resource;
	return { ...resource, identifier: [...ids, { system: SOURCE_SYSTEM, value: source }] };
}

/**
 * Reads and checks a Bundle; nothing is written. New patient keys are made here (cheap)
 * so the preview shows the final resources. `known`: what this node holds (known.ts), so
 * a re-import is recognized and references to the ledger are accepted.
 */
export function planImport(input: string | unknown, options: { known?: KnownRecords } = {}): ImportPlan {
	const known = options.known ?? EMPTY_KNOWN;
	const warnings: FhirIssue[] = [];
	const refused = (issues: FhirIssue[]): ImportPlan => ({
		patients: [],
		directory: [],
		issues,
		warnings: [],
		counts: {},
		skipped: 0,
		unchanged: 0,
		total: 0,
		outcomes: []
	});
	let bundle: unknown = input;
	if (typeof input === 'string') {
		const parsed = parseJson(input, MAX_BUNDLE_CHARS);
		if (parsed.issues.length) return refused(parsed.issues);
		bundle = parsed.value;
	} else {
		const shape = shapeIssues(input);
		if (shape.length) return refused(shape);
	}
	if (!isObject(bundle) || bundle.resourceType !== 'Bundle')
		return refused([{ path: '$.resourceType', message: 'must be a FHIR Bundle (resourceType "Bundle")' }]);
	if (!BUNDLE_TYPES.includes(bundle.type as string))
		return refused([{ path: '$.type', message: 'must be collection, transaction or batch' }]);
	const entries = bundle.entry;
	if (!Array.isArray(entries) || entries.length === 0) return refused([{ path: '$.entry', message: 'has no entries' }]);
	const issues: FhirIssue[] = envelopeIssues(bundle);

	// Pass 1: what each entry is, where it came from, and its id on the ledger.
	const targets: (Target | null)[] = [];
	const byRef = new Map<string, Target>();
	const fullUrls = new Set<string>();
	let skipped = 0;
	entries.forEach((entry: unknown, index) => {
		const root = `$.entry[${index}]`;
		targets.push(null);
		if (!isObject(entry) || !isObject(entry.resource)) return void issues.push({ path: `${root}.resource`, message: 'is required' });
		const resource = entry.resource;
		const type = resource.resourceType;
		const kind = typeof type === 'string' ? kindOf(type) : null;
		if (typeof type !== 'string' || !kind)
			return void issues.push({
				path: `${root}.resource.resourceType`,
				message: `${String(type)} is not a resource type this ledger keeps`
			});
		issues.push(...requestIssues(entry, root, bundle.type as string, type));
		if (kind === 'skipped') return void skipped++;
		const entryIssues = [...r4Issues(resource, `${root}.resource`), ...sizeIssues(resource, `${root}.resource`)];
		if (kind === 'directory' && JSON.stringify(resource).length + 1024 > MAX_DIRECTORY_CHARS)
			entryIssues.push({
				path: `${root}.resource`,
				message: `is larger than a directory entry may be (${MAX_DIRECTORY_CHARS} characters)`
			});
		issues.push(...entryIssues);
		const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
		if (fullUrl && fullUrls.has(fullUrl)) issues.push({ path: `${root}.fullUrl`, message: 'is used by an earlier entry (bdl-7)' });
		if (fullUrl) fullUrls.add(fullUrl);
		const url =
			isObject(entry.request) && entry.request.method === 'PUT' && typeof entry.request.url === 'string' ? entry.request.url : undefined;
		const local = typeof resource.id === 'string' ? `${type}/${resource.id}` : url;
		const source = sourceOf(resource) ?? fullUrl ?? local ?? `${type}/entry-${index}`;
		const match = known.bySource.get(source) ?? (type === 'Patient' ? patientByIdentifier(resource, known) : undefined);
		let target: Target;
		if (kind === 'patient') {
			const key = match?.ref.slice('Patient/'.length) ?? null;
			const fresh = key ? null : newPatientKey();
			target = {
				index,
				kind,
				type,
				source,
				ref: `Patient/${key ?? fresh!.patient}`,
				id: key ?? fresh!.patient,
				...(match ? { known: match } : {}),
				patient: key ?? fresh!.patient,
				...(fresh ? { seed: fresh.seed } : {})
			};
		} else {
			const id = match?.ref.split('/')[1] ?? (kind === 'directory' ? directoryId(type, source) : random(16));
			target = {
				index,
				kind,
				type,
				source,
				ref: `${type}/${id}`,
				id,
				...(match ? { known: match } : {}),
				...(match?.patient ? { patient: match.patient } : {})
			};
		}
		targets[index] = target;
		for (const name of [fullUrl, local, fullUrl ? relativeOf(fullUrl) : null]) if (name && !byRef.has(name)) byRef.set(name, target);
	});

	// Pass 2: rewrite references, find each record's patient.
	const rewritten = new Map<number, Json>();
	for (const target of targets) {
		if (!target) continue;
		const root = `$.entry[${target.index}].resource`;
		const original = (entries[target.index] as Json).resource as Json;
		const resource = mapReferences(original, (ref) => {
			const reference = ref.reference;
			if (reference.startsWith('#')) return ref;
			if (reference.includes('?')) {
				issues.push({ path: root, message: `the conditional reference "${reference}" is not supported: refer to the entry's fullUrl` });
				return ref;
			}
			const found = byRef.get(reference) ?? byRef.get(relativeOf(reference) ?? '');
			if (found) return { ...ref, reference: found.ref };
			if (known.refs.has(reference)) return ref;
			const type = relativeOf(reference)?.split('/')[0];
			warnings.push({
				path: root,
				message: `refers to ${reference}, which is neither in this Bundle nor on this ledger: kept as a logical reference`
			});
			const { reference: _dropped, ...rest } = ref;
			return { ...rest, ...(type && rest.type === undefined ? { type } : {}), identifier: { system: SOURCE_SYSTEM, value: reference } };
		}) as Json;
		const meta = keptMeta(resource.meta);
		const cleaned: Json = Object.fromEntries(Object.entries(resource).filter(([k]) => k !== 'meta' && k !== 'id'));
		const final = withSource(
			{
				resourceType: original.resourceType,
				id: target.id,
				...(meta ? { meta } : {}),
				...Object.fromEntries(Object.entries(cleaned).filter(([k]) => k !== 'resourceType'))
			},
			target.source
		);
		rewritten.set(target.index, final);
		if (target.kind === 'record' && !target.patient) {
			for (const element of PATIENT_ELEMENTS) {
				const ref = isObject(final[element]) ? (final[element] as Json).reference : undefined;
				const m = typeof ref === 'string' ? /^Patient\/([0-9a-f]{64})$/.exec(ref) : null;
				if (m) {
					target.patient = m[1]!;
					break;
				}
			}
		}
	}
	// A record naming no patient (a Medication) belongs to the patient of a record referring to it.
	for (const target of targets) {
		if (!target || target.kind !== 'record' || target.patient) continue;
		const owner = targets.find((t) => t?.kind === 'record' && t.patient && referencesIn(rewritten.get(t.index)).includes(target.ref));
		if (owner?.patient) target.patient = owner.patient;
		else
			issues.push({
				path: `$.entry[${target.index}].resource`,
				message: 'is about no Patient in this Bundle or on this ledger (subject, patient or beneficiary, or a record referring to it)'
			});
	}
	const patientKeys = new Set(targets.filter((t) => t?.kind === 'patient').map((t) => t!.id));
	for (const target of targets) {
		if (target?.kind === 'record' && target.patient && !patientKeys.has(target.patient) && !known.refs.has(`Patient/${target.patient}`)) {
			issues.push({ path: `$.entry[${target.index}].resource`, message: 'refers to a Patient neither in this Bundle nor on this ledger' });
		}
	}

	// Pass 3: categories (sensitive codes reach the records that refer to them), clinic warnings, the plan.
	const categories = new Map<number, Category>();
	for (const target of targets)
		if (target?.kind === 'record' || target?.kind === 'patient')
			categories.set(target.index, categoryOf(rewritten.get(target.index) as unknown as ClinicalResource));
	const sensitiveRefs = new Map<string, Category>();
	for (const target of targets)
		if (target?.kind === 'record' && sensitivityOf(rewritten.get(target.index)))
			sensitiveRefs.set(target.ref, categories.get(target.index)!);
	for (const target of targets) {
		if (target?.kind !== 'record' || sensitiveRefs.has(target.ref)) continue;
		const inherited = referencesIn(rewritten.get(target.index))
			.map((r) => sensitiveRefs.get(r))
			.find(Boolean);
		if (inherited) categories.set(target.index, inherited);
	}
	const patients = new Map<string, PlannedPatient>();
	const directory: Json[] = [];
	const counts: Record<string, number> = {};
	let unchanged = 0;
	const outcomes: (EntryOutcome | null)[] = targets.map(() => null);
	for (const target of targets) {
		if (!target) continue;
		const resource = rewritten.get(target.index)!;
		const root = `$.entry[${target.index}].resource`;
		if ((RESOURCE_TYPES as readonly string[]).includes(target.type))
			warnings.push(...validateResource(resource, root, target.patient ?? null));
		if (restrictedWithoutTopic(resource))
			warnings.push({
				path: `${root}.meta.security`,
				message: `is restricted without naming a topic: stored under ${categories.get(target.index)}; grant that category with care`
			});
		if (target.known && target.known.digest === digestOfResource(resource as unknown as ClinicalResource)) {
			unchanged++;
			outcomes[target.index] = { ref: target.ref, outcome: 'unchanged' };
			continue;
		}
		outcomes[target.index] = { ref: target.ref, outcome: target.known ? 'update' : 'create' };
		counts[target.type] = (counts[target.type] ?? 0) + 1;
		if (target.kind === 'directory') {
			directory.push(resource);
			continue;
		}
		if (!target.patient) continue;
		let planned = patients.get(target.patient);
		if (!planned) {
			const own = targets.find((t) => t?.kind === 'patient' && t.id === target.patient);
			planned = { sourceId: own?.source ?? `Patient/${target.patient}`, patient: target.patient, seed: own?.seed ?? null, records: [] };
			patients.set(target.patient, planned);
		}
		planned.records.push({
			rid: target.kind === 'patient' ? (target.known?.rid ?? random(16)) : target.id,
			resource: resource as unknown as ClinicalResource,
			category: categories.get(target.index)!,
			...(target.known?.block ? { prev: target.known.block } : {})
		});
	}
	for (const p of patients.values())
		p.records.sort((a, b) => Number(b.resource.resourceType === 'Patient') - Number(a.resource.resourceType === 'Patient'));
	return { patients: [...patients.values()], directory, issues, warnings, counts, skipped, unchanged, total: entries.length, outcomes };
}

/** The Patient record of a patient on the ledger with one of `resource`'s identifiers (a record number, say). */
function patientByIdentifier(resource: Json, known: KnownRecords): KnownResource | undefined {
	for (const i of Array.isArray(resource.identifier) ? resource.identifier : []) {
		if (!isObject(i) || typeof i.system !== 'string' || typeof i.value !== 'string' || i.system === SOURCE_SYSTEM) continue;
		const patient = known.patientsByIdentifier.get(`${i.system}|${i.value}`);
		if (patient) return known.patientRecords.get(patient);
	}
	return undefined;
}

/**
 * Imports a checked plan: directory entries, then per new patient a grant to `grantee`
 * for `categories` signed with the patient's new key, then the sealed records (records of
 * patients already on the ledger are sealed for their current readers); all blocks in
 * one durable write. Records in categories not granted are left with the source system
 * (counted by {@link notGranted}). `onProgress(done, total)` runs while sealing.
 */
export async function runImport(
	book: RecordBook,
	plan: ImportPlan,
	options: {
		grantee: string;
		categories: readonly Category[];
		now?: number;
		onProgress?: (done: number, total: number) => void | Promise<void>;
	}
): Promise<{ blocks: number; records: number; directory: number; patients: string[] }> {
	// Code `BUNDLE_INVALID`: the plan's issues say what to fix.
	if (plan.issues.length) throw new CodedError('BUNDLE_INVALID', `the Bundle has ${plan.issues.length} error(s); nothing was imported`);
	const now = options.now ?? Date.now();
	const base = recordsView(book.ledger);
	const batches: Tx[][] = [];
	let block: Tx[] = [];
	let bytes = 0;
	const add = (txs: Tx[]) => {
		const size = txs.reduce(
			(n, t) => n + (t.ct instanceof Uint8Array ? t.ct.length : typeof t.resource === 'string' ? t.resource.length : 200),
			0
		);
		if (block.length && (block.length + txs.length > BLOCK_TXS || bytes + size > BLOCK_BYTES)) {
			batches.push(block);
			block = [];
			bytes = 0;
		}
		block.push(...txs);
		bytes += size;
	};
	for (const resource of plan.directory) add([directoryPutTx(resource as { resourceType: string; id: string })]);
	let records = 0;
	let done = 0;
	for (const p of plan.patients) {
		const session = p.seed ? new PatientSession(p.seed.slice()) : null;
		try {
			let view: RecordsView = base;
			if (session) {
				const { grant, tx } = session.grant({
					grantee: options.grantee,
					categories: options.categories,
					purpose: 'treatment',
					days: 5 * 365,
					now
				});
				view = newPatientView(base, grant);
				add([tx]);
			}
			const seal: SealBatch = new Map();
			for (const record of p.records) {
				if (!options.categories.includes(record.category)) continue;
				const sealed = book.keyring.sealRecordTxs(
					view,
					{
						patient: p.patient,
						category: record.category,
						plaintext: encodeResource(record.resource),
						now,
						rid: record.rid,
						...(record.prev ? { prev: record.prev } : {})
					},
					seal
				);
				add(sealed.txs);
				records++;
			}
		} finally {
			session?.close();
		}
		done++;
		if (done % 25 === 0 || done === plan.patients.length) await options.onProgress?.(done, plan.patients.length);
	}
	if (block.length) batches.push(block);
	if (batches.length) await book.ledger.appendBatch(batches);
	return { blocks: batches.length, records, directory: plan.directory.length, patients: plan.patients.map((p) => p.patient) };
}
