/**
 * A clinician's note: the first transaction type only one role may sign. It shows how
 * every clinical type is guarded: the core refuses the block `NOT_AUTHORIZED` when its
 * author's role (at the block's causal position) is not listed, on every node.
 * The text is stored as given for now; clinical payload encryption comes with the privacy work.
 */
import type { Tx, TxRule } from '$lib/core/index.js';

export const CLINICAL_NOTE_MAX_CHARS = 20_000;

export const clinicalNoteRule: TxRule = {
	type: 'clinical.note',
	roles: ['clinician'],
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'text', 'patient'].includes(key)) return `unexpected field ${key}`;
		if (typeof tx.text !== 'string' || tx.text.trim() === '' || tx.text.length > CLINICAL_NOTE_MAX_CHARS) return `text: expected 1-${CLINICAL_NOTE_MAX_CHARS} characters`;
		if (tx.patient !== undefined && !(tx.patient instanceof Uint8Array && tx.patient.length === 32)) return 'patient: expected a 32-byte patient key';
		return null;
	}
};

/** The transaction for a clinician's note. */
export function clinicalNoteTx(text: string, patient?: Uint8Array): Tx {
	return { t: 'clinical.note', text: text.trim(), ...(patient ? { patient } : {}) };
}
