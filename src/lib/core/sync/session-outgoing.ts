/**
 * The sending side of a sync session's catch-up: streams what the peer lacks (offer,
 * blocks, end), at most a window of blocks ahead of the peer's acks, never the same block
 * twice on one session unless a repair calls for it (the peer's vectors still lack blocks
 * sent a while ago: sent once more, with a wait that doubles). A newer vector restarts the
 * stream; a refusal or a close stops it.
 */
import type { StoredBlock } from '../storage/store.js';
import type { AuthorId, VersionVector } from '../types.js';
import { FRAME_PAYLOAD, MAX_BACKOFF_RETRIES } from './session-limits.js';
import type { SessionCore } from './session-types.js';

export class OutgoingStream {
	#core: SessionCore;
	/** Blocks in flight before the sender waits for acks. */
	#window: number;
	#generation = 0;
	#sent = 0;
	#acked = 0;
	#ackAt = 0;
	#ackWaiters: (() => void)[] = [];
	#streaming = false;
	/** Highest seq per author sent to the peer on this session (streams and gossip): never streamed twice unless repaired. */
	#sentTo: VersionVector = {};
	#lastSentAt = -Infinity;
	/** Wait after the last block sent before a vector that still lacks it has it sent again. */
	#repairDelay: number;

	constructor(core: SessionCore, window: number) {
		this.#core = core;
		this.#window = window;
		this.#repairDelay = core.retryMs * 2;
	}

	get streaming(): boolean {
		return this.#streaming;
	}

	/** Stops the stream in progress (a refusal, a close): it sees a newer generation and ends. */
	stop(): void {
		this.#generation++;
		this.#wake();
	}

	/**
	 * After a vector from the peer: one that claims something new resets the repair wait;
	 * one that still lacks blocks sent a while ago has them sent once more, with a wait
	 * twice as long before the next time.
	 */
	afterVector(news: boolean, claimed: Readonly<VersionVector>): void {
		const now = this.#core.now();
		if (news) this.#repairDelay = this.#core.retryMs * 2;
		else if (!this.#streaming && now - this.#lastSentAt >= this.#repairDelay && this.#sentBeyond(claimed)) {
			// The peer still lacks blocks sent a while ago (frames lost, or refused): send
			// them once more, and wait twice as long before the next time.
			this.#sentTo = {};
			this.#repairDelay = Math.min(this.#repairDelay * 2, this.#core.retryMs * MAX_BACKOFF_RETRIES);
		}
	}

	#sentBeyond(claimed: Readonly<VersionVector>): boolean {
		return Object.entries(this.#sentTo).some(([a, s]) => (claimed[a] ?? -1) < s);
	}

	/** The peer acknowledged `n` streamed blocks. */
	onAck(n: number): void {
		if (n > this.#acked && n <= this.#sent) {
			this.#acked = n;
			this.#ackAt = this.#core.now();
			this.#wake();
		}
	}

	/** Acks were lost: stop waiting for them rather than stall. */
	tick(now: number): void {
		if (this.#sent > this.#acked && now - this.#ackAt >= this.#core.retryMs * 2) {
			this.#acked = this.#sent;
			this.#wake();
		}
	}

	/** Streams what the peer lacks and was not already sent on this session; a newer vector restarts it. */
	async stream(claimed: Readonly<VersionVector>): Promise<void> {
		const generation = ++this.#generation;
		const from: VersionVector = { ...claimed };
		for (const [a, s] of Object.entries(this.#sentTo)) if ((from[a] ?? -1) < s) from[a] = s;
		this.#streaming = true;
		try {
			await this.#streamFrom(from, generation);
		} finally {
			if (generation === this.#generation) this.#streaming = false;
		}
	}

	async #streamFrom(from: VersionVector, generation: number): Promise<void> {
		const core = this.#core;
		const heads = core.ledger.heads();
		let count = 0;
		for (const h of heads) count += Math.max(0, h.seq - (from[h.author] ?? -1));
		if (count === 0) return;
		if (!core.send({ m: 'offer', count })) return;
		let pending: StoredBlock[] = [];
		let pendingBytes = 0;
		const flush = async () => {
			core.sendBlocks(pending.map((b) => b.bytes));
			this.noteSent(pending);
			pending = [];
			pendingBytes = 0;
			if (core.link.bufferedAmount > 1024 * 1024) await core.link.drained();
		};
		const live = () => generation === this.#generation && core.state() === 'ready';
		for (const head of heads) {
			let next = (from[head.author] ?? -1) + 1;
			while (next <= head.seq) {
				const page = await core.ledger.store.range(head.author, next, 500);
				if (page.length === 0) break;
				for (const block of page) {
					if (!live()) return;
					while (this.#sent - this.#acked >= this.#window && live()) {
						await flush();
						await new Promise<void>((resolve) => this.#ackWaiters.push(resolve));
					}
					if (!live()) return;
					pending.push(block);
					pendingBytes += block.bytes.length;
					if (pendingBytes >= FRAME_PAYLOAD) await flush();
					this.#sent++;
					core.stats.blocksOut++;
				}
				next = page[page.length - 1]!.seq + 1;
			}
		}
		if (!live()) return;
		await flush();
		if (generation === this.#generation) core.send({ m: 'end' });
	}

	/** Records blocks sent to the peer (streamed or gossiped). */
	noteSent(blocks: readonly { author: AuthorId; seq: number }[]): void {
		if (blocks.length === 0) return;
		for (const b of blocks) if ((this.#sentTo[b.author] ?? -1) < b.seq) this.#sentTo[b.author] = b.seq;
		this.#lastSentAt = this.#core.now();
	}

	#wake(): void {
		const waiters = this.#ackWaiters;
		this.#ackWaiters = [];
		for (const w of waiters) w();
	}
}
