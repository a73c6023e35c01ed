/** A `clinical.note` transaction (src/lib/domain/legacy-clinical-note-rule.ts): only tests write the type now. */
import type { Tx } from '../../../src/lib/core/index.js';

export function clinicalNoteTx(text: string, patient?: Uint8Array): Tx {
	return { t: 'clinical.note', text: text.trim(), ...(patient ? { patient } : {}) };
}
