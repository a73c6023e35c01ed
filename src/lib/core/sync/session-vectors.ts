/**
 * Version vectors on a sync session: what the peer is known to hold (from its vectors and
 * the blocks it sent or was sent), what it claimed itself, the authors it may name
 * (bounded), the point up to which its streams brought only refusals (not asked for
 * again until it claims more), and when this node's own vector goes out again.
 */
import { fromHex } from '../bytes.js';
import type { AuthorId, VersionVector } from '../types.js';
import { HEAD_PREFIX_BYTES } from './messages.js';
import { MAX_BACKOFF_RETRIES, PEER_AUTHOR_SLACK } from './session-limits.js';
import type { SessionCore } from './session-types.js';

export class PeerVectors {
	#core: SessionCore;
	/** What the peer is known to hold (from its vectors and the blocks it sent us). */
	#peerVV: VersionVector = {};
	/** The union of the vectors the peer itself sent: what it really holds, at least. */
	#peerClaimed: VersionVector = {};
	/** Authors the peer has named in its vectors (bounded, see PEER_AUTHOR_SLACK). */
	#peerAuthors = 0;
	/** The heads our last vector described (JSON), to send it again only when they change. */
	#lastVVSent = '';
	#lastVVAt = 0;
	/** Wait between vectors resent because the peer holds more, doubled while its streams bring only refusals. */
	#behindDelay: number;
	/** The peer's vector when a stream from it brought only refusals: what it holds up to there is not asked for again. */
	#refusedUpTo: VersionVector = {};

	constructor(core: SessionCore) {
		this.#core = core;
		this.#behindDelay = core.retryMs;
	}

	/** The peer's known version vector (what it has told us or sent us). */
	get known(): Readonly<VersionVector> {
		return this.#peerVV;
	}

	/** What the peer claimed in its own vectors. */
	get claimed(): Readonly<VersionVector> {
		return this.#peerClaimed;
	}

	/** True when the peer is not known to hold `author`'s block at `seq`. */
	lacks(author: AuthorId, seq: number): boolean {
		return (this.#peerVV[author] ?? -1) < seq;
	}

	/** Records that the peer holds these blocks (it sent them to us, or they were sent to it). */
	noteHeld(blocks: readonly { author: AuthorId; seq: number }[]): void {
		for (const b of blocks) if ((this.#peerVV[b.author] ?? -1) < b.seq) this.#peerVV[b.author] = b.seq;
	}

	/**
	 * Takes in a vector the peer sent: whether it claims anything new, or null when it names
	 * more authors than allowed (the session is closed then).
	 */
	absorb(vv: VersionVector): boolean | null {
		const limit = 2 * this.#core.ledger.heads().length + PEER_AUTHOR_SLACK;
		let fresh = 0;
		for (const a of Object.keys(vv)) if (this.#peerClaimed[a] === undefined) fresh++;
		if (this.#peerAuthors + fresh > limit) {
			this.#core.close(`vector of ${this.#peerAuthors + fresh} authors exceeds the limit of ${limit}`);
			return null;
		}
		this.#peerAuthors += fresh;
		let news = false;
		for (const [a, s] of Object.entries(vv)) {
			if ((this.#peerVV[a] ?? -1) < s) this.#peerVV[a] = s;
			if ((this.#peerClaimed[a] ?? -1) < s) {
				this.#peerClaimed[a] = s;
				news = true;
			}
		}
		return news;
	}

	/**
	 * True when the peer has told us of blocks we do not hold, beyond what it already
	 * sent us only to be refused (asked again once it claims more). Missing deps are not a
	 * reason: they are asked for by id, with backoff (`want`).
	 */
	behindPeer(): boolean {
		const ours = this.#core.ledger.versionVector();
		return Object.entries(this.#peerVV).some(([a, s]) => (ours[a] ?? -1) < s && (this.#refusedUpTo[a] ?? -1) < s);
	}

	/** Sends our vector when it changed since last sent, or always when `force`. */
	sendVV(force: boolean): void {
		const ledger = this.#core.ledger;
		const vv = ledger.versionVector();
		const heads = ledger.heads();
		const key = JSON.stringify(heads);
		if (!force && key === this.#lastVVSent && !this.behindPeer()) return;
		this.#lastVVSent = key;
		this.#lastVVAt = this.#core.now();
		this.#core.send({ m: 'vv', vv, heads: Object.fromEntries(heads.map((h) => [h.author, fromHex(h.id).subarray(0, HEAD_PREFIX_BYTES)])) });
	}

	/** Periodic repair: our vector again when our heads changed, or when the peer holds more (with backoff). */
	tick(now: number): void {
		const changed = JSON.stringify(this.#core.ledger.heads()) !== this.#lastVVSent;
		const wait = changed ? this.#core.retryMs : this.#behindDelay;
		if ((changed || this.behindPeer()) && now - this.#lastVVAt >= wait) this.sendVV(true);
	}

	/** Blocks from the peer were accepted: asking it again needs no backoff. */
	onAccepted(): void {
		this.#behindDelay = this.#core.retryMs;
	}

	/** A stream from the peer brought only refusals: wait longer, and do not ask again for what it holds now. */
	onOnlyRefusals(): void {
		this.#behindDelay = Math.min(this.#behindDelay * 2, this.#core.retryMs * MAX_BACKOFF_RETRIES);
		for (const [a, s] of Object.entries(this.#peerVV)) if ((this.#refusedUpTo[a] ?? -1) < s) this.#refusedUpTo[a] = s;
	}
}
