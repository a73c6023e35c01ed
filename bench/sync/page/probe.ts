/**
 * Where a sync spends its time, measured from outside the core: the store, the verifier
 * and `ledger.receive` are wrapped so each reports its busy wall time (time with at least
 * one call in flight: concurrent verifications are not double counted), and a sampler
 * records the page's JS heap.
 */
import type { Ledger, LedgerStore, Verifier, WorkerVerifier } from '../../../src/lib/core/index.js';

/** Busy wall time of one group of calls. */
export class Busy {
	calls = 0;
	busyMs = 0;
	#inFlight = 0;
	#since = 0;

	/** Times `work`, counting overlapping calls once. */
	track<T>(work: () => Promise<T>): Promise<T> {
		this.calls++;
		if (this.#inFlight++ === 0) this.#since = performance.now();
		return work().finally(() => {
			if (--this.#inFlight === 0) this.busyMs += performance.now() - this.#since;
		});
	}

	reset(): void {
		this.calls = 0;
		this.busyMs = 0;
	}

	report() {
		return { calls: this.calls, busyMs: this.busyMs };
	}
}

/** `store` with each method's calls timed (promise-returning methods only). */
export function timedStore(store: LedgerStore): { store: LedgerStore; methods: Map<string, Busy>; all: Busy } {
	const methods = new Map<string, Busy>();
	const all = new Busy();
	const proxy = new Proxy(store, {
		get(target, property, receiver) {
			const value = Reflect.get(target, property, receiver);
			if (typeof value !== 'function') return value;
			return (...args: unknown[]) => {
				const result = value.apply(target, args);
				if (!(result instanceof Promise)) return result;
				const key = String(property);
				let busy = methods.get(key);
				if (!busy) methods.set(key, (busy = new Busy()));
				return all.track(() => busy.track(() => result));
			};
		}
	});
	return { store: proxy, methods, all };
}

/** `verifier` with its verifications timed. */
export function timedVerifier(verifier: Verifier): { verifier: Verifier; busy: Busy } {
	const busy = new Busy();
	// The pool's worker count stays visible (Ledger.verifierWorkers), so the report names the verifier the ledger used.
	const timed = {
		name: verifier.name,
		verify: (s: Uint8Array, m: Uint8Array, k: Uint8Array) => busy.track(() => verifier.verify(s, m, k))
	};
	const pool = verifier as Partial<WorkerVerifier>;
	if (typeof pool.workers === 'number')
		Object.defineProperties(timed, { workers: { get: () => pool.workers }, failedWorkers: { get: () => pool.failedWorkers } });
	return { verifier: timed, busy };
}

/** Wraps `ledger.receive` on this instance (the core is not changed), timing every call. */
export function timeReceive(ledger: Ledger): { busy: Busy; firstAt: () => number | null; lastAt: () => number | null } {
	const busy = new Busy();
	const original = ledger.receive.bind(ledger);
	let first: number | null = null;
	let last: number | null = null;
	ledger.receive = (input, from) => {
		if (from !== undefined && first === null) first = performance.now();
		return busy
			.track(() => original(input, from))
			.finally(() => {
				last = performance.now();
			});
	};
	return { busy, firstAt: () => first, lastAt: () => last };
}

type MemoryInfo = { usedJSHeapSize: number; totalJSHeapSize: number };
const memory = (): MemoryInfo | undefined => (performance as unknown as { memory?: MemoryInfo }).memory;

/** Samples `performance.memory.usedJSHeapSize` every `everyMs` (precise with --enable-precise-memory-info). */
export class HeapSampler {
	readonly samples: number[] = [];
	#timer: ReturnType<typeof setInterval> | undefined;

	start(everyMs = 100): void {
		this.sample();
		this.#timer = setInterval(() => this.sample(), everyMs);
	}

	sample(): void {
		const m = memory();
		if (m) this.samples.push(m.usedJSHeapSize);
	}

	stop() {
		clearInterval(this.#timer);
		this.sample();
		const mb = (b: number) => b / (1024 * 1024);
		return {
			available: this.samples.length > 0,
			count: this.samples.length,
			startMb: mb(this.samples[0] ?? 0),
			peakMb: mb(Math.max(0, ...this.samples)),
			endMb: mb(this.samples[this.samples.length - 1] ?? 0)
		};
	}
}

/** Milliseconds since the epoch on this machine's clock, at sub-ms resolution. */
export const epochNow = (): number => performance.timeOrigin + performance.now();
