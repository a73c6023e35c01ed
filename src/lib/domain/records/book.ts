/**
 * The record book: what the app does with records on an open ledger. Write a FHIR
 * resource (validated, sealed, appended), read a patient's chart (every record this node
 * may open, decrypted from its block; the others listed as sealed), list the patients
 * this node can name, and share keys the ledger says others should have.
 *
 * A record's current version is its newest version that counts: written by a member the
 * patient let write that category (writers.ts) and, where this node may read the
 * category, one that opens (with the key its id commits to, keyring.ts). Anyone can
 * append a `record.put` with an existing record id, with the clock it likes; what does
 * not count is set aside, shown in the history, never current (docs/privacy.md,
 * "Amendments: who may write the current version").
 */
import { CodedError, decodeBlock, fromHex, type BlockId, type Ledger, type Tx } from '$lib/core/index.js';
import { PatientAccess, readAccess } from '../privacy/access.js';
import { EnvelopeError, type Category } from '../privacy/envelope.js';
import type { MemberClinics } from '../members.js';
import { categoryOf, decodeResource, encodeResource, patientOf, validateResource, type ClinicalResource, type FhirIssue } from './fhir.js';
import type { RecordEntry, RecordsState, RecordVersion } from './fold.js';
import { demographicRecords, readRecord, recordPatients } from './record-index.js';
import { patientRecords } from './patient-records.js';
import { accessBasis, Keyring, NoAccessError, type RecordsView } from './keyring.js';
import { KeySlots, keyPatients, keySlotsOf } from './key-index.js';
import type { LogAction } from './transactions.js';
import { recordWriters, type MayWrite } from './writers.js';

/** A record refused before it is written, with each problem at its path: code `RECORD_INVALID`. */
export class RecordInputError extends CodedError {
	override readonly name = 'RecordInputError';
	constructor(readonly issues: readonly FhirIssue[]) {
		super('RECORD_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '));
	}
}

/**
 * The ledger state records decisions rest on, with the consent (privacy/access.ts) and the
 * wrapped keys (key-index.ts) of the patients the decision is about, read from the store:
 * those of no patient by default.
 */
export function recordsView(ledger: Ledger, keys: KeySlots = KeySlots.none, access: PatientAccess = PatientAccess.none): RecordsView {
	const state = ledger.state();
	return {
		net: ledger.net,
		access,
		records: state.records as RecordsState,
		keys,
		clinics: state['member-clinics'] as MemberClinics,
		roster: ledger.roster()
	};
}

/** One version of a record as the chart shows it. */
export interface VersionView extends RecordVersion {
	readonly resource: ClinicalResource | null;
	/** Why it is not shown: no key, or a changed ciphertext (reported, never shown). */
	readonly sealed: 'no-access' | 'damaged' | null;
	readonly error?: string;
}

/** Why a version does not count: its author may not write the category, or it does not open with its key. */
export type SetAsideReason = 'not-a-writer' | 'does-not-open';

export interface RecordView {
	readonly rid: string;
	readonly patient: string;
	readonly category: Category;
	/** The versions that count, oldest first; the last is current. When none counts, every version, as it is. */
	readonly versions: readonly VersionView[];
	/** Versions that do not count, in ledger order. */
	readonly setAside: readonly (VersionView & { readonly why: SetAsideReason })[];
}

/** Why `version` of `record` does not count, or null when it does. `reads`: this node may read the category, so a version must open. */
function setAsideReason(
	record: { patient: string; category: Category },
	version: VersionView,
	mayWrite: MayWrite,
	reads: boolean
): SetAsideReason | null {
	if (!mayWrite(record.patient, version.author, record.category)) return 'not-a-writer';
	return reads && version.sealed !== null ? 'does-not-open' : null;
}

/**
 * Splits a record's versions into those that count and those set aside (with why). When
 * no version counts, those by writers do (shown damaged); when none is by a writer, all.
 */
function judge(
	record: { patient: string; category: Category },
	versions: readonly VersionView[],
	mayWrite: MayWrite,
	reads: boolean
): Pick<RecordView, 'versions' | 'setAside'> {
	const judged = versions.map((version) => ({ version, why: setAsideReason(record, version, mayWrite, reads) }));
	const level = judged.some((j) => j.why === null) ? 'counts' : judged.some((j) => j.why === 'does-not-open') ? 'by-writer' : 'all';
	const counts = (why: SetAsideReason | null) => why === null || (level === 'by-writer' && why === 'does-not-open') || level === 'all';
	return {
		versions: judged.filter((j) => counts(j.why)).map((j) => j.version),
		setAside: judged.flatMap((j) => (j.why === null || counts(j.why) ? [] : [{ ...j.version, why: j.why }]))
	};
}

/** A read of decrypted data, to be logged on the ledger. */
export interface ReadEvent {
	readonly patient: string;
	readonly category: Category;
	readonly rid?: string;
	readonly action: LogAction;
	readonly at: number;
}

/** Patients whose demographics {@link RecordBook.demographics} reads per store read (and per yield to its caller). */
export const DEMOGRAPHICS_SLICE = 250;

/** A readable patient's Patient record, and which of its versions to try (newest first), at `at`. */
interface Demographic {
	readonly patient: string;
	readonly rid: string;
	readonly record: RecordEntry;
	readonly candidates: RecordVersion[];
	readonly at: number;
}

export class RecordBook {
	/** Decrypted Patient resources by `block/rid` of their version: a version never changes, so the registry reads each once. */
	readonly #demographics = new Map<string, ClinicalResource>();

	constructor(
		readonly ledger: Ledger,
		readonly keyring: Keyring
	) {}

	/** The view of who may read and write the records of `patients` (their consent read, no keys). */
	async view(patients: Iterable<string> = []): Promise<RecordsView> {
		return recordsView(this.ledger, KeySlots.none, await readAccess(this.ledger, patients));
	}

	/** The view with the consent and the wrapped keys of `patients` (privacy/access.ts, key-index.ts). */
	async viewFor(patients: Iterable<string>): Promise<RecordsView> {
		const list = [...patients];
		const [keys, access] = await Promise.all([keySlotsOf(this.ledger, list), readAccess(this.ledger, list)]);
		return recordsView(this.ledger, keys, access);
	}

	/**
	 * Validates `resource`, seals it under its patient's category key and appends it (with
	 * any key wraps) in one block. `prev`: the block of the version this one amends (same
	 * record id). Throws {@link RecordInputError} with JSON paths, {@link NoAccessError}
	 * without a grant.
	 */
	async write(
		resource: ClinicalResource,
		options: { rid?: string; prev?: string; now?: number; extra?: Tx[] } = {}
	): Promise<{ rid: string; block: BlockId }> {
		const txs = await this.sealTxs(resource, options);
		const block = await this.ledger.append([...txs.txs, ...(options.extra ?? [])]);
		return { rid: txs.rid, block: block.id };
	}

	/** The transactions {@link write} appends, for callers that batch several resources in one block. */
	async sealTxs(
		resource: ClinicalResource,
		options: { rid?: string; prev?: string; now?: number; category?: Category } = {}
	): Promise<{ txs: Tx[]; rid: string }> {
		const patient = patientOf(resource);
		const issues = validateResource(resource, '$', patient);
		if (!patient && issues.length === 0) issues.push({ path: '$', message: 'names no patient' });
		if (issues.length > 0) throw new RecordInputError(issues);
		if (options.rid && !/^[0-9a-f]{32}$/.test(options.rid)) throw new RecordInputError([{ path: 'rid', message: 'expected 32 hex' }]);
		const category = options.category ?? categoryOf(resource);
		const amended = options.rid ? await readRecord(this.ledger, options.rid) : undefined;
		// The record id commits to its patient and category (record-id.ts): the ledger would refuse the move.
		if (amended && (amended.patient !== patient || amended.category !== category))
			throw new RecordInputError([
				{
					path: 'rid',
					message: `this record holds ${amended.category} of its patient; an amendment cannot move it to ${category}${amended.patient !== patient ? ' of another patient' : ''}`
				}
			]);
		return this.keyring.sealRecordTxs(await this.viewFor([patient!]), {
			patient: patient!,
			category,
			plaintext: encodeResource(resource),
			now: options.now ?? Date.now(),
			...(options.rid ? { rid: options.rid } : {}),
			...(amended?.salt ? { salt: amended.salt } : {}),
			...(options.prev ? { prev: options.prev } : {})
		});
	}

	/**
	 * Every record of `patient`, decrypted where this node holds the key. Reads are returned
	 * for logging. A chart on screen reads a page at a time instead (chart-pages.ts).
	 */
	async chart(patient: string, now = Date.now()): Promise<{ records: RecordView[]; reads: ReadEvent[] }> {
		return this.readRecords(await this.viewFor([patient]), patient, await patientRecords(this.ledger, patient), now);
	}

	/**
	 * Records `entries` of `patient` (record-index.ts) as the chart shows them, judged against `view`: decrypted
	 * where this node may read their category (each block read and decoded once), listed as
	 * sealed where it may not (nothing read). Reads of records that opened are returned.
	 */
	async readRecords(
		view: RecordsView,
		patient: string,
		entries: readonly (readonly [string, RecordEntry])[],
		now = Date.now(),
		mayWrite: MayWrite = recordWriters(view)
	): Promise<{ records: RecordView[]; reads: ReadEvent[] }> {
		const basis = new Map<Category, boolean>();
		const allowedFor = (category: Category) => {
			let allowed = basis.get(category);
			if (allowed === undefined) basis.set(category, (allowed = accessBasis(view, this.keyring.self, patient, category, now) !== null));
			return allowed;
		};
		const wanted = [...new Set(entries.flatMap(([, r]) => (allowedFor(r.category) ? r.versions.map((v) => v.block as BlockId) : [])))];
		const stored = wanted.length ? await this.ledger.store.getMany(wanted) : [];
		// Each block decoded once: one block often holds a whole visit, or a whole imported patient.
		const txsOf = new Map<BlockId, readonly Tx[] | undefined>();
		wanted.forEach((id, i) => {
			const bytes = stored[i]?.bytes;
			txsOf.set(id, bytes ? decodeBlock(bytes).txs : undefined);
		});
		const reads: ReadEvent[] = [];
		const records = entries.map(([rid, r]): RecordView => {
			const allowed = allowedFor(r.category);
			const versions = r.versions.map((v): VersionView => {
				if (!allowed) return { ...v, resource: null, sealed: 'no-access' };
				const txs = txsOf.get(v.block as BlockId);
				try {
					if (!txs) throw new EnvelopeError('the block is missing from this browser');
					const resource = decodeResource(this.keyring.openTx(view, rid, r, v, txs[v.index]));
					return { ...v, resource, sealed: null };
				} catch (error) {
					if (error instanceof NoAccessError) return { ...v, resource: null, sealed: 'no-access' };
					return { ...v, resource: null, sealed: 'damaged', error: (error as Error).message };
				}
			});
			if (versions.some((v) => v.resource)) reads.push({ patient, category: r.category, rid, action: 'read', at: now });
			return { rid, patient, category: r.category, ...judge(r, versions, mayWrite, allowed) };
		});
		return { records, reads };
	}

	/**
	 * Every patient's Patient records, by patient, from one index key's rows: its keys are
	 * the patients with a Patient record, on a ledger of years far quicker to list than
	 * {@link patients}, which steps through an index key by key (10,000 patients: about 8 s
	 * in Chromium). The registry lists them first, and hands them to {@link demographics}.
	 */
	demographicRecords(): Promise<Map<string, [string, RecordEntry][]>> {
		return demographicRecords(this.ledger);
	}

	/** Patients any record on the ledger names, in key order (read a page at a time from the store). */
	async patients(): Promise<string[]> {
		const out: string[] = [];
		for await (const patient of recordPatients(this.ledger)) out.push(patient);
		return out;
	}

	/**
	 * The current Patient resource of each patient this node may read the demographics of,
	 * decrypted from their blocks (the registry). Others are absent. Read `slice`
	 * ({@link DEMOGRAPHICS_SLICE}) patients at a time (one consent read, one store read and
	 * one key read each); `onSlice` hears after each slice that decrypted something or found
	 * patients sealed: the resources so far, the listed patients not yet read (or judged
	 * sealed), and how many of how many are done (a network of
	 * years knows thousands of patients: the registry shows names as they come). `records`:
	 * {@link demographicRecords} when the caller has read them already.
	 */
	async demographics(
		now = Date.now(),
		onSlice?: (
			found: ReadonlyMap<string, ClinicalResource>,
			unread: ReadonlySet<string>,
			done: number,
			total: number
		) => Promise<void> | void,
		slice = DEMOGRAPHICS_SLICE,
		records?: Map<string, [string, RecordEntry][]>
	): Promise<Map<string, ClinicalResource>> {
		const listed = [...(records ?? (await this.demographicRecords()))];
		const out = new Map<string, ClinicalResource>();
		const unread = new Set(listed.map(([patient]) => patient));
		for (let from = 0; from < listed.length; from += slice) {
			const part = listed.slice(from, from + slice);
			// The slice's consent (privacy/access.ts), read with it: the first names show before the last patients are judged.
			const view = await this.view(part.map(([patient]) => patient));
			const mayWrite = recordWriters(view);
			const readable: Demographic[] = [];
			for (const [patient, demographic] of part) {
				if (!accessBasis(view, this.keyring.self, patient, 'demographics', now)) continue;
				// A Patient record some writer wrote, before one nobody allowed wrote (which could be ordered first).
				const written = ([, r]: readonly [string, RecordEntry]) => r.versions.some((v) => mayWrite(patient, v.author, 'demographics'));
				const [rid, record] = demographic.find(written) ?? demographic[0]!;
				// Newest first, as the chart judges them: versions by writers, or all when none is.
				const versions = record.versions;
				const byWriters = versions.filter((v) => mayWrite(patient, v.author, 'demographics'));
				readable.push({ patient, rid, record, candidates: [...(byWriters.length > 0 ? byWriters : versions)].reverse(), at: 0 });
			}
			const decrypted = await this.#openDemographics(view, mayWrite, readable, out);
			for (const [patient] of part) unread.delete(patient);
			// Reported when names were decrypted, or patients found sealed (no longer shown as being read).
			if (decrypted > 0 || readable.length < part.length)
				await onSlice?.(out, unread, Math.min(from + slice, listed.length), listed.length);
		}
		return out;
	}

	/**
	 * Adds to `out` the Patient resource of each of `pending`: every patient's newest
	 * candidate in one read, an older one only where the newer does not open. Returns how
	 * many it decrypted (the others were cached).
	 */
	async #openDemographics(
		view: RecordsView,
		mayWrite: ReturnType<typeof recordWriters>,
		pending: Demographic[],
		out: Map<string, ClinicalResource>
	): Promise<number> {
		let decrypted = 0;
		while (pending.length > 0) {
			const missing = pending.filter((w) => {
				const cached = this.#demographics.get(`${w.candidates[w.at]!.block}/${w.rid}`);
				if (cached) out.set(w.patient, cached);
				return !cached;
			});
			if (missing.length === 0) break;
			decrypted += missing.length;
			const stored = await this.ledger.store.getMany(missing.map((w) => w.candidates[w.at]!.block as BlockId));
			const keyed = {
				...view,
				keys: await keySlotsOf(
					this.ledger,
					missing.map((w) => w.patient)
				)
			};
			pending = [];
			missing.forEach((w, i) => {
				const version = w.candidates[w.at]!;
				const bytes = stored[i]?.bytes;
				try {
					if (!bytes) throw new EnvelopeError('the block is missing from this browser');
					const resource = decodeResource(this.keyring.openVersion(keyed, w.rid, w.record, version, bytes));
					this.#demographics.set(`${version.block}/${w.rid}`, resource);
					out.set(w.patient, resource);
				} catch {
					// Sealed for this node or damaged: try the version before; with none, the registry shows the patient as sealed.
					if (w.at + 1 < w.candidates.length) pending.push({ ...w, at: w.at + 1 });
				}
			});
		}
		return decrypted;
	}

	/**
	 * Key shares this node owes (grants in force, emergency accesses) appended in one block;
	 * the number of wraps made. `patients`: only theirs (those a change could concern);
	 * every patient with a key when absent, their keys read a page of patients at a time.
	 */
	async shareKeys(now = Date.now(), patients?: Iterable<string>): Promise<number> {
		const txs: Tx[] = [];
		if (patients) txs.push(...this.keyring.pendingShares(await this.viewFor(patients), now));
		else for await (const page of keyPatients(this.ledger)) txs.push(...this.keyring.pendingShares(await this.viewFor(page), now));
		if (txs.length === 0) return 0;
		await this.ledger.append(txs);
		return txs.reduce((n, tx) => n + (tx.wraps as unknown[]).length, 0);
	}
}

/** The `access.log` transaction for a batch of reads. */
export function accessLogTx(reads: readonly ReadEvent[]): Tx {
	return {
		t: 'access.log',
		entries: reads.map((r) => ({
			patient: fromHex(r.patient),
			category: r.category,
			...(r.rid ? { rid: fromHex(r.rid) } : {}),
			action: r.action,
			at: r.at
		}))
	};
}

/** `access.request` / `access.breakglass` transactions. */
export function accessRequestTx(
	kind: 'request' | 'break-glass',
	patient: string,
	categories: readonly Category[],
	reason: string,
	purpose = 'treatment'
): Tx {
	const id = crypto.getRandomValues(new Uint8Array(16));
	const base = { id, patient: fromHex(patient), categories: [...categories], reason: reason.trim() };
	return kind === 'request' ? { t: 'access.request', ...base, purpose } : { t: 'access.breakglass', ...base };
}
