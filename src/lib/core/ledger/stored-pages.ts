/**
 * A fold state's pages by key (core/fold.ts `PageSet`): those in memory, decoded or as
 * bytes, and those stored as rows of the ledger's store and not read (fold-pages.ts). The
 * fold engine reads the pages a batch names before folding it, writes those changed since
 * the last checkpoint beside each checkpoint, and lets the others go; a fold over blocks in
 * memory alone (tests) keeps every page. A page the fold asks for that is stored and not read
 * throws `PAGE_NOT_READ`: a page is never taken as absent because it was not read.
 */
import { CodedError } from '../errors.js';
import type { PageSet } from '../fold.js';

/** A page set in a checkpoint ({@link StoredPages.checkpointForm}). */
export interface PagesCheckpointForm {
	pageKeys: string[];
	inlineKeys: string[];
	pages: Uint8Array[];
}

/** How a page becomes bytes and back. */
export interface PageBytes<P> {
	pack(page: P): Uint8Array;
	unpack(bytes: Uint8Array): P;
}

export class StoredPages<P> implements PageSet<P> {
	readonly #decoded = new Map<string, P>();
	readonly #packed = new Map<string, Uint8Array>();
	/** Stored as rows, not in memory. */
	readonly #stored = new Set<string>();
	/** Changed since the last checkpoint: decoded, as bytes, or removed (in none of the maps). */
	readonly #changed = new Set<string>();
	readonly #bytes: PageBytes<P>;
	/** Says which page a key is, in an error. */
	readonly #name: (key: string) => string;

	constructor(bytes: PageBytes<P>, name: (key: string) => string = (key) => key) {
		this.#bytes = bytes;
		this.#name = name;
	}

	/** Adds pages: `inline` ones in memory as bytes, changed (no row holds them yet), the `stored` ones left in the store. */
	add(stored: Iterable<string>, inline: Iterable<readonly [string, Uint8Array]>): void {
		for (const key of stored) this.#stored.add(key);
		for (const [key, bytes] of inline) {
			this.#stored.delete(key);
			this.#packed.set(key, bytes);
			this.#changed.add(key);
		}
	}

	/** The page of `key` for the fold to change, made by `make` when there is none. */
	page(key: string, make: () => P): P {
		return this.find(key) ?? this.#use(key, make());
	}

	/** The page of `key` for the fold to change, if there is one. */
	find(key: string): P | undefined {
		const page = this.#decoded.get(key);
		if (page !== undefined) return this.#use(key, page);
		const bytes = this.#packed.get(key);
		if (bytes) {
			this.#packed.delete(key);
			return this.#use(key, this.#bytes.unpack(bytes));
		}
		if (this.#stored.has(key)) throw this.#notRead(key);
		return undefined;
	}

	/** The page of `key` for a reader: the decoded page when the fold holds one, else a copy of its own (the fold's state stays as it was). */
	view(key: string): P | undefined {
		const page = this.peek(key);
		if (page === null) throw this.#notRead(key);
		return page;
	}

	/** Removes the page of `key` (its blocks are then applied again). */
	delete(key: string): void {
		this.#decoded.delete(key);
		this.#packed.delete(key);
		this.#stored.delete(key);
		this.#changed.add(key);
	}

	#use(key: string, page: P): P {
		this.#decoded.set(key, page);
		this.#changed.add(key);
		return page;
	}

	#notRead(key: string): CodedError {
		return new CodedError('PAGE_NOT_READ', `the page ${this.#name(key)} is stored and was not read before it was used`);
	}

	/**
	 * The pages no row holds yet (changed since the last checkpoint), as bytes: what a
	 * checkpoint keeps in its own state. Under a ledger the engine stores them as rows first
	 * (none is left); a fold over blocks in memory alone keeps every page so.
	 */
	inline(): [string, Uint8Array][] {
		return this.changed().flatMap(([key, bytes]): [string, Uint8Array][] => (bytes ? [[key, bytes]] : []));
	}

	/**
	 * The set in a checkpoint: every key with a page, and the pages no row holds yet with
	 * their bytes ({@link inline}), each by key in order. {@link addCheckpointForm} reads it back.
	 */
	checkpointForm(): PagesCheckpointForm {
		const inline = this.inline().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
		return { pageKeys: this.keys().sort(), inlineKeys: inline.map(([key]) => key), pages: inline.map(([, bytes]) => bytes) };
	}

	/** Adds the pages of a checkpoint's form ({@link checkpointForm}): the inline ones in memory, changed; the others left in the store. */
	addCheckpointForm(form: PagesCheckpointForm): void {
		const inline = new Set(form.inlineKeys);
		this.add(
			form.pageKeys.filter((key) => !inline.has(key)),
			form.inlineKeys.map((key, i): [string, Uint8Array] => [key, form.pages[i]!])
		);
	}

	/** Every page, for a reader: of a set that holds them all (a fold over blocks in memory); one stored and not read throws `PAGE_NOT_READ`. */
	all(): P[] {
		return this.keys().map((key) => this.view(key)!);
	}

	/** The keys whose page a row holds (read into memory or not). */
	storedKeys(): string[] {
		return this.keys().filter((key) => !this.#changed.has(key));
	}

	/** Pages decoded, in memory as bytes, and stored and not read. */
	get counts(): { decoded: number; packed: number; stored: number } {
		return { decoded: this.#decoded.size, packed: this.#packed.size, stored: this.#stored.size };
	}

	unread(keys: Iterable<string>): string[] {
		return [...keys].filter((key) => this.#stored.has(key));
	}

	put(key: string, bytes: Uint8Array | null): void {
		this.#stored.delete(key);
		if (bytes) this.#packed.set(key, bytes);
	}

	peek(key: string): P | undefined | null {
		const page = this.#decoded.get(key);
		if (page !== undefined) return page;
		const bytes = this.#packed.get(key);
		if (bytes) return this.#bytes.unpack(bytes);
		return this.#stored.has(key) ? null : undefined;
	}

	unpack(bytes: Uint8Array, _key?: string): P {
		return this.#bytes.unpack(bytes);
	}

	keys(): string[] {
		return [...this.#decoded.keys(), ...this.#packed.keys(), ...this.#stored];
	}

	markChanged(keys: Iterable<string>): void {
		for (const key of keys) {
			if (this.#stored.has(key)) throw this.#notRead(key);
			this.#changed.add(key);
		}
	}

	changed(): [string, Uint8Array | null][] {
		return [...this.#changed].map((key): [string, Uint8Array | null] => {
			const page = this.#decoded.get(key);
			return [key, page !== undefined ? this.#bytes.pack(page) : (this.#packed.get(key) ?? null)];
		});
	}

	stored(keys: readonly string[]): void {
		for (const key of keys) this.#changed.delete(key);
	}

	retain(keys: ReadonlySet<string>): void {
		for (const map of [this.#decoded, this.#packed])
			for (const key of map.keys())
				if (!this.#changed.has(key) && !keys.has(key)) {
					map.delete(key);
					this.#stored.add(key);
				}
	}
}
