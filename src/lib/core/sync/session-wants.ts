/**
 * Missing dependencies on a sync session: asked for by id (`want`), each again only after
 * a wait that doubles, so a dependency nobody has costs little; and the peer's wants
 * answered, within a rate budget.
 */
import type { BlockId } from '../types.js';
import { MAX_WANT_IDS } from './messages.js';
import { MAX_BACKOFF_RETRIES, WANTS_PER_SECOND } from './session-limits.js';
import type { SessionCore } from './session-types.js';
import { TokenBucket } from './token-bucket.js';

export class Wants {
	#core: SessionCore;
	#wants: TokenBucket;
	/** Missing deps asked for, with when to ask again (doubling). */
	#wanted = new Map<BlockId, { next: number; delay: number }>();

	constructor(core: SessionCore, start: number) {
		this.#core = core;
		this.#wants = new TokenBucket(WANTS_PER_SECOND, WANTS_PER_SECOND / 1000, start);
	}

	clear(): void {
		this.#wanted.clear();
	}

	/** Asks for missing deps; each id again only after a wait that doubles, so a dep nobody has costs little. */
	requestMissing(): void {
		const core = this.#core;
		const missing = core.ledger.missing();
		if (missing.length === 0 && this.#wanted.size === 0) return;
		const now = core.now();
		const wanted = new Map<BlockId, { next: number; delay: number }>();
		const due: BlockId[] = [];
		for (const id of missing) {
			const entry = this.#wanted.get(id);
			if (entry && entry.next > now) wanted.set(id, entry);
			else if (due.length < MAX_WANT_IDS) {
				const delay = entry ? Math.min(entry.delay * 2, core.retryMs * MAX_BACKOFF_RETRIES) : core.retryMs;
				wanted.set(id, { next: now + delay, delay });
				due.push(id);
			}
		}
		this.#wanted = wanted;
		if (due.length > 0) core.send({ m: 'want', ids: due });
	}

	/** Answers the peer's `want` with the blocks this node holds. */
	async onWant(ids: BlockId[]): Promise<void> {
		const core = this.#core;
		if (!this.#wants.take(core.now())) {
			core.protocolError('want rate limit exceeded');
			return;
		}
		const found = (await core.ledger.store.getMany(ids)).filter((b) => b !== undefined);
		if (core.state() !== 'ready') return;
		core.sendBlocks(found.map((b) => b.bytes));
	}
}
