/**
 * The FHIR R4 REST interactions a clinic's existing EHR needs, over a node's record book,
 * independent of HTTP (peer/fhir-server.ts serves it): `metadata`, `read`, `vread`,
 * `search` by patient, type, date and code, and a `transaction` or `batch` Bundle posted
 * through the importer (validated, remapped, idempotent, all or nothing). Only what this
 * node may read is returned and only what its role may write is written: a peer added
 * as one of a clinic's devices acts with that clinic's grants, a plain relay peer holds
 * ciphertext and answers 403. Every refusal is an OperationOutcome; every read of
 * decrypted data is queued for the patient's audit trail (`takeReads`).
 */
import type { Bundle, BundleEntry, CapabilityStatement, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { decodeBlock, LedgerError, toHex, type BlockId, type Ledger, type Tx } from '$lib/core/index.js';
import { CATEGORIES, type Category } from '../privacy/envelope.js';
import type { MemberClinics } from '../members.js';
import type { RecordBook, ReadEvent } from './book.js';
import type { ImportPlan } from './bundle.js';
import { directoryResource, type DirectoryState } from './directory.js';
import { clinicalDate, decodeResource, type ClinicalResource, type FhirIssue } from './fhir.js';
import { accessBasis, NoAccessError } from './keyring.js';
import type { RecordEntry } from './fold.js';
import { knownRecords } from './known.js';
import { patientDemographics, readRecord, readRecords } from './record-index.js';
import { DIRECTORY_TYPES, STORED_TYPES } from './resource-types.js';

export interface FhirResponse {
	readonly status: number;
	readonly body: Resource;
	readonly headers?: Record<string, string>;
}

type Json = Record<string, unknown>;
const KEY = /^[0-9a-f]{64}$/;
const RID = /^[0-9a-f]{32}$/;
const READABLE_TYPES = STORED_TYPES.filter((t) => t !== 'Bundle' && t !== 'Provenance');

/** An OperationOutcome answer: `code` from the FHIR issue-type value set. */
export function outcome(
	status: number,
	code: OperationOutcomeIssue['code'],
	text: string,
	issues: readonly FhirIssue[] = []
): FhirResponse {
	const body: OperationOutcome = {
		resourceType: 'OperationOutcome',
		issue: issues.length
			? issues.map((i) => ({ severity: 'error', code, diagnostics: i.message, expression: [i.path] }))
			: [{ severity: status >= 400 ? 'error' : 'information', code, diagnostics: text }]
	};
	return { status, body };
}

/** Loads the importer (and its R4 definitions) on first use. */
type Importer = typeof import('./bundle.js');

/** Store metadata holding the keys of patients created through the API, until their cards are printed. */
export const PENDING_KEYS_META = 'fhir-pending-cards';
/** Bytes of decoded blocks kept for reads: an imported block holds hundreds of records, and decoding one costs more than opening one. */
const BLOCK_CACHE_BYTES = 64 * 1024 * 1024;

export class FhirApi {
	readonly #reads: ReadEvent[] = [];
	/** Decoded transactions by block id, least recently used first. */
	readonly #blocks = new Map<string, { txs: readonly Tx[]; size: number }>();
	#cached = 0;

	constructor(
		readonly book: RecordBook,
		readonly ledger: Ledger,
		readonly importer: () => Promise<Importer> = () => import('./bundle.js'),
		readonly now: () => number = Date.now
	) {}

	/** Reads of decrypted data since the last call, to log on the ledger. */
	takeReads(): ReadEvent[] {
		return this.#reads.splice(0);
	}

	get #directory(): DirectoryState | undefined {
		return this.ledger.state().directory as DirectoryState | undefined;
	}

	capabilityStatement(): CapabilityStatement {
		return {
			resourceType: 'CapabilityStatement',
			status: 'active',
			date: new Date(this.now()).toISOString(),
			kind: 'instance',
			software: { name: 'clinic-ledger headless peer' },
			fhirVersion: '4.0.1',
			format: ['json'],
			rest: [
				{
					mode: 'server',
					security: { description: 'Bearer token printed by the peer at start (Authorization: Bearer <token>).' },
					resource: READABLE_TYPES.map((type) => ({
						type,
						interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'search-type' }],
						versioning: 'versioned',
						searchParam: [
							{ name: '_id', type: 'token' },
							...(type === 'Patient'
								? [{ name: 'identifier', type: 'token' as const }]
								: [
										{ name: 'patient', type: 'reference' as const },
										{ name: 'date', type: 'date' as const },
										{ name: 'code', type: 'token' as const }
									])
						]
					})),
					interaction: [{ code: 'transaction' }, { code: 'batch' }]
				}
			]
		};
	}

	/** `GET [type]/[id]` and `GET [type]/[id]/_history/[vid]`. */
	async read(type: string, id: string, version?: string): Promise<FhirResponse> {
		if (!(READABLE_TYPES as readonly string[]).includes(type))
			return outcome(404, 'not-supported', `${type} is not a type this server keeps`);
		if ((DIRECTORY_TYPES as readonly string[]).includes(type)) {
			const entry = this.#directory?.entries[id];
			const resource = directoryResource(this.#directory, type, id);
			if (!entry || !resource) return outcome(404, 'not-found', `${type}/${id} is not known`);
			if (version !== undefined && version !== '1') return outcome(404, 'not-found', `${type}/${id} has no version ${version}`);
			return {
				status: 200,
				body: {
					...resource,
					meta: { ...(resource.meta as Json | undefined), versionId: '1', lastUpdated: new Date(entry.time).toISOString() }
				} as unknown as Resource
			};
		}
		let rid = id;
		let record: RecordEntry | undefined;
		if (type === 'Patient') {
			if (!KEY.test(id)) return outcome(404, 'not-found', `Patient/${id} is not known`);
			[rid, record] = (await patientDemographics(this.book.ledger, id))[0] ?? ['', undefined];
		} else if (RID.test(rid)) record = await readRecord(this.book.ledger, rid);
		if (!record) return outcome(404, 'not-found', `${type}/${id} is not known`);
		const index = version === undefined ? record.versions.length - 1 : Number(version) - 1;
		const chosen = Number.isInteger(index) ? record.versions[index] : undefined;
		if (!chosen) return outcome(404, 'not-found', `${type}/${id} has no version ${version}`);
		const now = this.now();
		// The patient's consent and keys, read once for the judgement and the opening.
		const view = await this.book.viewFor([record.patient]);
		if (!accessBasis(view, this.book.keyring.self, record.patient, record.category, now))
			return outcome(403, 'forbidden', `the patient has not granted this node access to ${record.category}`);
		const txs = await this.#txsOf(chosen.block);
		if (!txs) return outcome(404, 'not-found', `the block of ${type}/${id} is not on this node`);
		let resource: ClinicalResource;
		try {
			resource = decodeResource(this.book.keyring.openTx(view, rid, record, chosen, txs[chosen.index]));
		} catch (error) {
			if (error instanceof NoAccessError) return outcome(403, 'forbidden', error.message);
			return outcome(500, 'exception', `${type}/${id} could not be opened: ${(error as Error).message}`);
		}
		if (resource.resourceType !== type) return outcome(404, 'not-found', `${type}/${id} is not known`);
		this.#reads.push({ patient: record.patient, category: record.category, rid, action: 'read', at: now });
		return {
			status: 200,
			body: {
				...resource,
				id,
				meta: { ...resource.meta, versionId: String(index + 1), lastUpdated: new Date(chosen.time).toISOString() }
			} as Resource
		};
	}

	async #txsOf(block: string): Promise<readonly Tx[] | null> {
		const hit = this.#blocks.get(block);
		if (hit) {
			this.#blocks.delete(block);
			this.#blocks.set(block, hit);
			return hit.txs;
		}
		const [stored] = await this.ledger.store.getMany([block as BlockId]);
		if (!stored) return null;
		const entry = { txs: decodeBlock(stored.bytes).txs, size: stored.bytes.length };
		this.#blocks.set(block, entry);
		this.#cached += entry.size;
		for (const [id, old] of this.#blocks) {
			if (this.#cached <= BLOCK_CACHE_BYTES || id === block) break;
			this.#blocks.delete(id);
			this.#cached -= old.size;
		}
		return entry.txs;
	}

	/** `GET [type]?patient=&date=&code=&_id=&identifier=&_count=`: a `searchset` of what this node may read. */
	async search(type: string, params: URLSearchParams, base: string): Promise<FhirResponse> {
		if (!(READABLE_TYPES as readonly string[]).includes(type))
			return outcome(404, 'not-supported', `${type} is not a type this server keeps`);
		const known = new Set(['patient', 'subject', 'date', 'code', '_id', 'identifier', '_count', '_format']);
		for (const name of params.keys())
			if (!known.has(name))
				return outcome(400, 'not-supported', `search parameter ${name} is not supported (patient, date, code, _id, identifier, _count)`);
		const count = Math.min(Number(params.get('_count') ?? 1000) || 1000, 1000);
		let matches: Resource[] = [];
		if ((DIRECTORY_TYPES as readonly string[]).includes(type)) {
			for (const [id, entry] of Object.entries(this.#directory?.entries ?? {}))
				if (entry.type === type && (!params.get('_id') || params.get('_id') === id)) matches.push(JSON.parse(entry.json) as Resource);
		} else {
			const patientParam = params.get('patient') ?? params.get('subject');
			const patient = patientParam?.replace(/^Patient\//, '') ?? (type === 'Patient' ? params.get('_id') : null);
			const patients = patient ? [patient] : await this.book.patients();
			const now = this.now();
			for (const key of patients) {
				const { records, reads } = await this.book.chart(key, now);
				let read = false;
				for (const record of records) {
					const current = record.versions.at(-1)!;
					const resource = current.resource;
					if (!resource || resource.resourceType !== type) continue;
					const id = type === 'Patient' ? key : record.rid;
					if (!matchesSearch(resource, id, params)) continue;
					matches.push({
						...resource,
						id,
						meta: { ...resource.meta, versionId: String(record.versions.length), lastUpdated: new Date(current.time).toISOString() }
					} as Resource);
					read = true;
				}
				if (read)
					this.#reads.push(
						...reads.filter((r) => records.some((x) => x.rid === r.rid && x.versions.at(-1)!.resource?.resourceType === type))
					);
			}
		}
		const total = matches.length;
		matches = matches.slice(0, count);
		const body: Bundle = {
			resourceType: 'Bundle',
			type: 'searchset',
			total,
			entry: matches.map((resource) => ({
				fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
				resource,
				search: { mode: 'match' }
			}))
		};
		return { status: 200, body };
	}

	/** `POST /` with a `transaction` or `batch` Bundle: imported all or nothing; the answer is a `transaction-response`. */
	async transaction(body: string): Promise<FhirResponse> {
		const { planImport, runImport } = await this.importer();
		const now = this.now();
		let plan: ImportPlan;
		try {
			plan = planImport(body, { known: await knownRecords(this.book, this.#directory, now) });
		} catch (error) {
			return outcome(500, 'exception', `the Bundle could not be checked: ${(error as Error).message}`);
		}
		const wipe = () => plan.patients.forEach((p) => p.seed?.fill(0));
		if (plan.issues.length) return (wipe(), outcome(400, 'invalid', 'the Bundle is not valid', plan.issues));
		const type = (JSON.parse(body) as { type?: string }).type;
		if (type !== 'transaction' && type !== 'batch')
			return (wipe(), outcome(400, 'invalid', 'POST to the base takes a transaction or batch Bundle'));
		const self = this.book.keyring.self;
		const grantee = (this.ledger.state()['member-clinics'] as MemberClinics | undefined)?.[self] ?? self;
		try {
			await runImport(this.book, plan, { grantee, categories: CATEGORIES as readonly Category[], now });
			await this.#keepNewKeys(plan);
		} catch (error) {
			if (error instanceof NoAccessError) return outcome(403, 'forbidden', error.message);
			if (error instanceof LedgerError && (error.code === 'NOT_AUTHORIZED' || error.code === 'NOT_A_MEMBER'))
				return outcome(403, 'forbidden', `this node's role may not write records: ${error.detail}`);
			return outcome(500, 'exception', `nothing was written: ${(error as Error).message}`);
		} finally {
			wipe();
		}
		// Every record written or kept, read in one go for its version count (a Patient by its key).
		const read = await readRecords(
			this.book.ledger,
			plan.outcomes.flatMap((o) => (o && !o.ref.startsWith('Patient/') ? [o.ref.split('/')[1]!] : []))
		);
		const entries: BundleEntry[] = [];
		for (const o of plan.outcomes) {
			if (!o) {
				entries.push({
					response: {
						status: '200 OK',
						outcome: outcome(200, 'informational', 'not stored: this ledger records its own provenance').body as OperationOutcome
					}
				});
				continue;
			}
			const [rtype, id] = o.ref.split('/') as [string, string];
			const record = rtype === 'Patient' ? (await patientDemographics(this.book.ledger, id))[0]?.[1] : read.get(id);
			const versions = record?.versions.length ?? 1;
			entries.push({ response: { status: o.outcome === 'create' ? '201 Created' : '200 OK', location: `${o.ref}/_history/${versions}` } });
		}
		return {
			status: 200,
			body: { resourceType: 'Bundle', type: type === 'batch' ? 'batch-response' : 'transaction-response', entry: entries }
		};
	}

	/**
	 * The keys of patients created by a transaction, wrapped for this node alone (as the
	 * import panel keeps them until a key card is printed), in the store's metadata as hex.
	 */
	async #keepNewKeys(plan: ImportPlan): Promise<void> {
		const fresh = plan.patients.filter((p) => p.seed);
		if (fresh.length === 0) return;
		const kept = (await this.ledger.store.getMeta<Record<string, Record<string, string>>>(PENDING_KEYS_META)) ?? {};
		for (const p of fresh) {
			const wrap = this.book.keyring.wrapForSelf(this.ledger.net, p.patient, p.seed!);
			kept[p.patient] = { eph: toHex(wrap.eph), nonce: toHex(wrap.nonce), wrapped: toHex(wrap.wrapped) };
		}
		await this.ledger.store.putMeta(PENDING_KEYS_META, kept);
	}

	/** Appends the queued reads as one `access.log` transaction (the patient sees them). */
	async flushReads(): Promise<void> {
		const reads = this.takeReads();
		if (reads.length === 0) return;
		const { accessLogTx } = await import('./book.js');
		for (let i = 0; i < reads.length; i += 500) await this.ledger.append([accessLogTx(reads.slice(i, i + 500))]);
	}
}

const codingsOf = (resource: Json): { system?: string; code?: string }[] =>
	['code', 'vaccineCode', 'medicationCodeableConcept', 'type'].flatMap((k) => {
		const v = resource[k];
		return (Array.isArray(v) ? v : [v]).flatMap(
			(c) => ((c as { coding?: unknown })?.coding as { system?: string; code?: string }[] | undefined) ?? []
		);
	});

/** Lower and upper instant of a FHIR date, dateTime or partial date. */
function range(value: string): [number, number] {
	const padded = value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value;
	const start = Date.parse(padded.length === 10 ? `${padded}T00:00:00Z` : padded);
	const end =
		value.length === 4
			? Date.UTC(Number(value) + 1, 0, 1)
			: value.length === 7
				? Date.UTC(Number(value.slice(0, 4)), Number(value.slice(5, 7)), 1)
				: value.length === 10
					? start + 86_400_000
					: start + 1;
	return [start, end];
}

function matchesSearch(resource: ClinicalResource, id: string, params: URLSearchParams): boolean {
	const ids = params.get('_id');
	if (ids && !ids.split(',').includes(id)) return false;
	for (const token of params.getAll('code')) {
		const wanted = token.split(',');
		if (
			!codingsOf(resource as unknown as Json).some((c) =>
				wanted.some((w) => (w.includes('|') ? w === `${c.system ?? ''}|${c.code}` : w === c.code))
			)
		)
			return false;
	}
	for (const token of params.getAll('identifier')) {
		const ids = ((resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? []).map(
			(i) => `${i.system ?? ''}|${i.value}`
		);
		if (!ids.some((i) => (token.includes('|') ? i === token : i.endsWith(`|${token}`)))) return false;
	}
	for (const date of params.getAll('date')) {
		const when = clinicalDate(resource);
		const m = /^(eq|ne|gt|lt|ge|le)?(.+)$/.exec(date);
		if (!when || !m) return false;
		const [rs, re] = range(when);
		const [ps, pe] = range(m[2]!);
		const ok = { eq: rs >= ps && re <= pe, ne: !(rs >= ps && re <= pe), gt: re > pe, lt: rs < ps, ge: re > ps, le: rs < pe }[
			(m[1] ?? 'eq') as 'eq'
		];
		if (!ok) return false;
	}
	return true;
}
