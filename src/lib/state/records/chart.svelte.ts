/**
 * A patient's chart: the records this node may open (the others listed as sealed), what
 * it may do per category, new encounters and amendments (domain/records/write-records.ts:
 * one block), access requests and emergency access (request-access.ts), and the export of
 * the chart as a FHIR Bundle. Reads and exports are logged through the {@link ReadLog}.
 */
import { describeError } from '$lib/core/index.js';
import type { Purpose } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import { RecordInputError, type RecordView } from '$lib/domain/records/book.js';
import { exportBundleFile } from '$lib/domain/records/bundle-export.js';
import type { DirectoryState } from '$lib/domain/records/directory.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import { accessBasis, NoAccessError } from '$lib/domain/records/keyring.js';
import { AccessRequestRefusal, requestAccess } from '$lib/domain/records/request-access.js';
import { writeRecords, type Amendment } from '$lib/domain/records/write-records.js';
import type { MemberNames } from '$lib/domain/members.js';
import type { FieldIssue, RecordsContext } from './context.js';
import type { ReadLog } from './read-log.svelte.js';

export type AccessBasis = 'patient' | 'grant' | 'emergency' | null;

export class ChartManager {
	#selected = $state<string | null>(null);
	/** The patient whose chart is open. */
	get selected() {
		return this.#selected;
	}
	#records = $state.raw<RecordView[]>([]);
	/** The open chart's records. */
	get records() {
		return this.#records;
	}
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
		this.#selected = patient;
		await this.reload();
	}

	/** Re-reads the open chart (after blocks that may change it). */
	async reload(): Promise<void> {
		const book = this.#context.book;
		const patient = this.#selected;
		if (!book || !patient) return;
		try {
			const { records, reads } = await book.chart(patient);
			if (this.#selected !== patient) return;
			this.#records = records;
			this.#readError = null;
			this.#log.log(reads);
		} catch (error) {
			this.#readError = `The chart could not be read: ${describeError(error)}`;
		}
	}

	/** What this node may do for `patient`'s `category` right now. */
	basis(patient: string, category: Category): AccessBasis {
		const book = this.#context.book;
		return book ? accessBasis(book.view(), book.keyring.self, patient, category, Date.now()) : null;
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
	 * read (the chart is re-read whenever blocks that may change it arrive).
	 */
	async exportPatient(patient: string): Promise<{ file: Blob; sealed: number } | null> {
		const book = this.#context.book;
		if (!book) return null;
		const { file, sealed, categories } = await exportBundleFile(book, patient, {
			names: this.#names(),
			directory: book.ledger.state().directory as DirectoryState | undefined,
			...(patient === this.#selected && this.#records.length ? { records: this.#records } : {})
		});
		this.logAction(patient, 'export', categories);
		return { file, sealed };
	}
}
