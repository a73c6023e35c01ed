/**
 * The claims pages of the patients whose claims or statements a screen draws (Billing's
 * rows, a statement), read from the ledger (memory or the store: core/ledger/fold-pages.ts)
 * when first drawn and again with each pass over every claim, at most {@link SHOWN_PAGES}.
 * What is drawn from a page not yet read waits for it: the row appears once it is.
 */
import type { Ledger } from '$lib/core/index.js';
import { readPatientPages, type ClaimsState, type PatientPage } from '$lib/domain/contracts/index.js';

/** Pages kept read for the screen (the newest claims' read with the lists, half of them). */
export const SHOWN_PAGES = 200;

export class ShownPages {
	/** By patient (null: no page). */
	#shown = $state.raw(new Map<string, PatientPage | null>());
	/** Patients drawn whose pages are not read yet, and whether a read of them is under way. */
	readonly #wanted = new Set<string>();
	#fetching = false;
	readonly #ledger: () => Ledger | null;
	readonly #state: () => ClaimsState | null;
	readonly #failed: (error: unknown) => void;

	constructor(ledger: () => Ledger | null, state: () => ClaimsState | null, failed: (error: unknown) => void) {
		this.#ledger = ledger;
		this.#state = state;
		this.#failed = failed;
	}

	/** The page of `patient` as last read (null: none), or undefined while it is read (asked for now, from a derived value too). */
	page(patient: string): PatientPage | null | undefined {
		const shown = this.#shown;
		if (shown.has(patient)) return shown.get(patient);
		this.#wanted.add(patient);
		// Not in the same task: a read from inside a derived value must not write state.
		if (!this.#fetching) queueMicrotask(() => void this.#fetch());
		this.#fetching = true;
		return undefined;
	}

	/** The patients whose pages are kept. */
	patients(): string[] {
		return [...this.#shown.keys()];
	}

	/** Reads the pages of the patients drawn and not read yet. */
	async #fetch(): Promise<void> {
		try {
			while (this.#wanted.size > 0) {
				const patients = [...this.#wanted];
				this.#wanted.clear();
				this.keep(await this.read(patients));
			}
		} catch (error) {
			this.#failed(error);
		} finally {
			this.#fetching = false;
		}
	}

	/** The pages of `patients` (hex), null for those without one. */
	async read(patients: readonly string[]): Promise<Map<string, PatientPage | null>> {
		const state = this.#state();
		const ledger = this.#ledger();
		const out = new Map<string, PatientPage | null>(patients.map((p) => [p, null]));
		if (!state || !ledger) return out;
		for (const [patient, page] of await readPatientPages(ledger, state, patients)) out.set(patient, page);
		return out;
	}

	/** Keeps `pages` (all those kept, with `replace`); over {@link SHOWN_PAGES}, the longest kept go first. */
	keep(pages: Map<string, PatientPage | null>, replace = false): void {
		const next = new Map(replace ? [] : this.#shown);
		for (const [patient, page] of pages) {
			next.delete(patient);
			next.set(patient, page);
		}
		while (next.size > SHOWN_PAGES) next.delete(next.keys().next().value!);
		this.#shown = next;
	}
}
