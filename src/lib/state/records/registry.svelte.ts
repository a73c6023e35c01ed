/**
 * The patient registry: the patients this node knows, named from the demographics it may
 * decrypt (nothing else), searched by name, birth date or record number; and the front
 * desk's registration (domain/records/register.ts: one block, grant and Patient).
 */
import { describeError } from '$lib/core/index.js';
import type { Patient } from '@medplum/fhirtypes';
import { RecordInputError, type RecordBook } from '$lib/domain/records/book.js';
import type { ClinicalResource } from '$lib/domain/records/fhir-resource.js';
import { displayName } from '$lib/domain/records/fhir.js';
import { registerPatient, RegisterRefusal, type RegisterInput } from '$lib/domain/records/register.js';
import { whenIdle } from '../background.js';
import type { FieldIssue, RecordsContext } from './context.js';
import type { KeyCards } from './key-cards.svelte.js';

export interface PatientRow {
	readonly patient: string;
	readonly name: string | null;
	readonly birthDate: string | null;
	readonly gender: string | null;
	readonly identifiers: readonly string[];
	/** Whether this node may read the patient's demographics. */
	readonly readable: boolean;
	/** True while the registry is still decrypting this patient's name (it may read it). */
	readonly reading?: boolean;
}

/** The registry's rows of `keys`, named from `names`, by name (unnamed last), then key; `unread`: patients whose names are still being read. */
function rowsOf(
	keys: readonly string[],
	names: ReadonlyMap<string, ClinicalResource>,
	unread: ReadonlySet<string> = new Set()
): PatientRow[] {
	const rows: PatientRow[] = keys.map((key) => {
		const found = names.get(key);
		const patient = found?.resourceType === 'Patient' ? (found as Patient) : null;
		return {
			patient: key,
			name: patient ? displayName(patient) : null,
			birthDate: patient?.birthDate ?? null,
			gender: patient?.gender ?? null,
			identifiers: (patient?.identifier ?? []).map((i) => i.value ?? '').filter(Boolean),
			readable: patient !== null,
			...(unread.has(key) ? { reading: true } : {})
		};
	});
	return rows.sort(byName);
}

/** The registry's order: by name (unnamed last), then key. */
const byName = (a: PatientRow, b: PatientRow) =>
	(a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.patient.localeCompare(b.patient);

/**
 * The registry's rows, by name (unnamed last), then key. `onSlice` gets the rows as they
 * are so far after each slice of names decrypted (names not yet read: `reading`), and how
 * many of the readable patients are done.
 */
export async function registryRows(
	book: RecordBook,
	onSlice?: (rows: PatientRow[], done: number, total: number) => Promise<void> | void
): Promise<PatientRow[]> {
	// The patients with a Patient record at once (their names to come: `done` 0), their
	// names a slice at a time, then every patient any record names (a slower read).
	const records = await book.demographicRecords();
	const named = [...records.keys()].sort();
	await onSlice?.(rowsOf(named, new Map(), new Set(named)), 0, named.length);
	const names = await book.demographics(
		Date.now(),
		(found, unread, done, total) => onSlice?.(rowsOf(named, found, unread), done, total),
		undefined,
		records
	);
	return rowsOf(await book.patients(), names);
}

export class PatientRegistry {
	#patients = $state.raw<PatientRow[]>([]);
	get patients() {
		return this.#patients;
	}
	#query = $state('');
	get query() {
		return this.#query;
	}
	/** While names are being decrypted (the first read of a large registry): how many of the readable patients are done. */
	#reading = $state.raw<{ done: number; total: number } | null>(null);
	get reading() {
		return this.#reading;
	}
	/** The reload under way, if any, and whether another was asked for while it ran (then it runs once more, with the latest book). */
	#reloading: Promise<void> | null = null;
	#again: RecordBook | null = null;
	#busy = $state(false);
	get busy() {
		return this.#busy;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	/** Paths and messages of a refused registration. */
	#issues = $state.raw<FieldIssue[]>([]);
	get issues() {
		return this.#issues;
	}
	/** The patient a refused registration may duplicate. */
	#duplicate = $state.raw<PatientRow | null>(null);
	get duplicate() {
		return this.#duplicate;
	}

	readonly #context: RecordsContext;
	readonly #cards: KeyCards;
	readonly #opened: (patient: string) => Promise<void>;

	constructor(context: RecordsContext, cards: KeyCards, opened: (patient: string) => Promise<void>) {
		this.#context = context;
		this.#cards = cards;
		this.#opened = opened;
	}

	/** Filters the registry by name, birth date or record number. */
	search(text: string): void {
		this.#query = text;
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

	/** The name shown for `patient`, when this node may read it. */
	nameOf(patient: string): string | null {
		return this.#patients.find((p) => p.patient === patient)?.name ?? null;
	}

	/**
	 * Reads the registry again; on a first read of thousands of names, shows the patients
	 * at once and their names a slice at a time, each slice when the page is idle
	 * (`reading`). Reloads never overlap: one asked for while another runs follows it once
	 * (a catch-up asks after every batch). Resolves when a reload started after the call is done.
	 */
	reload(book: RecordBook): Promise<void> {
		this.#again = book;
		return (this.#reloading ??= this.#reloadAll());
	}

	async #reloadAll(): Promise<void> {
		try {
			while (this.#again) {
				const book = this.#again;
				this.#again = null;
				// Rows already shown stay until this read has its own (no flash of an empty list).
				const first = this.#patients.length === 0;
				const rows = await registryRows(book, async (partial, done, total) => {
					// The patients before any name is read: shown on a first read only.
					if (done === 0 && !first) return;
					// A read again keeps the patients its first list lacks (no Patient record) until its full list.
					const listed = new Set(partial.map((p) => p.patient));
					this.#patients = first ? partial : [...partial, ...this.#patients.filter((p) => !listed.has(p.patient))].sort(byName);
					if (done > 0) this.#reading = { done, total };
					await whenIdle();
				});
				this.#patients = rows;
				this.#reading = null;
			}
		} finally {
			this.#reading = null;
			this.#reloading = null;
		}
	}

	clear(): void {
		this.#patients = [];
	}

	/** Clears the errors of a form that was closed. */
	clearErrors(): void {
		this.#error = null;
		this.#issues = [];
	}

	/** Registers a patient through the domain's use case (one block: grant and Patient), then opens the chart. */
	async register(input: RegisterInput): Promise<boolean> {
		const book = this.#context.book;
		this.clearErrors();
		if (!book || this.#busy) return false;
		this.#busy = true;
		try {
			const made = await registerPatient(book, input, { grantee: this.#context.clinicKey! });
			this.#duplicate = null;
			this.#cards.show({ patient: made.patient, name: made.name, code: made.card });
			await this.#context.refresh();
			await this.#opened(made.patient);
			return true;
		} catch (error) {
			if (error instanceof RegisterRefusal) {
				this.#duplicate = error.duplicate ? (this.#patients.find((p) => p.patient === error.duplicate) ?? null) : null;
				this.#error = error.message;
			} else {
				if (error instanceof RecordInputError) this.#issues = error.issues.map(({ path, message }) => ({ path, message }));
				this.#error = `The patient was not registered: ${describeError(error)}`;
			}
			return false;
		} finally {
			this.#busy = false;
		}
	}
}
