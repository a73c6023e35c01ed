/** Evidence of equivocation: what a node keeps to show that an author signed two blocks at one position. */
import type { LedgerStore, StoredBlock } from '../storage/store.js';
import type { AuthorId, BlockId } from '../types.js';
import type { ChainReader } from './void-set.js';

/**
 * Writes the evidence of the equivocations in `forks` (author → seqs): every version at
 * the position but the smallest id, against the smallest, so every node that holds the
 * same blocks holds the same evidence; `found` is told of each position.
 */
export async function recordEquivocations(
	store: LedgerStore,
	chain: ChainReader,
	forks: ReadonlyMap<AuthorId, ReadonlySet<number>>,
	now: () => number,
	found: (evidence: { author: AuthorId; seq: number; ids: [BlockId, BlockId] }) => void
): Promise<void> {
	for (const [author, seqs] of forks) {
		for (const seq of seqs) {
			const versions: StoredBlock[] = [];
			for await (const row of chain(author, seq)) {
				if (row.seq !== seq) break;
				versions.push(row);
			}
			versions.sort((a, b) => (a.id < b.id ? -1 : 1));
			const [first, ...rest] = versions;
			if (!first) continue;
			for (const v of rest) await store.putEvidence({ id: v.id, author, seq, conflictsWith: first.id, bytes: v.bytes, seenAt: now() });
			found({ author, seq, ids: [first.id, rest[rest.length - 1]!.id] });
		}
	}
}
