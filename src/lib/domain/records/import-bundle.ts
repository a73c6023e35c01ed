/**
 * Importing a FHIR Bundle from another system: read and check it against what this node
 * holds (nothing written), then write it with a grant from each patient to the clinic.
 * Each new patient's key is kept for this node, wrapped under its own key, until the
 * patient's card is printed (pending-cards.ts).
 *
 * Code-split: this file carries the R4 definitions (through bundle.ts); the app loads it
 * when a Bundle is opened, not with the app.
 */
import { CodedError } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';
import type { RecordBook } from './book.js';
import { planImport, runImport, type ImportPlan } from './bundle.js';
import type { DirectoryState } from './directory.js';
import { knownRecords } from './known.js';
import { keepPendingCards } from './pending-cards.js';

/** Reads a Bundle's text and checks it against the records and directory this node holds. Nothing is written. */
export async function planBundleImport(book: RecordBook, text: string, now = Date.now()): Promise<ImportPlan> {
	const known = await knownRecords(book, book.ledger.state().directory as DirectoryState | undefined, now);
	return planImport(text, { known });
}

export interface Imported {
	readonly patients: number;
	readonly records: number;
	readonly directory: number;
	readonly unchanged: number;
	readonly blocks: number;
	/** Patients whose key this node now keeps until their card is printed. */
	readonly pendingCards: string[];
}

/**
 * Writes a checked plan, every patient granting `grantee` the `categories`, then keeps
 * each new patient's key for this node. Throws `BUNDLE_INVALID` for a plan with issues,
 * `NO_CATEGORIES` when no category is granted, or the ledger's refusal.
 */
export async function importBundle(
	book: RecordBook,
	plan: ImportPlan,
	options: {
		grantee: string;
		categories: readonly Category[];
		now?: number;
		onProgress?: (done: number, total: number) => void | Promise<void>;
	}
): Promise<Imported> {
	if (options.categories.length === 0) throw new CodedError('NO_CATEGORIES', 'Choose what the patients let this clinic read.');
	const result = await runImport(book, plan, options);
	const pendingCards = await keepPendingCards(
		book,
		plan.patients.flatMap((p) => (p.seed ? [{ patient: p.patient, seed: p.seed }] : []))
	);
	return {
		patients: result.patients.length,
		records: result.records,
		directory: result.directory,
		unchanged: plan.unchanged,
		blocks: result.blocks,
		pendingCards
	};
}
