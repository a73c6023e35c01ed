/**
 * A patient's chart: its records a page at a time, newest first (domain/records/chart-pages.ts:
 * only what is shown is decrypted, and read), the others counted; what
 * it may do per category, new encounters and amendments (domain/records/write-records.ts:
 * one block), access requests and emergency access (request-access.ts), and the export of
 * the chart as a FHIR Bundle. Reads and exports are logged through the {@link ReadLog}.
 */
import { describeError } from '$lib/core/index.js';
import type { Purpose } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import { RecordInputError, type RecordView } from '$lib/domain/records/book.js';
import { exportBundleFile } from '$lib/domain/records/bundle-export.js';
import { ChartPages } from '$lib/domain/records/chart-pages.js';
import type { DirectoryState } from '$lib/domain/records/directory.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import { accessBasis, NoAccessError, type RecordsView } from '$lib/domain/records/keyring.js';
import { AccessRequestRefusal, requestAccess } from '$lib/domain/records/request-access.js';
import { writeRecords, type Amendment } from '$lib/domain/records/write-records.js';
import type { MemberNames } from '$lib/domain/members.js';
import type { FieldIssue, RecordsContext } from './context.js';
import type { ReadLog } from './read-log.svelte.js';

export type AccessBasis = 'patient' | 'grant' | 'emergency' | null;

/** Entries a chart shows when opened, and adds with each "Show more". */
export const FIRST_PAGE = 50;
export const MORE = 200;
/** Records read per step while the whole chart loads (the progress moves between steps). */
const LOAD_STEP = 2000;

export class ChartManager {
	#selected = $state<string | null>(null);
	/** The patient whose chart is open. */
	get selected() {
		return this.#selected;
	}
	#pages: ChartPages | null = null;
	/** Who may read and write the records of the chart shown, read with them. */
	#view = $state.raw<RecordsView | null>(null);
	/** The patient whose records {@link records} holds: until the chart just opened is read, none (never another patient's under this one's name). */
	#shownPatient = $state<string | null>(null);
	/** Whether the open chart is still being read for the first time. */
	get reading() {
		return this.#selected !== null && this.#shownPatient !== this.#selected;
	}
	#records = $state.raw<readonly RecordView[]>([]);
	/**
	 * The open chart's records read so far, in timeline order (newest first): exactly the
	 * first entries of the whole timeline; every record once {@link complete}.
	 */
	get records() {
		return this.#records;
	}
	#total = $state(0);
	/** The patient's records, read or not. */
	get total() {
		return this.#total;
	}
	#sealed = $state(0);
	/** Sealed records: every record of a category this node may not read, and those read that had no key. */
	get sealed() {
		return this.#sealed;
	}
	#complete = $state(true);
	/** True when every record of the chart is read ({@link records} is the whole chart). */
	get complete() {
		return this.#complete;
	}
	#wanted = $state(FIRST_PAGE);
	/** Entries the timeline shows (kept when the chart is re-read). */
	get wanted() {
		return this.#wanted;
	}
	#loading = $state<{ read: number; total: number } | null>(null);
	/** Progress of reading the whole chart ({@link loadAll}), or null. */
	get loading() {
		return this.#loading;
	}
	/** Read the whole chart again on {@link reload} (after {@link loadAll}, until another chart opens). */
	#keepAll = false;
	#readError = $state<string | null>(null);
	get readError() {
		return this.#readError;
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
	#issues = $state.raw<FieldIssue[]>([]);
	get issues() {
		return this.#issues;
	}

	readonly #context: RecordsContext;
	readonly #log: ReadLog;
	readonly #names: () => MemberNames;

	constructor(context: RecordsContext, log: ReadLog, names: () => MemberNames) {
		this.#context = context;
		this.#log = log;
		this.#names = names;
	}

	async open(patient: string): Promise<void> {
		if (patient !== this.#shownPatient) {
			this.#records = [];
			this.#total = 0;
			this.#sealed = 0;
			this.#complete = false;
		}
		this.#selected = patient;
		this.#wanted = FIRST_PAGE;
		this.#keepAll = false;
		await this.reload();
	}

	/** Re-reads the open chart (after blocks that may change it), as many entries as were shown (all after {@link loadAll}). */
	async reload(): Promise<void> {
		const book = this.#context.book;
		const patient = this.#selected;
		if (!book || !patient) return;
		try {
			const pages = await ChartPages.open(book, patient);
			const reads = await pages.load(
				this.#keepAll ? Infinity : Math.max(this.#wanted, this.#pages?.patient === patient ? this.#records.length : 0)
			);
			this.#log.log(reads);
			if (this.#selected !== patient) return;
			this.#pages = pages;
			this.#publish(pages);
			this.#readError = null;
		} catch (error) {
			this.#readError = `The chart could not be read: ${describeError(error)}`;
		}
	}

	/** Shows `count` more entries, reading the records they need. */
	async showMore(count = MORE): Promise<void> {
		this.#wanted += count;
		await this.#load(this.#wanted);
	}

	/** Reads every record of the open chart (print, visit workflows, trends), with progress in {@link loading}. */
	async loadAll(): Promise<void> {
		this.#keepAll = true;
		const pages = this.#pages;
		if (!pages || pages.complete) return;
		this.#loading = { read: pages.read, total: pages.total };
		try {
			await this.#load(Infinity, LOAD_STEP);
		} finally {
			this.#loading = null;
		}
	}

	async #load(count: number, step?: number): Promise<void> {
		const pages = this.#pages;
		if (!pages) return;
		try {
			const reads = await pages.load(count, step, () => {
				if (this.#pages !== pages) return;
				if (this.#loading) this.#loading = { read: pages.read, total: pages.total };
				this.#publish(pages);
			});
			this.#log.log(reads);
			if (this.#pages === pages) this.#publish(pages);
		} catch (error) {
			this.#readError = `The chart could not be read: ${describeError(error)}`;
		}
	}

	#publish(pages: ChartPages): void {
		this.#shownPatient = pages.patient;
		this.#view = pages.view;
		this.#records = pages.records;
		this.#total = pages.total;
		this.#sealed = pages.sealed;
		this.#complete = pages.complete;
	}

	/** What this node may do for `patient`'s `category` right now (nothing until the patient's chart is read: its consent is read with it). */
	basis(patient: string, category: Category): AccessBasis {
		const book = this.#context.book;
		const view = this.#view;
		return book && view && this.#shownPatient === patient ? accessBasis(view, book.keyring.self, patient, category, Date.now()) : null;
	}

	/** Clears the errors of a form that was closed. */
	clearErrors(): void {
		this.#error = null;
		this.#issues = [];
	}

	/** Writes `resources` for the open patient in one block (an encounter and what was recorded in it), or amends one record. */
	async write(resources: readonly ClinicalResource[], amend?: Amendment): Promise<boolean> {
		const book = this.#context.book;
		this.clearErrors();
		if (!book || this.#busy) return false;
		this.#busy = true;
		try {
			await writeRecords(book, resources, amend);
			await this.#context.refresh();
			return true;
		} catch (error) {
			if (error instanceof RecordInputError) {
				this.#issues = error.issues.map(({ path, message }) => ({ path, message }));
				this.#error = 'Nothing was saved: correct the fields listed.';
			} else this.#error = error instanceof NoAccessError ? error.message : `Nothing was saved: ${describeError(error)}`;
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
		const ledger = this.#context.ledger;
		this.#error = null;
		if (!ledger || this.#busy) return false;
		this.#busy = true;
		try {
			await requestAccess(ledger, { kind, patient, categories, reason, purpose });
			return true;
		} catch (error) {
			this.#error = error instanceof AccessRequestRefusal ? error.message : `Not recorded: ${describeError(error)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}

	/** Records that this node printed or exported a patient's data. */
	logAction(patient: string, action: 'export' | 'print', categories: readonly Category[]): void {
		this.#log.logAction(patient, action, categories);
	}

	/**
	 * The patient's readable records as a FHIR Bundle file (written into a Blob a piece at a
	 * time); the export is logged for the patient. The open chart's records are exported as
	 * read when all of them are (the chart is re-read whenever blocks that may change it
	 * arrive); otherwise the export reads the whole chart itself, never a page of it.
	 */
	async exportPatient(patient: string): Promise<{ file: Blob; sealed: number } | null> {
		const book = this.#context.book;
		if (!book) return null;
		const { file, sealed, categories } = await exportBundleFile(book, patient, {
			names: this.#names(),
			directory: book.ledger.state().directory as DirectoryState | undefined,
			...(patient === this.#selected && this.#pages?.patient === patient && this.#complete && this.#records.length
				? { records: this.#records }
				: {})
		});
		this.logAction(patient, 'export', categories);
		return { file, sealed };
	}
}
