/**
 * Equivocation on a sync session: every version of an equivocating author's chain
 * reaches the peer, each once per session (shared again, less and less often, in case
 * frames were lost), and where the peer's vector shows another head at our seq, our head
 * goes to it. So versions spread even when the vectors match.
 */
import { toHex } from '../bytes.js';
import type { AuthorId, BlockId, VersionVector } from '../types.js';
import { HEAD_PREFIX_BYTES } from './messages.js';
import { MAX_BACKOFF_RETRIES } from './session-limits.js';
import type { SessionCore } from './session-types.js';

export class ForkSharing {
	#core: SessionCore;
	/** Blocks of equivocating authors from their fork on, sent to this peer (once each). */
	#versionsSent = new Set<BlockId>();
	#forkShareAt = 0;
	#forkShareDelay: number;

	constructor(core: SessionCore) {
		this.#core = core;
		this.#forkShareDelay = core.retryMs;
	}

	/**
	 * Sends every block of an equivocating author from its fork on that this peer was not
	 * sent yet: a version off the chain the vectors describe (neither a head nor below
	 * one the peer lacks) would otherwise reach it only if someone built on it.
	 */
	async share(): Promise<void> {
		const core = this.#core;
		if (core.state() !== 'ready') return;
		const fresh: Uint8Array[] = [];
		for await (const row of core.ledger.forkedBlocks()) {
			if (this.#versionsSent.has(row.id)) continue;
			this.#versionsSent.add(row.id);
			fresh.push(row.bytes);
		}
		if (fresh.length > 0 && core.state() === 'ready') core.sendBlocks(fresh);
	}

	/** Frames carrying another version may have been lost: share them all again, less and less often. */
	tick(now: number): void {
		const core = this.#core;
		if (now >= this.#forkShareAt && core.ledger.flaggedAuthors().length > 0) {
			this.#forkShareDelay = Math.min(this.#forkShareDelay * 2, core.retryMs * MAX_BACKOFF_RETRIES);
			this.#forkShareAt = now + this.#forkShareDelay;
			this.#versionsSent.clear();
			void this.share();
		}
	}

	/**
	 * Where the peer is at our seq with another head, it holds another version of that
	 * author's chain: our head goes to it (once per version per session); what its `prev`
	 * needs, the peer asks for by id.
	 */
	async offerOtherVersions(peerHeads: Record<AuthorId, Uint8Array> | undefined, vv: VersionVector): Promise<void> {
		if (!peerHeads) return;
		const core = this.#core;
		const ours = core.ledger.heads().filter((h) => {
			const theirs = peerHeads[h.author];
			return (
				theirs !== undefined &&
				vv[h.author] === h.seq &&
				toHex(theirs) !== h.id.slice(0, HEAD_PREFIX_BYTES * 2) &&
				!this.#versionsSent.has(h.id)
			);
		});
		if (ours.length === 0) return;
		for (const h of ours) this.#versionsSent.add(h.id);
		const rows = (await core.ledger.store.getMany(ours.map((h) => h.id))).filter((r) => r !== undefined);
		if (core.state() === 'ready') core.sendBlocks(rows.map((r) => r.bytes));
	}
}
