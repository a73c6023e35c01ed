/**
 * Pass 1 of a Bundle import (bundle-plan.ts): what each entry is, where it came from, and
 * its id on the ledger. Each entry's request (transaction/batch), R4 shape and size are
 * checked here; a Patient gets a new key unless this node already holds it (by source or
 * by identifier), anything else keeps the id it has on the ledger or gets a new one.
 */
import { MAX_ATTACHMENT_BYTES, type FhirIssue } from './fhir.js';
import { directoryId, MAX_DIRECTORY_CHARS } from './directory.js';
import { newPatientKey } from './card.js';
import { isObject } from './json-input.js';
import { SOURCE_SYSTEM, sourceOf, type KnownRecords, type KnownResource } from './known.js';
import { r4Issues } from './r4-validate.js';
import { kindOf } from './resource-types.js';

/** Largest resource (UTF-8 JSON): sealed, with its key wraps and the block around it, it must fit one 6 MB block. */
export const MAX_RESOURCE_BYTES = 5_800_000;

export type Json = Record<string, unknown>;

/** What an entry becomes, once its id on the ledger is decided. */
export interface Target {
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

/** Every entry's target (null: refused or left out), each target by the names the Bundle may refer to it by. */
export interface EntryTargets {
	readonly targets: (Target | null)[];
	readonly byRef: Map<string, Target>;
	/** Entries left out on purpose (Provenance). */
	readonly skipped: number;
}

export const randomHex = (n: number) =>
	Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
const RESTFUL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `Type/id` a reference names, without base or version; null for anything else. */
export function relativeOf(reference: string): string | null {
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
 * Pass 1: decides every entry's target, pushing what is wrong with an entry to `issues`.
 * `bundleType`: collection, transaction or batch; `known`: what this node holds (known.ts).
 */
export function entryTargets(entries: unknown[], bundleType: string, known: KnownRecords, issues: FhirIssue[]): EntryTargets {
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
		issues.push(...requestIssues(entry, root, bundleType, type));
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
			const id = match?.ref.split('/')[1] ?? (kind === 'directory' ? directoryId(type, source) : randomHex(16));
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
	return { targets, byRef, skipped };
}
