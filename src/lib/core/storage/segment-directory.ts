/**
 * The in-memory directory of a segmented store: every segment's summary (segment.ts),
 * loaded whole at open (1,000,000 blocks are 2,000 segments) and kept current on each
 * append. It answers which segments may hold an answer; the store reads those and merges
 * them, since a batch that arrives late overlaps the ranges of earlier segments.
 */
import type { AuthorId } from '../types.js';
import type { SegmentSummary } from './segment.js';
import { compareOrder, type OrderKey } from './store.js';

/** One author's part of one segment. */
export interface ChainPart {
	readonly seg: number;
	readonly minSeq: number;
	readonly maxSeq: number;
	readonly count: number;
}

export class SegmentDirectory {
	readonly #summaries = new Map<number, SegmentSummary>();
	readonly #chains = new Map<AuthorId, ChainPart[]>();
	#count = 0;
	/** Highest segment key known: summaries above it are read from the database before a read (another tab may have written them). */
	#last = 0;

	get last(): number {
		return this.#last;
	}

	get count(): number {
		return this.#count;
	}

	/** Adds a summary (again is a no-op). */
	add(summary: SegmentSummary): void {
		if (this.#summaries.has(summary.seg)) return;
		this.#summaries.set(summary.seg, summary);
		this.#count += summary.count;
		this.#last = Math.max(this.#last, summary.seg);
		summary.authors.forEach((author, i) => {
			let parts = this.#chains.get(author);
			if (!parts) this.#chains.set(author, (parts = []));
			parts.push({ seg: summary.seg, minSeq: summary.minSeq[i]!, maxSeq: summary.maxSeq[i]!, count: summary.counts[i]! });
		});
	}

	/** Segments holding a block after `after` (all when null), by their first order key. */
	orderCandidates(after: OrderKey | null): SegmentSummary[] {
		const out: SegmentSummary[] = [];
		for (const s of this.#summaries.values()) if (!after || compareOrder(s.max, after) > 0) out.push(s);
		return out.sort((a, b) => compareOrder(a.min, b.min));
	}

	/** `author`'s parts with a block at `fromSeq <= seq <= toSeq`, by their lowest seq. */
	chainCandidates(author: AuthorId, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): ChainPart[] {
		const parts = this.#chains.get(author) ?? [];
		return parts.filter((p) => p.maxSeq >= fromSeq && p.minSeq <= toSeq).sort((a, b) => a.minSeq - b.minSeq || a.seg - b.seg);
	}

	/** Each author's highest stored seq, from the summaries alone. */
	newestSeqs(): Map<AuthorId, number> {
		const out = new Map<AuthorId, number>();
		for (const [author, parts] of this.#chains) out.set(author, Math.max(...parts.map((p) => p.maxSeq)));
		return out;
	}

	clear(): void {
		this.#summaries.clear();
		this.#chains.clear();
		this.#count = 0;
		this.#last = 0;
	}
}
