/**
 * Which patients' key shares to look at again (book.ts `shareKeys`): those named by the
 * blocks accepted since the last look. A share is owed when a reader appears (a grant, an
 * emergency access, a device of a granted clinic) or a key does (a wrap); the first follow
 * from transactions naming the patient, the last from membership, which can make a new
 * device of a granted clinic a reader of any patient. Reading every patient's keys after
 * every block would read the whole key index each time (issue 19): this reads the
 * patients a change concerns, and every patient only at the start and after a membership
 * change.
 */
import { decodeCanonical, toHex, type Block, type CborValue, type Tx } from '$lib/core/index.js';

/** The patient a transaction names, if it names one (a grant names it inside its signed body). */
function patientOf(tx: Tx): string | null {
	if (tx.patient instanceof Uint8Array && tx.patient.length === 32) return toHex(tx.patient);
	if (tx.t === 'consent.grant' && tx.grant instanceof Uint8Array) {
		try {
			const patient = (decodeCanonical(tx.grant) as Record<string, CborValue>).patient;
			return typeof patient === 'string' && /^[0-9a-f]{64}$/.test(patient) ? patient : null;
		} catch {
			return null; // refused by the grant rule: it is not on the ledger
		}
	}
	return null;
}

export class OwedShares {
	/** Patients to look at, or every patient. */
	#pending: Set<string> | 'all' = 'all';

	/** Notes what `blocks` may have made owed. */
	mark(blocks: readonly Block[]): void {
		if (this.#pending === 'all') return;
		for (const block of blocks)
			for (const tx of block.txs) {
				if (tx.t.startsWith('member.')) {
					this.#pending = 'all';
					return;
				}
				const patient = patientOf(tx);
				if (patient) this.#pending.add(patient);
			}
	}

	/** The patients to look at now (undefined: every patient), forgotten until {@link giveBack}. */
	take(): string[] | undefined {
		const taken = this.#pending;
		this.#pending = new Set();
		return taken === 'all' ? undefined : [...taken];
	}

	/** A look that failed: its patients are looked at next time. */
	giveBack(taken: string[] | undefined): void {
		if (taken === undefined) this.#pending = 'all';
		else if (this.#pending !== 'all') for (const p of taken) this.#pending.add(p);
	}

	/** Whether there is anything to look at. */
	get any(): boolean {
		return this.#pending === 'all' || this.#pending.size > 0;
	}
}
