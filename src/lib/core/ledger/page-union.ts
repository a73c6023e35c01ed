/**
 * Several page sets seen as one (core/fold.ts `PageSet`), each key belonging to exactly one
 * of them: a fold whose pages are of several kinds, each with its own bytes (the claims
 * fold's patients, coverages and authorizations), gives the engine one set to read, store
 * and let go of, and keeps each kind typed apart.
 */
import type { PageSet } from '../fold.js';

export class PageUnion implements PageSet<unknown> {
	readonly #sets: readonly PageSet<unknown>[];
	readonly #of: (key: string) => PageSet<unknown>;

	/** `of`: the set a key belongs to, one of `sets`. */
	constructor(sets: readonly PageSet<unknown>[], of: (key: string) => PageSet<unknown>) {
		this.#sets = sets;
		this.#of = of;
	}

	/** `keys` grouped by the set they belong to. */
	#split(keys: Iterable<string>): Map<PageSet<unknown>, string[]> {
		const out = new Map<PageSet<unknown>, string[]>();
		for (const key of keys) {
			const set = this.#of(key);
			const list = out.get(set);
			if (list) list.push(key);
			else out.set(set, [key]);
		}
		return out;
	}

	unread(keys: Iterable<string>): string[] {
		return [...this.#split(keys)].flatMap(([set, some]) => set.unread(some));
	}

	put(key: string, bytes: Uint8Array | null): void {
		this.#of(key).put(key, bytes);
	}

	peek(key: string): unknown {
		return this.#of(key).peek(key);
	}

	unpack(bytes: Uint8Array, key: string): unknown {
		return this.#of(key).unpack(bytes, key);
	}

	keys(): string[] {
		return this.#sets.flatMap((set) => set.keys());
	}

	markChanged(keys: Iterable<string>): void {
		for (const [set, some] of this.#split(keys)) set.markChanged(some);
	}

	changed(): [string, Uint8Array | null][] {
		return this.#sets.flatMap((set) => set.changed());
	}

	stored(keys: readonly string[]): void {
		for (const [set, some] of this.#split(keys)) set.stored(some);
	}

	retain(keys: ReadonlySet<string>): void {
		for (const set of this.#sets) set.retain(keys);
	}
}
