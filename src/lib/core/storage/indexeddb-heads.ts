/**
 * The heads record checked against the stored blocks at open. Since schema 5 the store
 * refuses a stored id by looking up only the blocks at or below their author's head
 * (indexeddb.ts, append), and the ledger's duplicate check before staging rests on the
 * same heads: a heads record behind the stored blocks (damaged on disk, edited, lost)
 * would let a resent block of that author be stored twice, and one ahead of them would
 * make the node claim blocks it does not hold, so no peer would send them. Heads are
 * derived data: each author's newest stored block, the highest seq and at it the lowest id
 * (what append keeps). The summaries, written in the same transaction as their segments,
 * say each author's highest stored seq; where the record disagrees, it is written again
 * from the blocks. One transaction reads the summaries written since the directory was
 * loaded, the heads and the segments needed, so another tab's append cannot come between.
 * (An author's head at the right seq but naming another block of it, an equivocation, is
 * not checked: that needs every author's newest segment read at every open.)
 */
import type { IDBPDatabase } from 'idb';
import type { Head } from '../types.js';
import type { LedgerDB } from './indexeddb-schema.js';
import type { SegmentDirectory } from './segment-directory.js';
import { Segment, byChain } from './segment.js';

/**
 * Writes again the heads that disagree with the stored blocks. The block at an author's newest
 * seq is found as `IndexedDBStore.at` finds it, but inside this transaction.
 */
export async function repairHeads(db: IDBPDatabase<LedgerDB>, directory: SegmentDirectory): Promise<void> {
	const tx = db.transaction(['summaries', 'heads', 'segments'], 'readwrite');
	const [fresh, heads] = await Promise.all([
		tx.objectStore('summaries').getAll(IDBKeyRange.lowerBound(directory.last, true)),
		tx.objectStore('heads').getAll()
	]);
	for (const summary of fresh) directory.add(summary);
	const newest = directory.newestSeqs();
	const recorded = new Map(heads.map((h) => [h.author, h]));
	const writes: Promise<unknown>[] = [];
	for (const [author, seq] of newest) {
		if (recorded.get(author)?.seq === seq) continue;
		const parts = directory.chainCandidates(author, seq, seq);
		const segments = await Promise.all(parts.map(async (p) => new Segment((await tx.objectStore('segments').get(p.seg))!)));
		const [first] = segments.flatMap((s) => s.chainSlots(author, seq, seq)).sort(byChain);
		if (!first) continue; // listed by a summary, so stored: a segment missing is reported by the reads
		const block = first.segment.block(first.slot);
		const head: Head = { author, seq, id: block.id, clock: block.clock };
		writes.push(tx.objectStore('heads').put(head));
	}
	for (const author of recorded.keys()) if (!newest.has(author)) writes.push(tx.objectStore('heads').delete(author));
	await Promise.all([...writes, tx.done]);
}
