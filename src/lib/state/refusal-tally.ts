/**
 * Blocks refused from each peer, by reason: distinct blocks and attempts (a peer may send
 * the same bad block again and again), the last detail, and a log line for the first few
 * and every hundredth after.
 */
import type { AuthorId, BlockId, ReasonCode, SyncSession } from '$lib/core/index.js';
import type { MemberNames } from '$lib/domain/members.js';
import { short, type LogLine, type RefusalView } from './sync-views.js';

/** Refusals of one reason from one peer logged one by one, then every hundredth. */
const REJECTIONS_LOGGED = 10;
/** Distinct blocks remembered per peer and reason: a flood beyond is counted by attempts. */
const BLOCKS_KEPT = 10_000;

interface Tally {
	author: AuthorId | null;
	peer: string;
	code: ReasonCode;
	blocks: Set<string>;
	attempts: number;
	lastDetail: string;
	lastBlock: BlockId | null;
	lastAt: number;
}

export class RefusalTally {
	#tallies = new Map<string, Tally>();
	#say: (text: string, tone?: LogLine['tone']) => void;
	#peerName: (author: AuthorId | null) => string;

	constructor(say: (text: string, tone?: LogLine['tone']) => void, peerName: (author: AuthorId | null) => string) {
		this.#say = say;
		this.#peerName = peerName;
	}

	/** Counts a block `session`'s peer sent that this node refused. */
	add(session: SyncSession, code: ReasonCode, detail: string, id: BlockId | null, now: number): void {
		const peer = session.peerAuthor ?? session.label;
		const key = `${peer} ${code}`;
		const entry = this.#tallies.get(key) ?? {
			author: session.peerAuthor,
			peer,
			code,
			blocks: new Set<string>(),
			attempts: 0,
			lastDetail: '',
			lastBlock: null,
			lastAt: 0
		};
		entry.attempts++;
		if (entry.blocks.size < BLOCKS_KEPT) entry.blocks.add(id ?? `attempt ${entry.attempts}`);
		entry.lastDetail = detail;
		entry.lastBlock = id;
		entry.lastAt = now;
		this.#tallies.set(key, entry);
		if (entry.attempts <= REJECTIONS_LOGGED || entry.attempts % 100 === 0) {
			const more = entry.attempts > REJECTIONS_LOGGED ? ` (${entry.attempts} times so far)` : '';
			this.#say(`refused block ${short(id)} from ${this.#peerName(session.peerAuthor)}: ${code}, ${detail}${more}`, 'bad');
		}
	}

	/** Distinct refused blocks per peer (author key, or transport id), all reasons. */
	perPeer(): Map<string, number> {
		const counts = new Map<string, number>();
		for (const r of this.#tallies.values()) counts.set(r.peer, (counts.get(r.peer) ?? 0) + r.blocks.size);
		return counts;
	}

	/** The tallies as the network panel shows them, most refused first. */
	views(names: MemberNames): RefusalView[] {
		return [...this.#tallies.values()]
			.map(({ blocks, ...r }) => ({ ...r, count: blocks.size, name: r.author ? (names[r.author] ?? null) : null }))
			.sort((a, b) => b.count - a.count || (a.peer < b.peer ? -1 : 1));
	}

	clear(): void {
		this.#tallies.clear();
	}
}
