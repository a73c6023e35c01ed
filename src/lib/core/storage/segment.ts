/**
 * A segment: the blocks of one appended batch (at most {@link SEGMENT_BLOCKS} of them)
 * packed into one IndexedDB record, sorted by (clock, id). IndexedDB's cost is per record
 * and per index entry, not per byte, so a batch is one `add` of a handful of objects: the
 * blocks' bytes in one buffer, the numbers per block in typed arrays, and the id list the
 * one index (`byId`, multiEntry) is built from. Beside it, a {@link SegmentSummary} (a few
 * hundred bytes) names what the segment holds: its (clock, id) range and, per author, its
 * seq range; the store keeps every summary in memory and answers ordered, range and at
 * from them (indexeddb.ts).
 */
import type { AuthorId, BlockId } from '../types.js';
import { compareOrder, type OrderKey, type StoredBlock } from './store.js';

/** Most blocks one segment holds: a bigger batch is several segments in the same transaction. */
export const SEGMENT_BLOCKS = 500;

/** The stored record. Slot `i` is the i-th block of the segment in (clock, id) order in every list. */
export interface SegmentRecord {
	/** Block ids: the multiEntry index `byId` (unique by the store's own check, indexeddb.ts). */
	readonly ids: BlockId[];
	/** The segment's distinct authors; `author[i]` indexes this list. */
	readonly authors: AuthorId[];
	readonly author: Uint16Array;
	readonly seq: Float64Array;
	readonly clock: Float64Array;
	/** Every block's wire bytes, one after another; slot `i` ends at `ends[i]`. */
	readonly bytes: Uint8Array;
	readonly ends: Uint32Array;
	/** Every block's version vector, one after another; slot `i`'s ends at `vvEnds[i]`. */
	readonly vv: Float64Array;
	readonly vvEnds: Uint32Array;
}

/** What a segment holds, without its blocks: one record per segment in `summaries`, all loaded at open. */
export interface SegmentSummary {
	/** The segment's key. */
	readonly seg: number;
	readonly count: number;
	/** Order keys of its first and last block. */
	readonly min: [number, BlockId];
	readonly max: [number, BlockId];
	/** Per author present: its lowest and highest seq here, and how many of its blocks (several at one seq when it equivocated). */
	readonly authors: AuthorId[];
	readonly minSeq: number[];
	readonly maxSeq: number[];
	readonly counts: number[];
}

const byOrderKey = (a: StoredBlock, b: StoredBlock) => a.clock - b.clock || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Packs up to {@link SEGMENT_BLOCKS} blocks into one record and its summary (without its key). */
export function packSegment(blocks: readonly StoredBlock[]): { record: SegmentRecord; summary: Omit<SegmentSummary, 'seg'> } {
	const sorted = [...blocks].sort(byOrderKey);
	const n = sorted.length;
	let byteLength = 0;
	let vvLength = 0;
	for (const b of sorted) {
		byteLength += b.bytes.length;
		vvLength += b.vv.length;
	}
	const bytes = new Uint8Array(byteLength);
	const ends = new Uint32Array(n);
	const vv = new Float64Array(vvLength);
	const vvEnds = new Uint32Array(n);
	const author = new Uint16Array(n);
	const seq = new Float64Array(n);
	const clock = new Float64Array(n);
	const ids: BlockId[] = [];
	const authorIndex = new Map<AuthorId, number>();
	const authors: AuthorId[] = [];
	const minSeq: number[] = [];
	const maxSeq: number[] = [];
	const counts: number[] = [];
	let at = 0;
	let vvAt = 0;
	for (let i = 0; i < n; i++) {
		const b = sorted[i]!;
		bytes.set(b.bytes, at);
		ends[i] = at += b.bytes.length;
		vv.set(b.vv, vvAt);
		vvEnds[i] = vvAt += b.vv.length;
		let a = authorIndex.get(b.author);
		if (a === undefined) {
			a = authors.length;
			authorIndex.set(b.author, a);
			authors.push(b.author);
			minSeq.push(b.seq);
			maxSeq.push(b.seq);
			counts.push(0);
		}
		author[i] = a;
		seq[i] = b.seq;
		clock[i] = b.clock;
		ids.push(b.id);
		minSeq[a] = Math.min(minSeq[a]!, b.seq);
		maxSeq[a] = Math.max(maxSeq[a]!, b.seq);
		counts[a]!++;
	}
	const first = sorted[0]!;
	const last = sorted[n - 1]!;
	return {
		record: { ids, authors, author, seq, clock, bytes, ends, vv, vvEnds },
		summary: { count: n, min: [first.clock, first.id], max: [last.clock, last.id], authors, minSeq, maxSeq, counts }
	};
}

/** Splits a batch into segments of at most {@link SEGMENT_BLOCKS}, in the order given. */
export function packSegments(blocks: readonly StoredBlock[]) {
	const out: ReturnType<typeof packSegment>[] = [];
	for (let from = 0; from < blocks.length; from += SEGMENT_BLOCKS) out.push(packSegment(blocks.slice(from, from + SEGMENT_BLOCKS)));
	return out;
}

/** A stored segment as read back: blocks are unpacked one slot at a time, on demand. */
export class Segment {
	#slots: Map<BlockId, number> | undefined;
	constructor(readonly record: SegmentRecord) {}

	get size(): number {
		return this.record.ids.length;
	}

	/** Slot of block `id`, or -1. */
	slotOf(id: BlockId): number {
		this.#slots ??= new Map(this.record.ids.map((blockId, slot) => [blockId, slot]));
		return this.#slots.get(id) ?? -1;
	}

	/** The block in `slot`, with its own copy of the bytes (a view would keep the whole segment alive). */
	block(slot: number): StoredBlock {
		const r = this.record;
		const from = slot === 0 ? 0 : r.ends[slot - 1]!;
		const vvFrom = slot === 0 ? 0 : r.vvEnds[slot - 1]!;
		return {
			id: r.ids[slot]!,
			author: r.authors[r.author[slot]!]!,
			seq: r.seq[slot]!,
			clock: r.clock[slot]!,
			bytes: r.bytes.slice(from, r.ends[slot]),
			vv: Array.from(r.vv.subarray(vvFrom, r.vvEnds[slot]))
		};
	}

	orderKey(slot: number): OrderKey {
		return [this.record.clock[slot]!, this.record.ids[slot]!];
	}

	/** Slots strictly after `after` in (clock, id) order (all when null): slots are sorted, so a binary search. */
	slotsAfter(after: OrderKey | null): SlotRef[] {
		let lo = 0;
		if (after) {
			let hi = this.size;
			while (lo < hi) {
				const mid = (lo + hi) >>> 1;
				if (compareOrder(this.orderKey(mid), after) <= 0) lo = mid + 1;
				else hi = mid;
			}
		}
		const out: SlotRef[] = [];
		for (let slot = lo; slot < this.size; slot++) out.push({ segment: this, slot });
		return out;
	}

	/** Slots of `author`'s blocks with `fromSeq <= seq <= toSeq`, in slot order. */
	chainSlots(author: AuthorId, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): SlotRef[] {
		const a = this.record.authors.indexOf(author);
		const out: SlotRef[] = [];
		if (a < 0) return out;
		const { author: authorOf, seq } = this.record;
		for (let slot = 0; slot < this.size; slot++) {
			if (authorOf[slot] === a && seq[slot]! >= fromSeq && seq[slot]! <= toSeq) out.push({ segment: this, slot });
		}
		return out;
	}
}

/** A slot of a segment, the unit reads sort and pick from before unpacking. */
export interface SlotRef {
	readonly segment: Segment;
	readonly slot: number;
}

/** Sorts slot references by (seq, id) of one author's chain. */
export function byChain(a: SlotRef, b: SlotRef): number {
	const idA = a.segment.record.ids[a.slot]!;
	const idB = b.segment.record.ids[b.slot]!;
	return a.segment.record.seq[a.slot]! - b.segment.record.seq[b.slot]! || (idA < idB ? -1 : idA > idB ? 1 : 0);
}

/** Sorts slot references by (clock, id). */
export function byOrder(a: SlotRef, b: SlotRef): number {
	return compareOrder(a.segment.orderKey(a.slot), b.segment.orderKey(b.slot));
}
