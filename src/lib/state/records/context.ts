/** What the records managers share: the open ledger's record book, and a re-read of everything after a write. */
import type { Ledger } from '$lib/core/index.js';
import type { RecordBook } from '$lib/domain/records/book.js';

export interface RecordsContext {
	/** The record book of the open ledger with this node's keyring; null while no ledger is open. */
	readonly book: RecordBook | null;
	readonly ledger: Ledger | null;
	/** The clinic member key grants go to: this device's clinic, or this node itself. */
	readonly clinicKey: string | null;
	/** Re-reads the registry, the open chart and the patient's view. */
	refresh(): Promise<void>;
}

/** A form's refusal: the fields at fault, each with what is wrong. */
export interface FieldIssue {
	readonly path: string;
	readonly message: string;
}
