/**
 * The records workspace of a clinic node: the patient registry (names come from the
 * demographics this node may decrypt, nothing else), a patient's chart, new entries,
 * access requests and emergency access, the patient's own view (opened with their key
 * card and PIN), reads logged and batched onto the ledger, and key sharing owed to
 * grantees. All records go through {@link RecordBook}: validated, sealed, appended.
 */
import { describeError, type AuthorId, type Ledger, type Tx } from '$lib/core/index.js';
import type { Patient } from '@medplum/fhirtypes';
import type { AccessState } from '$lib/domain/privacy/access.js';
import type { Grant, Purpose } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import type { MemberClinics, MemberNames } from '$lib/domain/members.js';
import { accessLogTx, accessRequestTx, RecordBook, RecordInputError, type ReadEvent, type RecordView } from '$lib/domain/records/book.js';
// The importer carries the R4 definitions (about 0.9 MB): loaded when a Bundle is opened, not with the app.
import type { ImportPlan } from '$lib/domain/records/bundle.js';
import { exportBundle } from '$lib/domain/records/bundle-export.js';
import type { DirectoryState } from '$lib/domain/records/directory.js';
import { knownRecords } from '$lib/domain/records/known.js';
import type { WrappedKey } from '$lib/domain/privacy/envelope.js';
import { CardError, encodeCard, openCard } from '$lib/domain/records/card.js';
import { registerPatient, RegisterRefusal, type RegisterInput } from '$lib/domain/records/register.js';
import { displayName, type ClinicalResource } from '$lib/domain/records/fhir.js';
import type { AuditEvent, RecordsState as FoldState } from '$lib/domain/records/fold.js';
import { accessBasis, NoAccessError, type Keyring } from '$lib/domain/records/keyring.js';
import { PatientSession } from '$lib/domain/records/patient.js';

export const DEFAULT_GRANT: readonly Category[] = ['demographics', 'encounters', 'medications', 'labs'];
/** Reads are written to the ledger at least this often while any are waiting. */
const LOG_FLUSH_MS = 10_000;
/** The same record read again within this window is logged once. */
const LOG_DEDUP_MS = 10 * 60_000;
const PENDING_READS_META = 'pending-reads';
const PENDING_CARDS_META = 'pending-cards';
/** Transaction types after which the registry, the chart or the patient's view may read differently. */
const RELEVANT = /^(record\.|key\.|consent\.|access\.|member\.|study\.)/;

export interface PatientRow {
	readonly patient: string;
	readonly name: string | null;
	readonly birthDate: string | null;
	readonly gender: string | null;
	readonly identifiers: readonly string[];
	readonly records: number;
	/** Whether this node may read the patient's demographics. */
	readonly readable: boolean;
}

export type { RegisterInput } from '$lib/domain/records/register.js';

export interface MadeCard {
	readonly patient: string;
	readonly name: string;
	readonly code: string;
}

export class RecordsWorkspace {
	#patients = $state.raw<PatientRow[]>([]);
	get patients() {
		return this.#patients;
	}
	#query = $state('');
	get query() {
		return this.#query;
	}
	/** Filters the registry by name, birth date or record number. */
	search(text: string): void {
		this.#query = text;
	}
	#selected = $state<string | null>(null);
	get selected() {
		return this.#selected;
	}
	#chart = $state.raw<RecordView[]>([]);
	get chart() {
		return this.#chart;
	}
	#chartError = $state<string | null>(null);
	get chartError() {
		return this.#chartError;
	}
	#busy = $state(false);
	get busy() {
		return this.#busy;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	/** Paths and messages of a refused entry. */
	#issues = $state.raw<{ path: string; message: string }[]>([]);
	get issues() {
		return this.#issues;
	}
	#duplicate = $state.raw<PatientRow | null>(null);
	get duplicate() {
		return this.#duplicate;
	}
	#lastCard = $state.raw<MadeCard | null>(null);
	get lastCard() {
		return this.#lastCard;
	}
	/** Reads not yet on the ledger. */
	#pendingReads = $state(0);
	get pendingReads() {
		return this.#pendingReads;
	}
	/** Wraps this node shared for grants and emergency accesses since it opened. */
	#shared = $state(0);
	get shared() {
		return this.#shared;
	}
	#names = $state.raw<MemberNames>({});
	get names() {
		return this.#names;
	}
	#clinics = $state.raw<MemberClinics>({});
	get clinics() {
		return this.#clinics;
	}
	/** The patient present with their card, while their view is open. */
	#session = $state.raw<PatientSession | null>(null);
	get session() {
		return this.#session;
	}
	#sessionError = $state<string | null>(null);
	get sessionError() {
		return this.#sessionError;
	}
	/** A Bundle read and checked, waiting for the import button. */
	#importPlan = $state.raw<ImportPlan | null>(null);
	get importPlan() {
		return this.#importPlan;
	}
	#importError = $state<string | null>(null);
	get importError() {
		return this.#importError;
	}
	#importProgress = $state.raw<{ done: number; total: number; phase: 'sealing' | 'writing' } | null>(null);
	get importProgress() {
		return this.#importProgress;
	}
	#lastImport = $state.raw<{ patients: number; records: number; directory: number; unchanged: number; blocks: number; ms: number } | null>(
		null
	);
	get lastImport() {
		return this.#lastImport;
	}
	/** Patients whose key is kept for this node until their card is printed (imported patients). */
	#pendingCards = $state.raw<string[]>([]);
	get pendingCards() {
		return this.#pendingCards;
	}
	#grants = $state.raw<(Grant & { revoked: boolean; block: string })[]>([]);
	get grants() {
		return this.#grants;
	}
	/** The patient's own records, opened with the patient's key (all categories). */
	#sessionRecords = $state.raw<RecordView[]>([]);
	get sessionRecords() {
		return this.#sessionRecords;
	}
	#audit = $state.raw<AuditEvent[]>([]);
	get audit() {
		return this.#audit;
	}
	#requests = $state.raw<
		{
			id: string;
			kind: 'request' | 'break-glass';
			by: string;
			at: number;
			categories: Category[];
			purpose: string;
			reason: string;
			answered: boolean;
		}[]
	>([]);
	get requests() {
		return this.#requests;
	}

	#ledger: Ledger | null = null;
	#book: RecordBook | null = null;
	#off: (() => void)[] = [];
	#reads: ReadEvent[] = [];
	#lastLogged = new Map<string, number>();
	#flushTimer: ReturnType<typeof setTimeout> | null = null;
	#sharing = false;
	#refreshQueued = false;

	/** Starts on an open ledger with this node's keyring. */
	async attach(ledger: Ledger, keyring: Keyring): Promise<void> {
		if (this.#ledger === ledger) return;
		this.detach();
		this.#ledger = ledger;
		this.#book = new RecordBook(ledger, keyring);
		// Only blocks that can change what this node sees of patients (records, keys, consent, requests, membership) re-read the registry.
		this.#off.push(ledger.on('accepted', (blocks) => blocks.some((b) => b.txs.some((tx) => RELEVANT.test(tx.t))) && this.#queueRefresh()));
		this.#pendingCards = Object.keys(
			(await ledger.store.getMeta<Record<string, WrappedKey>>(PENDING_CARDS_META).catch(() => undefined)) ?? {}
		);
		const saved = await ledger.store.getMeta<ReadEvent[]>(PENDING_READS_META).catch(() => undefined);
		if (saved?.length) this.#reads.push(...saved);
		this.#pendingReads = this.#reads.length;
		await this.refresh();
		if (this.#reads.length) this.#scheduleFlush();
	}

	detach(): void {
		for (const off of this.#off) off();
		this.#off = [];
		if (this.#flushTimer) clearTimeout(this.#flushTimer);
		this.#flushTimer = null;
		this.#ledger = null;
		this.#book = null;
		this.closePatient();
	}

	get self(): string | null {
		return this.#book?.keyring.self ?? null;
	}

	/** Who wrote something, as the members list names them. */
	nameOf(member: string): string {
		return this.#names[member] ?? `${member.slice(0, 10)}…`;
	}

	/** Who wrote something and where: the device's name and its clinic's, when it belongs to one. */
	authorLabel(member: string): string {
		const clinic = this.#clinics[member];
		return clinic && clinic !== member ? `${this.nameOf(member)} at ${this.nameOf(clinic)}` : this.nameOf(member);
	}

	/** Clears the errors of a form that was closed. */
	clearErrors(): void {
		this.#error = null;
		this.#issues = [];
	}

	get visiblePatients(): PatientRow[] {
		const q = this.#query.trim().toLowerCase();
		if (!q) return this.#patients;
		return this.#patients.filter(
			(p) =>
				(p.name ?? '').toLowerCase().includes(q) ||
				(p.birthDate ?? '').includes(q) ||
				p.identifiers.some((i) => i.toLowerCase().includes(q)) ||
				p.patient.startsWith(q)
		);
	}

	/** Coalesces refreshes: a catch-up accepts blocks in many batches; the registry is re-read at most every 250 ms. */
	#queueRefresh(): void {
		if (this.#refreshQueued) return;
		this.#refreshQueued = true;
		setTimeout(() => {
			this.#refreshQueued = false;
			void this.refresh();
		}, 250);
	}

	/** Re-reads the registry, the open chart and the patient view, and shares keys owed. */
	async refresh(): Promise<void> {
		const book = this.#book;
		const ledger = this.#ledger;
		if (!book || !ledger) return;
		const state = ledger.state();
		this.#names = (state['member-names'] ?? {}) as MemberNames;
		this.#clinics = (state['member-clinics'] ?? {}) as MemberClinics;
		this.#patients = await this.#registry(book);
		if (this.#selected) await this.#loadChart(this.#selected);
		this.#loadPatientView();
		void this.#shareOwedKeys();
	}

	async #registry(book: RecordBook): Promise<PatientRow[]> {
		const names = await book.demographics();
		const rows: PatientRow[] = book.patients().map((entry) => {
			const found = names.get(entry.patient);
			const patient = found?.resourceType === 'Patient' ? (found as Patient) : null;
			return {
				patient: entry.patient,
				name: patient ? displayName(patient) : null,
				birthDate: patient?.birthDate ?? null,
				gender: patient?.gender ?? null,
				identifiers: (patient?.identifier ?? []).map((i) => i.value ?? '').filter(Boolean),
				records: entry.records,
				readable: patient !== null
			};
		});
		return rows.sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.patient.localeCompare(b.patient));
	}

	async open(patient: string): Promise<void> {
		this.#selected = patient;
		await this.#loadChart(patient);
	}

	async #loadChart(patient: string): Promise<void> {
		const book = this.#book;
		if (!book) return;
		try {
			const { records, reads } = await book.chart(patient);
			if (this.#selected !== patient) return;
			this.#chart = records;
			this.#chartError = null;
			this.#log(reads);
		} catch (error) {
			this.#chartError = `The chart could not be read: ${describeError(error)}`;
		}
	}

	/** What this node may do for `patient`'s `category` right now. */
	basis(patient: string, category: Category): 'patient' | 'grant' | 'emergency' | null {
		const book = this.#book;
		return book ? accessBasis(book.view(), book.keyring.self, patient, category, Date.now()) : null;
	}

	/** The clinic member key grants go to: this device's clinic, or this node itself. */
	get clinicKey(): string | null {
		const self = this.self;
		return self ? (this.#clinics[self] ?? self) : null;
	}

	/** Closes the key card shown after a registration (it was printed or handed over). */
	dismissCard(): void {
		this.#lastCard = null;
	}

	/** Registers a patient through the domain's use case (one block: grant and Patient), then opens the chart. */
	async register(input: RegisterInput): Promise<boolean> {
		const book = this.#book;
		this.#error = null;
		this.#issues = [];
		if (!book || this.#busy) return false;
		this.#busy = true;
		try {
			const made = await registerPatient(book, input, { grantee: this.clinicKey! });
			this.#duplicate = null;
			this.#lastCard = { patient: made.patient, name: made.name, code: made.card };
			await this.refresh();
			await this.open(made.patient);
			return true;
		} catch (error) {
			if (error instanceof RegisterRefusal) {
				this.#duplicate = error.duplicate ? (this.#patients.find((p) => p.patient === error.duplicate) ?? null) : null;
				this.#error = error.message;
			} else {
				if (error instanceof RecordInputError) this.#issues = [...error.issues];
				this.#error = `The patient was not registered: ${describeError(error)}`;
			}
			return false;
		} finally {
			this.#busy = false;
		}
	}

	#refuse(message: string): false {
		this.#error = message;
		return false;
	}

	/** Writes `resources` for the open patient in one block (an encounter and what was recorded in it). */
	async writeAll(resources: readonly ClinicalResource[], amend?: { rid: string; prev: string }): Promise<boolean> {
		const book = this.#book;
		const ledger = this.#ledger;
		this.#error = null;
		this.#issues = [];
		if (!book || !ledger || this.#busy) return false;
		this.#busy = true;
		try {
			const txs: Tx[] = [];
			const issues: { path: string; message: string }[] = [];
			resources.forEach((resource, i) => {
				try {
					txs.push(...book.sealTxs(resource, amend ? { rid: amend.rid, prev: amend.prev } : {}).txs);
				} catch (error) {
					if (error instanceof RecordInputError)
						issues.push(
							...error.issues.map((issue) => ({
								path: issue.path.replace(/^\$/, `$[${i}] ${resource.resourceType}`),
								message: issue.message
							}))
						);
					else throw error;
				}
			});
			if (issues.length) {
				this.#issues = issues;
				this.#error = 'Nothing was saved: correct the fields listed.';
				return false;
			}
			await ledger.append(txs);
			await this.refresh();
			return true;
		} catch (error) {
			this.#error = error instanceof NoAccessError ? error.message : `Nothing was saved: ${describeError(error)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}

	/** Asks the patient for access (they approve from their view) or records an emergency access. */
	async ask(
		kind: 'request' | 'break-glass',
		patient: string,
		categories: readonly Category[],
		reason: string,
		purpose: Purpose = 'treatment'
	): Promise<boolean> {
		const ledger = this.#ledger;
		this.#error = null;
		if (!ledger || this.#busy) return false;
		if (categories.length === 0) return this.#refuse('Choose which categories you need.');
		if (!reason.trim())
			return this.#refuse(
				kind === 'break-glass'
					? 'Emergency access needs a reason; the patient will see it.'
					: 'Say why you need access; the patient will see it.'
			);
		this.#busy = true;
		try {
			await ledger.append([accessRequestTx(kind, patient, categories, reason, purpose)]);
			return true;
		} catch (error) {
			this.#error = `Not recorded: ${describeError(error)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}

	/** Records that this node exported or printed a patient's data. */
	logAction(patient: string, action: 'export' | 'print', categories: readonly Category[]): void {
		const at = Date.now();
		this.#log(
			categories.map((category) => ({ patient, category, action, at })),
			true
		);
	}

	#log(reads: readonly ReadEvent[], always = false): void {
		const now = Date.now();
		const fresh = reads.filter((r) => {
			const key = `${r.action}/${r.patient}/${r.rid ?? r.category}`;
			if (!always && now - (this.#lastLogged.get(key) ?? -Infinity) < LOG_DEDUP_MS) return false;
			this.#lastLogged.set(key, now);
			return true;
		});
		if (fresh.length === 0) return;
		this.#reads.push(...fresh);
		this.#pendingReads = this.#reads.length;
		void this.#ledger?.store.putMeta(PENDING_READS_META, this.#reads).catch(() => undefined);
		this.#scheduleFlush();
	}

	#scheduleFlush(): void {
		if (this.#flushTimer) return;
		this.#flushTimer = setTimeout(() => {
			this.#flushTimer = null;
			void this.flushReads();
		}, LOG_FLUSH_MS);
	}

	/** Writes waiting reads to the ledger as one `access.log` block. */
	async flushReads(): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger || this.#reads.length === 0) return;
		const batch = this.#reads.slice(0, 500);
		try {
			await ledger.append([accessLogTx(batch)]);
			this.#reads.splice(0, batch.length);
			await ledger.store.putMeta(PENDING_READS_META, this.#reads);
		} catch {
			// Kept for the next attempt: a read log is never dropped.
		}
		this.#pendingReads = this.#reads.length;
		if (this.#reads.length) this.#scheduleFlush();
	}

	async #shareOwedKeys(): Promise<void> {
		const book = this.#book;
		if (!book || this.#sharing) return;
		this.#sharing = true;
		try {
			this.#shared += await book.shareKeys();
		} catch {
			// A share refused now (e.g. this node was removed) is retried on the next change.
		} finally {
			this.#sharing = false;
		}
	}

	// Import and export.

	/** Reads a Bundle file and checks it against what this node holds; shows the preview (or every error). Nothing is written. */
	async planFrom(text: string): Promise<void> {
		this.discardImport();
		this.#lastImport = null;
		const book = this.#book;
		const ledger = this.#ledger;
		if (!book || !ledger) return;
		try {
			const [{ planImport }, known] = await Promise.all([
				import('$lib/domain/records/bundle.js'),
				knownRecords(book, ledger.state().directory as DirectoryState | undefined)
			]);
			const plan = planImport(text, { known });
			this.#importPlan = plan;
			this.#importError = plan.issues.length
				? `${plan.issues.length} error(s): nothing will be imported until the Bundle is corrected.`
				: null;
		} catch (error) {
			this.#importError = `The file could not be read: ${describeError(error)}`;
		}
	}

	discardImport(): void {
		for (const p of this.#importPlan?.patients ?? []) p.seed?.fill(0);
		this.#importPlan = null;
		this.#importError = null;
	}

	/** Records of the checked Bundle in categories not among `categories`: left with the source system. */
	notGranted(categories: readonly Category[]): number {
		return (this.#importPlan?.patients ?? []).reduce((n, p) => n + p.records.filter((r) => !categories.includes(r.category)).length, 0);
	}

	/** Imports the checked Bundle, granting this clinic `categories` for every patient in it. */
	async runImport(categories: readonly Category[]): Promise<boolean> {
		const book = this.#book;
		const plan = this.#importPlan;
		const ledger = this.#ledger;
		if (!book || !plan || !ledger || this.#busy) return false;
		if (plan.issues.length) return false;
		if (categories.length === 0) return ((this.#importError = 'Choose what the patients let this clinic read.'), false);
		this.#busy = true;
		const started = performance.now();
		try {
			this.#importProgress = { done: 0, total: plan.patients.length, phase: 'sealing' };
			const { runImport } = await import('$lib/domain/records/bundle.js');
			const result = await runImport(book, plan, {
				grantee: this.clinicKey!,
				categories,
				onProgress: async (done, total) => {
					this.#importProgress = { done, total, phase: done === total ? 'writing' : 'sealing' };
					await new Promise((resolve) => setTimeout(resolve, 0)); // let the progress bar draw
				}
			});
			// Keep each new patient key for this node only, until the patient's card is printed.
			const kept = (await ledger.store.getMeta<Record<string, WrappedKey>>(PENDING_CARDS_META)) ?? {};
			for (const p of plan.patients) if (p.seed) kept[p.patient] = book.keyring.wrapForSelf(ledger.net, p.patient, p.seed);
			await ledger.store.putMeta(PENDING_CARDS_META, kept);
			this.#pendingCards = Object.keys(kept);
			this.#lastImport = {
				patients: result.patients.length,
				records: result.records,
				directory: result.directory,
				unchanged: plan.unchanged,
				blocks: result.blocks,
				ms: Math.round(performance.now() - started)
			};
			this.discardImport();
			await this.refresh();
			return true;
		} catch (error) {
			this.#importError = `Nothing was imported: ${describeError(error)}`;
			return false;
		} finally {
			this.#importProgress = null;
			this.#busy = false;
		}
	}

	/** Makes the key card of an imported patient (present now, choosing a PIN) and forgets the kept key. */
	async printPendingCard(patient: string, pin: string, pinAgain: string): Promise<boolean> {
		const book = this.#book;
		const ledger = this.#ledger;
		this.#error = null;
		if (!book || !ledger || this.#busy) return false;
		if (pin !== pinAgain) return this.#refuse('The two PINs differ.');
		const kept = (await ledger.store.getMeta<Record<string, WrappedKey>>(PENDING_CARDS_META)) ?? {};
		const wrap = kept[patient];
		if (!wrap) return this.#refuse('This patient’s key is not kept here: their card was printed already.');
		this.#busy = true;
		let seed: Uint8Array | null = null;
		try {
			seed = book.keyring.unwrapForSelf(ledger.net, patient, wrap);
			const code = await encodeCard(seed, pin);
			delete kept[patient];
			await ledger.store.putMeta(PENDING_CARDS_META, kept);
			this.#pendingCards = Object.keys(kept);
			this.#lastCard = { patient, name: this.#patients.find((p) => p.patient === patient)?.name ?? 'patient', code };
			return true;
		} catch (error) {
			this.#error = `No card was made: ${describeError(error)}`;
			return false;
		} finally {
			seed?.fill(0);
			this.#busy = false;
		}
	}

	/** The open patient's readable records as a FHIR Bundle file; the export is logged for the patient. */
	async exportPatient(patient: string): Promise<{ json: string; sealed: number } | null> {
		const book = this.#book;
		if (!book) return null;
		const { bundle, sealed, categories } = await exportBundle(book, patient, {
			names: this.#names,
			directory: this.#ledger?.state().directory as DirectoryState | undefined
		});
		this.logAction(patient, 'export', categories);
		return { json: JSON.stringify(bundle, null, 2), sealed };
	}

	// The patient's own view.

	/** Opens the patient's view with their card code and PIN. */
	async openPatient(code: string, pin: string): Promise<boolean> {
		this.#sessionError = null;
		try {
			const { seed } = await openCard(code, pin);
			this.closePatient();
			this.#session = new PatientSession(seed);
			this.#loadPatientView();
			return true;
		} catch (error) {
			this.#sessionError = error instanceof CardError ? error.message : `The card could not be opened: ${describeError(error)}`;
			return false;
		}
	}

	closePatient(): void {
		this.#session?.close();
		this.#session = null;
		this.#grants = [];
		this.#audit = [];
		this.#requests = [];
		this.#sessionRecords = [];
	}

	#loadPatientView(): void {
		const session = this.#session;
		const ledger = this.#ledger;
		if (!session || !ledger) return;
		const state = ledger.state();
		const access = state.access as AccessState;
		const records = state.records as FoldState;
		// Copies: the fold updates its grants in place (a revocation), and the list must see the change.
		this.#grants = Object.values(access.grants)
			.filter((g) => g.patient === session.patient)
			.map((g) => ({ ...g }))
			.sort((a, b) => b.issued - a.issued);
		this.#audit = [...(records.audit[session.patient] ?? [])].reverse();
		const answered = new Set(
			Object.values(access.grants)
				.map((g) => g.request)
				.filter(Boolean)
		);
		void new RecordBook(ledger, session.keyring).chart(session.patient).then(({ records: mine }) => {
			if (this.#session === session) this.#sessionRecords = mine;
		});
		this.#requests = Object.entries(records.requests)
			.filter(([, r]) => r.patient === session.patient)
			.map(([id, r]) => ({
				id,
				kind: r.kind,
				by: r.by,
				at: r.at,
				categories: r.categories,
				purpose: r.purpose,
				reason: r.reason,
				answered: answered.has(id)
			}))
			.sort((a, b) => b.at - a.at);
	}

	/** The patient grants `grantee` access (optionally answering a request). */
	async patientGrant(grantee: string, categories: readonly Category[], purpose: Purpose, days: number, request?: string): Promise<boolean> {
		const session = this.#session;
		if (!session) return false;
		if (!grantee) {
			this.#sessionError = 'Choose who may read.';
			return false;
		}
		try {
			const { tx } = session.grant({ grantee, categories, purpose, days, ...(request ? { request } : {}) });
			return await this.#patientWrite([tx]);
		} catch (error) {
			this.#sessionError = describeError(error);
			return false;
		}
	}

	/** The patient revokes a grant: new data is sealed under keys the grantee never gets. */
	patientRevoke(id: string): Promise<boolean> {
		const session = this.#session;
		if (!session) return Promise.resolve(false);
		return this.#patientWrite([session.revoke(id)]);
	}

	async #patientWrite(txs: Tx[]): Promise<boolean> {
		const ledger = this.#ledger;
		this.#sessionError = null;
		if (!ledger) return false;
		try {
			await ledger.append(txs);
			await this.refresh();
			return true;
		} catch (error) {
			this.#sessionError = `Not recorded: ${describeError(error)}`;
			return false;
		}
	}

	/** Members a patient can grant to: everyone but patients, with names. */
	grantees(): { key: AuthorId; name: string; role: string }[] {
		const ledger = this.#ledger;
		if (!ledger) return [];
		return [...ledger.roster()].filter(([, role]) => role !== 'patient').map(([key, role]) => ({ key, role, name: this.nameOf(key) }));
	}
}
