/**
 * Importing a FHIR Bundle: read and check it (a preview, or every error; nothing written),
 * then import it with progress (domain/records/import-bundle.ts, loaded with the R4
 * definitions only when a Bundle is opened). The new patients' cards are then owed.
 */
import { CodedError, describeError } from '$lib/core/index.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import type { ImportPlan } from '$lib/domain/records/bundle.js';
import type { RecordsContext } from './context.js';
import type { KeyCards } from './key-cards.svelte.js';

export interface ImportProgress {
	readonly done: number;
	readonly total: number;
	readonly phase: 'sealing' | 'writing';
}

export interface ImportSummary {
	readonly patients: number;
	readonly records: number;
	readonly directory: number;
	readonly unchanged: number;
	readonly blocks: number;
	readonly ms: number;
}

// The importer carries the R4 definitions (about 0.9 MB): loaded when a Bundle is opened, not with the app.
const importer = () => import('$lib/domain/records/import-bundle.js');

export class BundleImport {
	/** A Bundle read and checked, waiting for the import button. */
	#plan = $state.raw<ImportPlan | null>(null);
	get plan() {
		return this.#plan;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#progress = $state.raw<ImportProgress | null>(null);
	get progress() {
		return this.#progress;
	}
	#last = $state.raw<ImportSummary | null>(null);
	/** What the last import wrote. */
	get last() {
		return this.#last;
	}
	#busy = $state(false);
	get busy() {
		return this.#busy;
	}

	readonly #context: RecordsContext;
	readonly #cards: KeyCards;

	constructor(context: RecordsContext, cards: KeyCards) {
		this.#context = context;
		this.#cards = cards;
	}

	/** Reads a Bundle file and checks it against what this node holds; shows the preview (or every error). Nothing is written. */
	async planFrom(text: string): Promise<void> {
		this.discard();
		this.#last = null;
		const book = this.#context.book;
		if (!book) return;
		try {
			const { planBundleImport } = await importer();
			const plan = await planBundleImport(book, text);
			this.#plan = plan;
			this.#error = plan.issues.length ? `${plan.issues.length} error(s): nothing will be imported until the Bundle is corrected.` : null;
		} catch (error) {
			this.#error = `The file could not be read: ${describeError(error)}`;
		}
	}

	/** Forgets the checked Bundle, wiping the new patients' keys it made. */
	discard(): void {
		for (const p of this.#plan?.patients ?? []) p.seed?.fill(0);
		this.#plan = null;
		this.#error = null;
	}

	/** Records of the checked Bundle in categories not among `categories`: left with the source system. */
	notGranted(categories: readonly Category[]): number {
		return (this.#plan?.patients ?? []).reduce((n, p) => n + p.records.filter((r) => !categories.includes(r.category)).length, 0);
	}

	/** Imports the checked Bundle, granting this clinic `categories` for every patient in it. */
	async run(categories: readonly Category[]): Promise<boolean> {
		const book = this.#context.book;
		const plan = this.#plan;
		if (!book || !plan || this.#busy || plan.issues.length) return false;
		this.#busy = true;
		const started = performance.now();
		try {
			if (categories.length) this.#progress = { done: 0, total: plan.patients.length, phase: 'sealing' };
			const { importBundle } = await importer();
			const result = await importBundle(book, plan, {
				grantee: this.#context.clinicKey!,
				categories,
				onProgress: async (done, total) => {
					this.#progress = { done, total, phase: done === total ? 'writing' : 'sealing' };
					await new Promise((resolve) => setTimeout(resolve, 0)); // let the progress bar draw
				}
			});
			this.#cards.owed(result.pendingCards);
			const { pendingCards: _, ...summary } = result;
			this.#last = { ...summary, ms: Math.round(performance.now() - started) };
			this.discard();
			await this.#context.refresh();
			return true;
		} catch (error) {
			this.#error =
				error instanceof CodedError && error.code === 'NO_CATEGORIES' ? error.message : `Nothing was imported: ${describeError(error)}`;
			return false;
		} finally {
			this.#progress = null;
			this.#busy = false;
		}
	}
}
