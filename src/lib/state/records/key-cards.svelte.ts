/**
 * Patients' key cards: the card shown after a registration or a print (until it is
 * handed over), and the cards owed to imported patients, whose keys this node keeps
 * until then (domain/records/pending-cards.ts).
 */
import { describeError } from '$lib/core/index.js';
import { CardRefusal, pendingCards, printPendingCard } from '$lib/domain/records/pending-cards.js';
import type { RecordsContext } from './context.js';

export interface MadeCard {
	readonly patient: string;
	readonly name: string;
	readonly code: string;
}

export class KeyCards {
	#last = $state.raw<MadeCard | null>(null);
	/** The card to print or hand over now. */
	get last() {
		return this.#last;
	}
	/** Patients whose key is kept for this node until their card is printed (imported patients). */
	#pending = $state.raw<string[]>([]);
	get pending() {
		return this.#pending;
	}
	#busy = $state(false);
	get busy() {
		return this.#busy;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}

	readonly #context: RecordsContext;
	readonly #nameOf: (patient: string) => string | null;

	constructor(context: RecordsContext, nameOf: (patient: string) => string | null) {
		this.#context = context;
		this.#nameOf = nameOf;
	}

	async load(): Promise<void> {
		const ledger = this.#context.ledger;
		this.#pending = ledger ? await pendingCards(ledger) : [];
	}

	/** Shows a card just made. */
	show(card: MadeCard): void {
		this.#last = card;
	}

	/** Sets the patients waiting for a card (after an import). */
	owed(patients: string[]): void {
		this.#pending = patients;
	}

	/** Closes the card shown (it was printed or handed over). */
	dismiss(): void {
		this.#last = null;
	}

	clearError(): void {
		this.#error = null;
	}

	/** Makes the key card of an imported patient (present now, choosing a PIN) and forgets the kept key. */
	async print(patient: string, pin: string, pinAgain: string): Promise<boolean> {
		const book = this.#context.book;
		this.#error = null;
		if (!book || this.#busy) return false;
		this.#busy = true;
		try {
			const { code, pendingCards } = await printPendingCard(book, patient, pin, pinAgain);
			this.#pending = pendingCards;
			this.#last = { patient, name: this.#nameOf(patient) ?? 'patient', code };
			return true;
		} catch (error) {
			this.#error = error instanceof CardRefusal ? error.message : `No card was made: ${describeError(error)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}
}
