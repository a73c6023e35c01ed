/**
 * A ledger store with every call timed from the ledger's side, to split a ledger operation
 * into store time and the rest without touching the core ("store busy" in the report).
 */
import type { LedgerStore } from '../../src/lib/core/index.js';

/** Calls to one store method: how many, and the wall time during which at least one was in flight. */
export interface MethodStats {
	calls: number;
	busyMs: number;
	lastMs: number;
}

/**
 * `store` with every call timed from the ledger's side, to split a ledger operation into
 * store time and the rest without touching the core.
 */
export function timed(store: LedgerStore): { store: LedgerStore; stats: Map<string, MethodStats>; busy: () => number } {
	const stats = new Map<string, MethodStats & { inFlight: number; since: number }>();
	let inFlight = 0;
	let since = 0;
	let busyTotal = 0;
	const proxy = new Proxy(store, {
		get(target, property, receiver) {
			const value = Reflect.get(target, property, receiver);
			if (typeof value !== 'function') return value;
			return (...args: unknown[]) => {
				const key = String(property);
				const s = stats.get(key) ?? { calls: 0, busyMs: 0, lastMs: 0, inFlight: 0, since: 0 };
				stats.set(key, s);
				const start = performance.now();
				if (s.inFlight++ === 0) s.since = start;
				if (inFlight++ === 0) since = start;
				s.calls++;
				const done = () => {
					const end = performance.now();
					s.lastMs = end - start;
					if (--s.inFlight === 0) s.busyMs += end - s.since;
					if (--inFlight === 0) busyTotal += end - since;
				};
				const result = value.apply(target, args);
				if (result instanceof Promise) return result.finally(done);
				done();
				return result;
			};
		}
	});
	return { store: proxy, stats, busy: () => busyTotal };
}

/** Store time per method since `before` (a copy of earlier stats), for the report. */
export function storeReport(stats: Map<string, MethodStats>, before = new Map<string, MethodStats>()) {
	return Object.fromEntries(
		[...stats].map(([key, s]) => [
			key,
			{ calls: s.calls - (before.get(key)?.calls ?? 0), busyMs: s.busyMs - (before.get(key)?.busyMs ?? 0) }
		])
	);
}

export const snapshot = (stats: Map<string, MethodStats>) => new Map([...stats].map(([k, s]) => [k, { ...s }]));
