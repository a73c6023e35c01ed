/**
 * Full re-checks of the stored ledger (encoding, hash, signature, network, chain, clock),
 * automatic on open or asked for, with progress; a second call while one runs joins it.
 */
import { whenIdle } from './background.js';
import { describeError, type Ledger } from '$lib/core/index.js';
import type { LedgerView } from './ledger-view.svelte.js';
import type { Verification } from './node-types.js';

export class LedgerVerification {
	#verification = $state.raw<Verification | null>(null);
	get verification() {
		return this.#verification;
	}

	#running: Promise<void> | null = null;
	readonly #ledger: () => Ledger | null;
	readonly #view: LedgerView;

	constructor(ledger: () => Ledger | null, view: LedgerView) {
		this.#ledger = ledger;
		this.#view = view;
	}

	verifyAll(trigger: Verification['trigger'] = 'manual'): Promise<void> {
		this.#running ??= this.#run(trigger).finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	async #run(trigger: Verification['trigger']): Promise<void> {
		const ledger = this.#ledger();
		if (!ledger) return;
		const previous = this.#verification?.result ?? null;
		this.#verification = { trigger, running: true, checked: 0, total: ledger.size, result: previous, error: null };
		try {
			const { checked, failures } = await ledger.verifyAll((done, total) => {
				this.#verification = { trigger, running: true, checked: done, total, result: previous, error: null };
				// The check every open starts runs in the page's idle time: on a ledger of years it reads and hashes
				// every block for minutes, and what the clinic does meanwhile comes first. Asked for, it runs flat out.
				return trigger === 'open' ? whenIdle() : undefined;
			});
			this.#view.markVerified(failures);
			this.#verification = {
				trigger,
				running: false,
				checked,
				total: checked,
				result: { checked, failures, finishedAt: Date.now() },
				error: null
			};
		} catch (error) {
			const current = this.#verification;
			this.#verification = {
				trigger,
				running: false,
				checked: current?.checked ?? 0,
				total: current?.total ?? 0,
				result: previous,
				error: `Verification stopped: ${describeError(error)}`
			};
		}
	}
}
