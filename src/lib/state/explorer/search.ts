/**
 * Finding blocks: by full id (one indexed read), by author (name or key prefix: the
 * author's newest blocks), or by transaction type or id prefix (a scan of the whole
 * ledger, a page at a time, keeping at most {@link MAX_HITS} hits and publishing each
 * page's progress).
 */
import { decodeBlock, type AuthorId, type BlockId, type Ledger, type OrderKey } from '$lib/core/index.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import { PAGE } from './window.js';

/** Most hits a search keeps. */
const MAX_HITS = 50;
const HEX = /^[0-9a-f]+$/;

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

/** The lanes a search by author looks through. */
export interface SearchLane {
	readonly author: AuthorId;
	readonly name: string | null;
	readonly seq: number;
}

/**
 * Runs the search for `query` (already trimmed and lower-cased as `q`), calling `publish`
 * with each state; stops once `current()` says a newer search replaced it.
 */
export async function searchBlocks(
	ledger: Ledger,
	lanes: readonly SearchLane[],
	query: string,
	publish: (state: SearchState) => void,
	current: () => boolean
): Promise<void> {
	const q = query.trim().toLowerCase();
	const hitOf = (b: { id: BlockId; author: AuthorId; seq: number; clock: number }, label: string): SearchHit => ({
		id: b.id,
		author: b.author,
		seq: b.seq,
		clock: b.clock,
		label
	});
	const nameOf = (a: AuthorId) => lanes.find((l) => l.author === a)?.name ?? a.slice(0, 8);
	if (q.length === 64 && HEX.test(q)) {
		const stored = await ledger.store.get(q as BlockId);
		const hits = stored ? [hitOf(stored, `${nameOf(stored.author)} #${stored.seq}`)] : [];
		publish({
			query,
			kind: 'id',
			hits,
			scanned: stored ? 1 : 0,
			done: true,
			note: stored ? null : 'No block with this id in this node’s copy.'
		});
		return;
	}
	const matching = lanes.filter((l) => (l.name ?? '').toLowerCase().includes(q) || (HEX.test(q) && l.author.startsWith(q)));
	if (matching.length > 0) {
		const hits: SearchHit[] = [];
		for (const lane of matching.slice(0, 5)) {
			const from = Math.max(0, lane.seq - Math.floor(MAX_HITS / matching.length) + 1);
			const rows = await ledger.store.range(lane.author, from, MAX_HITS);
			for (const r of rows.reverse()) hits.push(hitOf(r, `${nameOf(r.author)} #${r.seq}`));
		}
		if (!current()) return;
		publish({
			query,
			kind: 'author',
			hits: hits.slice(0, MAX_HITS),
			scanned: hits.length,
			done: true,
			note: `Newest blocks of ${matching.map((l) => l.name ?? l.author.slice(0, 8)).join(', ')}`
		});
		return;
	}
	const kind: SearchState['kind'] = HEX.test(q) && q.length >= 4 ? 'id-prefix' : /^[a-z][a-z0-9.-]*$/.test(q) ? 'type' : 'none';
	if (kind === 'none') {
		publish({
			query,
			kind,
			hits: [],
			scanned: 0,
			done: true,
			note: 'Search by block id (or its first 4+ characters), member name or key, or transaction type (e.g. note).'
		});
		return;
	}
	const hits: SearchHit[] = [];
	let scanned = 0;
	let after: OrderKey | null = null;
	publish({ query, kind, hits: [], scanned: 0, done: false, note: null });
	for (;;) {
		const page = await ledger.store.ordered(after, PAGE);
		if (!current()) return;
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
		publish({
			query,
			kind,
			hits: [...hits],
			scanned,
			done,
			note: done && hits.length >= MAX_HITS ? `First ${MAX_HITS} matches in ledger order.` : null
		});
		if (done) return;
		const last = page[page.length - 1]!;
		after = [last.clock, last.id];
	}
}
