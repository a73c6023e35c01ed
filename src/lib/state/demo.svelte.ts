/**
 * The Demo tab's state: one {@link DemoNetwork} of simulated clinics in this page, the
 * guided {@link STEPS} and what each step reported. It never touches this browser's own
 * node: the demo's ledgers live in memory and vanish with the tab or on reset.
 */
import { describeError, type Ledger } from '$lib/core/index.js';
import { ExplorerState } from './explorer.svelte.js';
import type { DemoNetwork, NetworkView } from '$lib/demo/network.js';
import { STEPS, type ScriptMemory, type StepOutcome } from '$lib/demo/script.js';

export type DemoStatus = 'idle' | 'starting' | 'ready' | 'running' | 'done' | 'error';

/** Redraw the network picture at most this often (ms). */
const REDRAW_MS = 100;

export class DemoState {
	#status = $state<DemoStatus>('idle');
	get status() {
		return this.#status;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#view = $state.raw<NetworkView | null>(null);
	get view() {
		return this.#view;
	}
	/** Outcome of each step run so far, in order. */
	#outcomes = $state.raw<StepOutcome[]>([]);
	get outcomes() {
		return this.#outcomes;
	}
	/** Time the network took to start (ms). */
	#startMs = $state<number | null>(null);
	get startMs() {
		return this.#startMs;
	}
	/** Clinics the network started with. */
	#startedWith = $state(0);
	get startedWith() {
		return this.#startedWith;
	}
	/** The script's steps, in order. */
	get steps() {
		return STEPS;
	}

	#demo: DemoNetwork | null = null;
	#memory: ScriptMemory = {};
	#off: (() => void) | null = null;
	#redrawAt = 0;
	#redrawTimer: ReturnType<typeof setTimeout> | null = null;

	/** The next step to run, or null when the script is over. */
	get next() {
		return this.steps[this.#outcomes.length] ?? null;
	}

	async start(nodes = 5): Promise<void> {
		this.reset();
		this.#status = 'starting';
		const started = performance.now();
		try {
			const { DemoNetwork } = await import('$lib/demo/network.js');
			this.#demo = await DemoNetwork.start({ nodes });
			this.#startMs = Math.round(performance.now() - started);
			this.#startedWith = nodes;
			this.#off = this.#demo.onChange(() => this.#redraw());
			await this.#refresh();
			this.#status = 'ready';
		} catch (error) {
			this.#error = describeError(error);
			this.#status = 'error';
		}
	}

	/** Runs the next step of the script. */
	async step(): Promise<void> {
		const step = this.next;
		const demo = this.#demo;
		if (!step || !demo || this.#status !== 'ready') return;
		this.#status = 'running';
		try {
			const outcome = await step.run(demo, this.#memory);
			this.#outcomes = [...this.#outcomes, outcome];
			await this.#refresh();
			this.#status = this.next ? 'ready' : 'done';
		} catch (error) {
			this.#error = `${step.title}: ${describeError(error)}`;
			this.#status = 'error';
		}
	}

	#explorer = new ExplorerState(() => this.ledgerOf(this.#explored));
	#explored = $state('Alder');

	/** The explorer over one clinic's copy ({@link explored}), for the demo's DAG view. */
	get explorer(): ExplorerState {
		return this.#explorer;
	}

	/** The clinic whose copy {@link explorer} shows. */
	get explored(): string {
		return this.#explored;
	}

	/** Chooses the clinic whose copy the explorer shows (the demo screen opens it again). */
	explore(name: string): void {
		this.#explored = name;
	}

	/** The ledger of simulated clinic `name`, for the explorer; null once destroyed or stopped. */
	ledgerOf(name: string): Ledger | null {
		const node = this.#demo?.nodes.get(name);
		return node && node.status !== 'destroyed' ? node.ledger : null;
	}

	/** Stops every simulated node and forgets the demo. */
	reset(): void {
		this.#off?.();
		this.#off = null;
		if (this.#redrawTimer) clearTimeout(this.#redrawTimer);
		this.#redrawTimer = null;
		this.#demo?.stop();
		this.#demo = null;
		this.#memory = {};
		this.#outcomes = [];
		this.#view = null;
		this.#error = null;
		this.#startMs = null;
		this.#status = 'idle';
	}

	#redraw(): void {
		if (this.#redrawTimer) return;
		const wait = Math.max(0, this.#redrawAt + REDRAW_MS - performance.now());
		this.#redrawTimer = setTimeout(() => {
			this.#redrawTimer = null;
			void this.#refresh();
		}, wait);
	}

	async #refresh(): Promise<void> {
		const demo = this.#demo;
		if (!demo) return;
		this.#redrawAt = performance.now();
		const view = await demo.view();
		if (this.#demo === demo) this.#view = view;
		// Flows fade out: redraw once more after they expire.
		if (view.flows.length > 0) this.#redraw();
	}
}
