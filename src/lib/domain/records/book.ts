/**
 * The record book: what the app does with records on an open ledger. Write a FHIR
 * resource (validated, sealed, appended), read a patient's chart (every record this node
 * may open, decrypted from its block; the others listed as sealed), list the patients
 * this node can name, and share keys the ledger says others should have.
 */
import { decodeBlock, fromHex, type BlockId, type Ledger, type Tx } from '$lib/core/index.js';
import type { AccessState } from '../privacy/access.js';
import { EnvelopeError, type Category } from '../privacy/envelope.js';
import type { MemberClinics } from '../members.js';
import { categoryOf, decodeResource, encodeResource, patientOf, validateResource, type ClinicalResource, type FhirIssue } from './fhir.js';
import type { RecordsState, RecordVersion } from './fold.js';
import { accessBasis, Keyring, NoAccessError, type RecordsView } from './keyring.js';
import type { LogAction } from './txs.js';

export class RecordInputError extends Error {
	override readonly name = 'RecordInputError';
	constructor(readonly issues: readonly FhirIssue[]) {
		super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
	}
}

/** The ledger state records decisions rest on. */
export function recordsView(ledger: Ledger): RecordsView {
	const state = ledger.state();
	return { net: ledger.net, access: state.access as AccessState, records: state.records as RecordsState, clinics: state['member-clinics'] as MemberClinics, roster: ledger.roster() };
}

/** One version of a record as the chart shows it. */
export interface VersionView extends RecordVersion {
	readonly resource: ClinicalResource | null;
	/** Why it is not shown: no key, or a changed ciphertext (reported, never shown). */
	readonly sealed: 'no-access' | 'damaged' | null;
	readonly error?: string;
}

export interface RecordView {
	readonly rid: string;
	readonly patient: string;
	readonly category: Category;
	/** Oldest first; the last is current. */
	readonly versions: readonly VersionView[];
}

/** A read of decrypted data, to be logged on the ledger. */
export interface ReadEvent {
	readonly patient: string;
	readonly category: Category;
	readonly rid?: string;
	readonly action: LogAction;
	readonly at: number;
}

export class RecordBook {
	/** Decrypted Patient resources by `block/rid` of their version: a version never changes, so the registry reads each once. */
	readonly #demographics = new Map<string, ClinicalResource>();

	constructor(
		readonly ledger: Ledger,
		readonly keyring: Keyring
	) {}

	view(): RecordsView {
		return recordsView(this.ledger);
	}

	/**
	 * Validates `resource`, seals it under its patient's category key and appends it (with
	 * any key wraps) in one block. `prev`: the block of the version this one amends (same
	 * record id). Throws {@link RecordInputError} with JSON paths, {@link NoAccessError}
	 * without a grant.
	 */
	async write(resource: ClinicalResource, options: { rid?: string; prev?: string; now?: number; extra?: Tx[] } = {}): Promise<{ rid: string; block: BlockId }> {
		const txs = this.sealTxs(resource, options);
		const block = await this.ledger.append([...txs.txs, ...(options.extra ?? [])]);
		return { rid: txs.rid, block: block.id };
	}

	/** The transactions {@link write} appends, for callers that batch several resources in one block. */
	sealTxs(resource: ClinicalResource, options: { rid?: string; prev?: string; now?: number; category?: Category } = {}): { txs: Tx[]; rid: string } {
		const patient = patientOf(resource);
		const issues = validateResource(resource, '$', patient);
		if (!patient && issues.length === 0) issues.push({ path: '$', message: 'names no patient' });
		if (issues.length > 0) throw new RecordInputError(issues);
		if (options.rid && !/^[0-9a-f]{32}$/.test(options.rid)) throw new RecordInputError([{ path: 'rid', message: 'expected 32 hex' }]);
		const category = options.category ?? categoryOf(resource);
		const amended = options.rid ? this.view().records.records[options.rid] : undefined;
		// The record id commits to its patient and category (record-id.ts): the ledger would refuse the move.
		if (amended && (amended.patient !== patient || amended.category !== category)) throw new RecordInputError([{ path: 'rid', message: `this record holds ${amended.category} of its patient; an amendment cannot move it to ${category}${amended.patient !== patient ? ' of another patient' : ''}` }]);
		return this.keyring.sealRecordTxs(this.view(), { patient: patient!, category, plaintext: encodeResource(resource), now: options.now ?? Date.now(), ...(options.rid ? { rid: options.rid } : {}), ...(options.prev ? { prev: options.prev } : {}) });
	}

	/** Every record of `patient`, decrypted where this node holds the key. Reads are returned for logging. */
	async chart(patient: string, now = Date.now()): Promise<{ records: RecordView[]; reads: ReadEvent[] }> {
		const view = this.view();
		const rids = view.records.patients[patient] ?? [];
		const entries = rids.map((rid) => [rid, view.records.records[rid]!] as const);
		const wanted = [...new Set(entries.flatMap(([, r]) => r.versions.map((v) => v.block as BlockId)))];
		const stored = await this.ledger.store.getMany(wanted);
		// Each block decoded once: one block often holds a whole visit, or a whole imported patient.
		const txsOf = new Map<BlockId, readonly Tx[] | undefined>();
		wanted.forEach((id, i) => {
			const bytes = stored[i]?.bytes;
			txsOf.set(id, bytes ? decodeBlock(bytes).txs : undefined);
		});
		const reads: ReadEvent[] = [];
		const basis = new Map<Category, boolean>();
		const records = entries.map(([rid, r]): RecordView => {
			let allowed = basis.get(r.category);
			if (allowed === undefined) basis.set(r.category, (allowed = accessBasis(view, this.keyring.self, patient, r.category, now) !== null));
			const versions = r.versions.map((v): VersionView => {
				if (!allowed) return { ...v, resource: null, sealed: 'no-access' };
				const txs = txsOf.get(v.block as BlockId);
				try {
					if (!txs) throw new EnvelopeError('the block is missing from this browser');
					const resource = decodeResource(this.keyring.openTx(view, rid, v, txs[v.index]));
					return { ...v, resource, sealed: null };
				} catch (error) {
					if (error instanceof NoAccessError) return { ...v, resource: null, sealed: 'no-access' };
					return { ...v, resource: null, sealed: 'damaged', error: (error as Error).message };
				}
			});
			if (versions.some((v) => v.resource)) reads.push({ patient, category: r.category, rid, action: 'read', at: now });
			return { rid, patient, category: r.category, versions };
		});
		return { records, reads };
	}

	/** Patients with any record on the ledger, with this node's access to their demographics. */
	patients(): { patient: string; records: number; demographics: string | null }[] {
		const view = this.view();
		return Object.entries(view.records.patients).map(([patient, rids]) => ({ patient, records: rids.length, demographics: rids.find((rid) => view.records.records[rid]!.category === 'demographics') ?? null }));
	}

	/**
	 * The current Patient resource of each patient this node may read the demographics of,
	 * decrypted from their blocks in one read (the registry). Others are absent.
	 */
	async demographics(now = Date.now()): Promise<Map<string, ClinicalResource>> {
		const view = this.view();
		const wanted: { patient: string; rid: string; version: RecordVersion }[] = [];
		for (const [patient, rids] of Object.entries(view.records.patients)) {
			if (!accessBasis(view, this.keyring.self, patient, 'demographics', now)) continue;
			const rid = rids.find((r) => view.records.records[r]!.category === 'demographics');
			if (rid) wanted.push({ patient, rid, version: view.records.records[rid]!.versions.at(-1)! });
		}
		const out = new Map<string, ClinicalResource>();
		const missing = wanted.filter((w) => {
			const cached = this.#demographics.get(`${w.version.block}/${w.rid}`);
			if (cached) out.set(w.patient, cached);
			return !cached;
		});
		const stored = await this.ledger.store.getMany(missing.map((w) => w.version.block as BlockId));
		missing.forEach((w, i) => {
			const bytes = stored[i]?.bytes;
			if (!bytes) return;
			try {
				const resource = decodeResource(this.keyring.openVersion(view, w.rid, w.version, bytes));
				this.#demographics.set(`${w.version.block}/${w.rid}`, resource);
				out.set(w.patient, resource);
			} catch {
				// Sealed for this node or damaged: the registry shows the patient as sealed.
			}
		});
		return out;
	}

	/** Key shares this node owes (grants in force, emergency accesses) appended in one block; the number of wraps made. */
	async shareKeys(now = Date.now()): Promise<number> {
		const txs = this.keyring.pendingShares(this.view(), now);
		if (txs.length === 0) return 0;
		await this.ledger.append(txs);
		return txs.reduce((n, tx) => n + (tx.wraps as unknown[]).length, 0);
	}
}

/** The `access.log` transaction for a batch of reads. */
export function accessLogTx(reads: readonly ReadEvent[]): Tx {
	return { t: 'access.log', entries: reads.map((r) => ({ patient: fromHex(r.patient), category: r.category, ...(r.rid ? { rid: fromHex(r.rid) } : {}), action: r.action, at: r.at })) };
}

/** `access.request` / `access.breakglass` transactions. */
export function accessRequestTx(kind: 'request' | 'break-glass', patient: string, categories: readonly Category[], reason: string, purpose = 'treatment'): Tx {
	const id = crypto.getRandomValues(new Uint8Array(16));
	const base = { id, patient: fromHex(patient), categories: [...categories], reason: reason.trim() };
	return kind === 'request' ? { t: 'access.request', ...base, purpose } : { t: 'access.breakglass', ...base };
}
