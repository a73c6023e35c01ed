/**
 * `clinical.note`: a legacy transaction type, kept only as a rule. It was the first
 * clinician-only type; the app no longer writes it (clinical data goes into encrypted
 * records, records/), and the free-text `note` any member writes is note.ts. The rule
 * stays registered (rule-registry.ts) so blocks of this type already on a ledger still
 * validate. Only tests write new ones (tests/unit/support/clinical-note.ts): the
 * membership tests use it to show the core refusing a block `NOT_AUTHORIZED` when its
 * author's role at the block's causal position is not listed.
 */
import type { TxRule } from '$lib/core/index.js';

export const CLINICAL_NOTE_MAX_CHARS = 20_000;

export const clinicalNoteRule: TxRule = {
	type: 'clinical.note',
	roles: ['clinician'],
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'text', 'patient'].includes(key)) return `unexpected field ${key}`;
		if (typeof tx.text !== 'string' || tx.text.trim() === '' || tx.text.length > CLINICAL_NOTE_MAX_CHARS)
			return `text: expected 1-${CLINICAL_NOTE_MAX_CHARS} characters`;
		if (tx.patient !== undefined && !(tx.patient instanceof Uint8Array && tx.patient.length === 32))
			return 'patient: expected a 32-byte patient key';
		return null;
	}
};
