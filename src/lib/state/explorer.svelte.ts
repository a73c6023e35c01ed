/**
 * The ledger explorer's state: a window onto the block DAG, never the whole ledger.
 *
 * Layout: one horizontal lane per author (its hash-linked chain), x = Lamport clock. The
 * clock is also the store's order key, so the blocks of any x range are one indexed
 * range read (`store.ordered([c0 - 1, ∞], n)`) whatever the ledger's size: scrolling to
 * any place costs the same, and only the visible clocks (plus a margin) are in memory,
 * at most {@link MAX_WINDOW_BLOCKS}. Zooming out is bounded so a window stays under that.
 * Searches stream through the store a page at a time and keep only their hits.
 */
import {
	decodeBlock,
	fromHex,
	hashBody,
	toHex,
	type AuthorId,
	type BlockId,
	type Ledger,
	type OrderKey,
	type StoredBlock,
	type Tx
} from '$lib/core/index.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';

/** Most blocks held for drawing at once. */
export const MAX_WINDOW_BLOCKS = 20_000;
/** Blocks per store read. */
const PAGE = 1000;
/** Most hits a search keeps. */
const MAX_HITS = 50;
/** Sorts after every hex id: `[clock, ID_MAX]` is the last position of a clock. */
const ID_MAX = 'g' as BlockId;
/** Zoom limits, in pixels per clock tick. */
export const MIN_COL = 0.5;
export const MAX_COL = 64;

/** What the canvas needs of a block; the wire bytes are not kept. */
export interface ExplorerBlock {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	readonly prev: BlockId | null;
	readonly deps: readonly BlockId[];
	readonly types: readonly string[];
}

export interface Lane {
	readonly author: AuthorId;
	readonly name: string | null;
	/** Highest seq held. */
	readonly seq: number;
	readonly index: number;
}

export interface TxView {
	readonly type: string;
	readonly text: string;
	/** Every field, bytes shown as their size and first bytes. */
	readonly fields: readonly [string, string][];
}

/** One block, decoded and re-verified when it was selected. */
export interface BlockDetail {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly authorName: string | null;
	readonly seq: number;
	readonly clock: number;
	readonly time: number;
	readonly net: BlockId | null;
	readonly prev: BlockId | null;
	readonly deps: readonly BlockId[];
	readonly size: number;
	readonly signature: string;
	/** sha256 of the body equals the id. */
	readonly hashOk: boolean;
	/** The author's ed25519 signature over the id verifies. */
	readonly signatureOk: boolean;
	readonly verifyMs: number;
	readonly txs: readonly TxView[];
}

export interface SearchHit {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	readonly label: string;
}

export interface SearchState {
	readonly query: string;
	readonly kind: 'id' | 'id-prefix' | 'author' | 'type' | 'none';
	readonly hits: readonly SearchHit[];
	readonly scanned: number;
	readonly done: boolean;
	readonly note: string | null;
}

function fieldText(value: unknown): string {
	if (value instanceof Uint8Array) return `${value.length} bytes: ${toHex(value.subarray(0, 16))}${value.length > 16 ? '…' : ''}`;
	if (Array.isArray(value)) return `[${value.map(fieldText).join(', ')}]`;
	if (value !== null && typeof value === 'object')
		return `{${Object.entries(value)
			.map(([k, v]) => `${k}: ${fieldText(v)}`)
			.join(', ')}}`;
	return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function txView(tx: Tx): TxView {
	const { type, text } = summarizeTx(tx);
	return {
		type,
		text,
		fields: Object.entries(tx)
			.filter(([k]) => k !== 't')
			.map(([k, v]) => [k, fieldText(v)] as [string, string])
	};
}

function toExplorerBlock(stored: StoredBlock): ExplorerBlock {
	const block = decodeBlock(stored.bytes);
	return {
		id: block.id,
		author: block.author,
		seq: block.seq,
		clock: block.clock,
		prev: block.prev,
		deps: block.deps,
		types: [...new Set(block.txs.map((t) => t.t))]
	};
}

const HEX = /^[0-9a-f]+$/;

export class ExplorerState {
	#lanes = $state.raw<Lane[]>([]);
	get lanes() {
		return this.#lanes;
	}
	#total = $state(0);
	get total() {
		return this.#total;
	}
	#maxClock = $state(0);
	get maxClock() {
		return this.#maxClock;
	}
	/** Clock at the left edge of the view (fractional while panning). */
	#startClock = $state(0);
	get startClock() {
		return this.#startClock;
	}
	/** Zoom: pixels per clock tick. */
	#colWidth = $state(14);
	get colWidth() {
		return this.#colWidth;
	}
	/** Drawing width in pixels (set by the canvas). */
	#width = $state(800);
	get width() {
		return this.#width;
	}
	/** Blocks held for drawing: those of the loaded clock range. */
	#blocks = $state.raw<ExplorerBlock[]>([]);
	get blocks() {
		return this.#blocks;
	}
	/** Clock range [from, to] the held blocks cover. */
	#loadedRange = $state.raw<[number, number]>([0, -1]);
	get loadedRange() {
		return this.#loadedRange;
	}
	/** The loaded range held more blocks than {@link MAX_WINDOW_BLOCKS}: the rest is not drawn. */
	#truncated = $state(false);
	get truncated() {
		return this.#truncated;
	}
	/** Blocks read from the store since opening, in total (shows nothing is read twice needlessly). */
	#fetched = $state(0);
	get fetched() {
		return this.#fetched;
	}
	/** Most blocks held at once since opening. */
	#peakHeld = $state(0);
	get peakHeld() {
		return this.#peakHeld;
	}
	/** ms from {@link open} to the first window of blocks being ready to draw. */
	#openMs = $state<number | null>(null);
	get openMs() {
		return this.#openMs;
	}
	/** ms from {@link open} to the first frame drawn with blocks (set by the canvas). */
	#firstPaintMs = $state<number | null>(null);
	get firstPaintMs() {
		return this.#firstPaintMs;
	}
	#loading = $state(false);
	get loading() {
		return this.#loading;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#selected = $state.raw<BlockDetail | null>(null);
	get selected() {
		return this.#selected;
	}
	#selecting = $state(false);
	get selecting() {
		return this.#selecting;
	}
	#search = $state.raw<SearchState | null>(null);
	get search() {
		return this.#search;
	}
	/** The view follows new blocks while its right edge is at the newest clock. */
	#follow = $state(true);
	get follow() {
		return this.#follow;
	}

	#ledger: () => Ledger | null;
	#opened: Ledger | null = null;
	#openedAt = 0;
	#generation = 0;
	#searchGeneration = 0;
	#off: (() => void) | null = null;
	#refreshTimer: ReturnType<typeof setTimeout> | null = null;
	#founder: { net: BlockId; author: AuthorId | null } | null = null;
	#reading: { from: number; to: number; generation: number; done: Promise<void> } | null = null;

	constructor(ledger: () => Ledger | null) {
		this.#ledger = ledger;
	}

	/** Clock ticks visible at the current zoom. */
	get visibleClocks(): number {
		return this.#width / this.#colWidth;
	}

	/** Opens (or re-reads) the ledger's shape and shows its newest blocks. */
	async open(): Promise<void> {
		const ledger = this.#ledger();
		if (!ledger) return;
		let founder: Promise<void> | undefined;
		let firstLook = false;
		if (this.#opened !== ledger) {
			this.#off?.();
			this.#opened = ledger;
			this.#openedAt = performance.now();
			this.#openMs = null;
			this.#firstPaintMs = null;
			this.#off = ledger.on('accepted', () => this.#scheduleRefresh());
			// The founder's lane goes first; looked up alongside the first window, not before it.
			if (this.#founder?.net !== ledger.net) {
				firstLook = true;
				founder = ledger.store.get(ledger.net).then((genesis) => {
					this.#founder = { net: ledger.net, author: genesis?.author ?? null };
					if (this.#opened === ledger) this.#readShape(ledger);
				});
			}
		}
		this.#readShape(ledger);
		// A small ledger is spread over the width rather than bunched at the left.
		if (firstLook && (this.#maxClock + 2) * this.#colWidth < this.#width)
			this.#colWidth = Math.min(MAX_COL, this.#width / (this.#maxClock + 2));
		this.#startClock = Math.max(0, this.#maxClock + 1 - this.visibleClocks);
		await Promise.all([this.ensureLoaded(), founder]);
		this.#openMs ??= Math.round(performance.now() - this.#openedAt);
	}

	/** Called by the canvas once it has drawn a frame with blocks. */
	painted(): void {
		if (this.#firstPaintMs === null && this.#blocks.length > 0) this.#firstPaintMs = Math.round(performance.now() - this.#openedAt);
	}

	close(): void {
		this.#off?.();
		this.#off = null;
		this.#opened = null;
		if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
		this.#refreshTimer = null;
		this.#generation++;
		this.#searchGeneration++;
		this.#reading = null;
		this.#blocks = [];
		this.#loadedRange = [0, -1];
	}

	#readShape(ledger: Ledger): void {
		const names = (ledger.state()['member-names'] ?? {}) as Record<string, string>;
		const heads = ledger.heads();
		// Lanes in a stable order: the founder first, then by key.
		const founder = this.#founder?.net === ledger.net ? this.#founder.author : null;
		const sorted = [...heads].sort((a, b) => Number(b.author === founder) - Number(a.author === founder) || (a.author < b.author ? -1 : 1));
		this.#lanes = sorted.map((h, index) => ({ author: h.author, name: names[h.author] ?? null, seq: h.seq, index }));
		this.#total = ledger.size;
		this.#maxClock = heads.reduce((m, h) => Math.max(m, h.clock), 0);
	}

	#scheduleRefresh(): void {
		if (this.#refreshTimer) return;
		this.#refreshTimer = setTimeout(() => {
			this.#refreshTimer = null;
			const ledger = this.#opened;
			if (!ledger) return;
			const atEnd = this.#follow && this.#startClock + this.visibleClocks >= this.#maxClock;
			this.#readShape(ledger);
			if (atEnd) this.#startClock = Math.max(0, this.#maxClock + 1 - this.visibleClocks);
			// New blocks may fall in the loaded range: read it again.
			this.#loadedRange = [0, -1];
			void this.ensureLoaded();
		}, 300);
	}

	/** Pans by `dx` pixels (positive: towards newer blocks). */
	pan(dx: number): Promise<void> {
		return this.scrollTo(this.#startClock + dx / this.#colWidth);
	}

	/** Puts clock `clock` at the left edge, within bounds. */
	scrollTo(clock: number): Promise<void> {
		const max = Math.max(0, this.#maxClock + 1 - this.visibleClocks);
		this.#startClock = Math.min(max, Math.max(0, clock));
		this.#follow = this.#startClock >= max;
		return this.ensureLoaded();
	}

	/** Centers the view on `clock`. */
	center(clock: number): Promise<void> {
		return this.scrollTo(clock - this.visibleClocks / 2);
	}

	/** Multiplies the zoom by `factor`, keeping the clock under pixel `x` in place. */
	zoom(factor: number, x = this.#width / 2): Promise<void> {
		const anchor = this.#startClock + x / this.#colWidth;
		// The window must stay drawable: no more clocks than MAX_WINDOW_BLOCKS spread over the lanes.
		const minCol = Math.max(MIN_COL, this.#width / Math.max(1, MAX_WINDOW_BLOCKS / Math.max(1, this.#lanes.length) / 1.5));
		this.#colWidth = Math.min(MAX_COL, Math.max(minCol, this.#colWidth * factor));
		return this.scrollTo(anchor - x / this.#colWidth);
	}

	setWidth(width: number): void {
		if (width <= 0 || width === this.#width) return;
		this.#width = width;
		// Showing the newest blocks: stay anchored at the end (the window being read covers it).
		if (this.#follow && this.#opened) this.#startClock = Math.max(0, this.#maxClock + 1 - this.visibleClocks);
		void this.ensureLoaded();
	}

	/**
	 * Loads the blocks of the visible clocks plus half a screen either side, unless the
	 * loaded range, or the one being read, already covers the visible one. A read that
	 * would not cover it is abandoned for a new one.
	 */
	ensureLoaded(): Promise<void> {
		const ledger = this.#opened;
		if (!ledger) return Promise.resolve();
		const from = Math.floor(this.#startClock);
		const to = Math.ceil(this.#startClock + this.visibleClocks);
		const [have0, have1] = this.#loadedRange;
		if (from >= have0 && to <= have1) return Promise.resolve();
		const reading = this.#reading;
		if (reading && reading.generation === this.#generation && from >= reading.from && to <= reading.to) return reading.done;
		const margin = Math.ceil(this.visibleClocks / 2);
		const want0 = Math.max(0, from - margin);
		const want1 = to + margin;
		const generation = ++this.#generation;
		const done = this.#load(ledger, want0, want1, generation);
		this.#reading = { from: want0, to: want1, generation, done };
		return done;
	}

	async #load(ledger: Ledger, want0: number, want1: number, generation: number): Promise<void> {
		this.#loading = true;
		// Pages sized to the window (at most one block per author per clock): a narrow window reads little.
		const pageSize = Math.min(PAGE, Math.max(50, (want1 - want0 + 1) * Math.max(1, this.#lanes.length)));
		try {
			const out: ExplorerBlock[] = [];
			let after: OrderKey = [want0 - 1, ID_MAX];
			let truncated = false;
			for (;;) {
				const page = await ledger.store.ordered(after, pageSize);
				if (generation !== this.#generation) return;
				this.#fetched += page.length;
				let past = false;
				for (const stored of page) {
					if (stored.clock > want1) {
						past = true;
						break;
					}
					out.push(toExplorerBlock(stored));
				}
				if (past || page.length < pageSize) break;
				if (out.length >= MAX_WINDOW_BLOCKS) {
					truncated = true;
					break;
				}
				const last = page[page.length - 1]!;
				after = [last.clock, last.id];
			}
			this.#blocks = out;
			this.#truncated = truncated;
			this.#loadedRange = [want0, truncated ? out[out.length - 1]!.clock : want1];
			this.#peakHeld = Math.max(this.#peakHeld, out.length);
			this.#error = null;
		} catch (error) {
			this.#error = `The explorer could not read the ledger: ${(error as Error).message}`;
		} finally {
			if (generation === this.#generation) {
				this.#loading = false;
				this.#reading = null;
			}
		}
	}

	/** Reads, decodes and re-verifies one block (hash and signature, now, with this node's verifier). */
	async select(id: BlockId | null, { reveal = false } = {}): Promise<void> {
		const ledger = this.#opened ?? this.#ledger();
		if (!id || !ledger) {
			this.#selected = null;
			return;
		}
		this.#selecting = true;
		try {
			const stored = await ledger.store.get(id);
			if (!stored) {
				this.#error = `No block ${id.slice(0, 12)} in this node's copy.`;
				return;
			}
			const started = performance.now();
			const block = decodeBlock(stored.bytes);
			const hashOk = toHex(hashBody(block.body)) === block.id;
			const signatureOk = await ledger.verifySignature(block.signature, fromHex(block.id), fromHex(block.author));
			const verifyMs = performance.now() - started;
			const lane = this.#lanes.find((l) => l.author === block.author);
			this.#selected = {
				id: block.id,
				author: block.author,
				authorName: lane?.name ?? null,
				seq: block.seq,
				clock: block.clock,
				time: block.time,
				net: block.net,
				prev: block.prev,
				deps: block.deps,
				size: block.bytes.length,
				signature: toHex(block.signature),
				hashOk,
				signatureOk,
				verifyMs,
				txs: block.txs.map(txView)
			};
			if (reveal) await this.center(block.clock);
		} catch (error) {
			this.#error = `Block ${id.slice(0, 12)} could not be read: ${(error as Error).message}`;
		} finally {
			this.#selecting = false;
		}
	}

	/**
	 * Finds blocks by full id (one indexed read), by author (name or key prefix: the
	 * author's newest blocks), or by transaction type or id prefix (a scan of the whole
	 * ledger, a page at a time, keeping at most {@link MAX_HITS} hits).
	 */
	async find(query: string): Promise<void> {
		const ledger = this.#opened;
		const q = query.trim().toLowerCase();
		const generation = ++this.#searchGeneration;
		if (!ledger || q === '') {
			this.#search = null;
			return;
		}
		const hitOf = (b: { id: BlockId; author: AuthorId; seq: number; clock: number }, label: string): SearchHit => ({
			id: b.id,
			author: b.author,
			seq: b.seq,
			clock: b.clock,
			label
		});
		const nameOf = (a: AuthorId) => this.#lanes.find((l) => l.author === a)?.name ?? a.slice(0, 8);
		if (q.length === 64 && HEX.test(q)) {
			const stored = await ledger.store.get(q as BlockId);
			const hits = stored ? [hitOf(stored, `${nameOf(stored.author)} #${stored.seq}`)] : [];
			this.#search = {
				query,
				kind: 'id',
				hits,
				scanned: stored ? 1 : 0,
				done: true,
				note: stored ? null : 'No block with this id in this node’s copy.'
			};
			return;
		}
		const lanes = this.#lanes.filter((l) => (l.name ?? '').toLowerCase().includes(q) || (HEX.test(q) && l.author.startsWith(q)));
		if (lanes.length > 0) {
			const hits: SearchHit[] = [];
			for (const lane of lanes.slice(0, 5)) {
				const from = Math.max(0, lane.seq - Math.floor(MAX_HITS / lanes.length) + 1);
				const rows = await ledger.store.range(lane.author, from, MAX_HITS);
				for (const r of rows.reverse()) hits.push(hitOf(r, `${nameOf(r.author)} #${r.seq}`));
			}
			if (generation !== this.#searchGeneration) return;
			this.#search = {
				query,
				kind: 'author',
				hits: hits.slice(0, MAX_HITS),
				scanned: hits.length,
				done: true,
				note: `Newest blocks of ${lanes.map((l) => l.name ?? l.author.slice(0, 8)).join(', ')}`
			};
			return;
		}
		const kind: SearchState['kind'] = HEX.test(q) && q.length >= 4 ? 'id-prefix' : /^[a-z][a-z0-9.-]*$/.test(q) ? 'type' : 'none';
		if (kind === 'none') {
			this.#search = {
				query,
				kind,
				hits: [],
				scanned: 0,
				done: true,
				note: 'Search by block id (or its first 4+ characters), member name or key, or transaction type (e.g. note).'
			};
			return;
		}
		const hits: SearchHit[] = [];
		let scanned = 0;
		let after: OrderKey | null = null;
		this.#search = { query, kind, hits: [], scanned: 0, done: false, note: null };
		for (;;) {
			const page = await ledger.store.ordered(after, PAGE);
			if (generation !== this.#searchGeneration) return;
			for (const stored of page) {
				if (kind === 'id-prefix') {
					if (stored.id.startsWith(q)) hits.push(hitOf(stored, `${nameOf(stored.author)} #${stored.seq}`));
				} else {
					const block = decodeBlock(stored.bytes);
					const tx = block.txs.find((t) => t.t === q || t.t.startsWith(`${q}.`));
					if (tx) hits.push(hitOf(stored, `${nameOf(stored.author)} #${stored.seq}: ${summarizeTx(tx).text.slice(0, 60)}`));
				}
				if (hits.length >= MAX_HITS) break;
			}
			scanned += page.length;
			const done = page.length < PAGE || hits.length >= MAX_HITS;
			this.#search = {
				query,
				kind,
				hits: [...hits],
				scanned,
				done,
				note: done && hits.length >= MAX_HITS ? `First ${MAX_HITS} matches in ledger order.` : null
			};
			if (done) return;
			const last = page[page.length - 1]!;
			after = [last.clock, last.id];
		}
	}
}
