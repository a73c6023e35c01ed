/**
 * The ledger explorer's state: a window onto the block DAG, never the whole ledger.
 *
 * Layout: one horizontal lane per author (its hash-linked chain), x = Lamport clock. The
 * clock is also the store's order key, so the blocks of any x range are one indexed
 * range read (explorer/window.ts) whatever the ledger's size: scrolling to any place
 * costs the same, and only the visible clocks (plus a margin) are in memory, at most
 * {@link MAX_WINDOW_BLOCKS}. Zooming out is bounded so a window stays under that.
 * The view follows new blocks while its right edge is at the newest clock. A selected
 * block is re-verified (explorer/blocks.ts); searches stream through the store a page at
 * a time and keep only their hits (explorer/search.ts).
 */
import type { AuthorId, BlockId, Ledger } from '$lib/core/index.js';
import { readBlockDetail, type BlockDetail } from './explorer/blocks.js';
import { WindowLoader } from './explorer/loader.svelte.js';
import { searchBlocks, type SearchState } from './explorer/search.js';
import { MAX_WINDOW_BLOCKS } from './explorer/window.js';

export { MAX_WINDOW_BLOCKS } from './explorer/window.js';
export type { BlockDetail, ExplorerBlock, TxView } from './explorer/blocks.js';
export type { SearchHit, SearchState } from './explorer/search.js';

/** Zoom limits, in pixels per clock tick. */
export const MIN_COL = 0.5;
export const MAX_COL = 64;

export interface Lane {
	readonly author: AuthorId;
	readonly name: string | null;
	/** Highest seq held. */
	readonly seq: number;
	readonly index: number;
}

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
	readonly #window = new WindowLoader((message) => (this.#error = message));
	/** Blocks held for drawing: those of the loaded clock range. */
	get blocks() {
		return this.#window.blocks;
	}
	/** Clock range [from, to] the held blocks cover. */
	get loadedRange() {
		return this.#window.loadedRange;
	}
	/** The loaded range held more blocks than {@link MAX_WINDOW_BLOCKS}: the rest is not drawn. */
	get truncated() {
		return this.#window.truncated;
	}
	/** Blocks read from the store since opening, in total (shows nothing is read twice needlessly). */
	get fetched() {
		return this.#window.fetched;
	}
	/** Most blocks held at once since opening. */
	get peakHeld() {
		return this.#window.peakHeld;
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
	get loading() {
		return this.#window.loading;
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
	#searchGeneration = 0;
	#off: (() => void) | null = null;
	#refreshTimer: ReturnType<typeof setTimeout> | null = null;
	#founder: { net: BlockId; author: AuthorId | null } | null = null;

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
		if (this.#firstPaintMs === null && this.#window.blocks.length > 0) this.#firstPaintMs = Math.round(performance.now() - this.#openedAt);
	}

	close(): void {
		this.#off?.();
		this.#off = null;
		this.#opened = null;
		if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
		this.#refreshTimer = null;
		this.#searchGeneration++;
		this.#window.reset();
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
			this.#window.invalidate();
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

	/** Loads the blocks of the visible clocks plus half a screen either side, unless they are loaded or being read (explorer/loader.svelte.ts). */
	ensureLoaded(): Promise<void> {
		const ledger = this.#opened;
		if (!ledger) return Promise.resolve();
		const from = Math.floor(this.#startClock);
		const to = Math.ceil(this.#startClock + this.visibleClocks);
		return this.#window.ensure(ledger, from, to, Math.ceil(this.visibleClocks / 2), this.#lanes.length);
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
			const detail = await readBlockDetail(ledger, id, (author) => this.#lanes.find((l) => l.author === author)?.name ?? null);
			if (!detail) {
				this.#error = `No block ${id.slice(0, 12)} in this node's copy.`;
				return;
			}
			this.#selected = detail;
			if (reveal) await this.center(detail.clock);
		} catch (error) {
			this.#error = `Block ${id.slice(0, 12)} could not be read: ${(error as Error).message}`;
		} finally {
			this.#selecting = false;
		}
	}

	/** Finds blocks by full id, by author (name or key prefix) or by transaction type or id prefix (explorer/search.ts). */
	async find(query: string): Promise<void> {
		const ledger = this.#opened;
		const generation = ++this.#searchGeneration;
		if (!ledger || query.trim() === '') {
			this.#search = null;
			return;
		}
		await searchBlocks(
			ledger,
			this.#lanes,
			query,
			(state) => (this.#search = state),
			() => generation === this.#searchGeneration
		);
	}
}
