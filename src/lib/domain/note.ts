/**
 * Free-text entries ("note" transactions): what a clinic writes before structured records
 * exist. The limits mirror the core's `note` rule, checked here first so the person
 * typing gets a message they can act on instead of a refused block. (`clinical.note` is
 * another, legacy type: legacy-clinical-note-rule.ts.)
 */
import type { Tx } from '$lib/core/index.js';

/** Longest entry, in UTF-16 code units (what the core rule counts). */
export const NOTE_MAX_CHARS = 10_000;

/** What is wrong with `text` as an entry, or null when it can be written. */
export function noteProblem(text: string): string | null {
	const trimmed = text.trim();
	if (trimmed.length === 0) return 'The entry is empty: write something before adding it.';
	if (trimmed.length > NOTE_MAX_CHARS) {
		return `The entry is ${trimmed.length.toLocaleString('en')} characters long; the limit is ${NOTE_MAX_CHARS.toLocaleString('en')}. Shorten it or split it into several entries.`;
	}
	return null;
}

/** The transaction for an entry; surrounding whitespace is not kept. Check {@link noteProblem} first. */
export function noteTx(text: string): Tx {
	return { t: 'note', text: text.trim() };
}
