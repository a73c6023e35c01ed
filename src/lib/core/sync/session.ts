/**
 * One sync session: the protocol between this node's ledger and one peer over one link.
 *
 * hello (version, network, author, nonce) → auth (signature over both hellos and the
 * link) → version vectors → each side streams what the other lacks (offer, blocks/parts,
 * end), paced by the receiver's acks → live gossip of new blocks → wants for missing deps,
 * with backoff. Anti-entropy on `tick()` (resent hello, fresh vector) repairs lost
 * frames, so the protocol converges over lossy, duplicating, reordering links too; every
 * cost a peer can cause is bounded, and a peer past a bound is disconnected with a
 * reason that names the bound. See docs/protocol.md.
 *
 * This class holds the session's state and frame dispatch; its parts live beside it:
 * session-handshake.ts (hello, auth, admission), session-vectors.ts (what the peer
 * holds), session-outgoing.ts (the stream sent, flow control), session-incoming.ts (the
 * inbox, validation, budgets), session-wants.ts (missing deps) and session-forks.ts
 * (equivocating authors' versions).
 */
import type { Block, VersionVector, AuthorId } from '../types.js';
import type { Link } from './link.js';
import { ProtocolError, decodeMessage, encodeMessage, type Message } from './messages.js';
import { JOINS_PER_MINUTE, MAX_PROTOCOL_ERRORS, MAX_QUEUED_FRAMES } from './session-limits.js';
import type { SessionCore, SessionEvent, SessionOptions, SessionState, SessionStats } from './session-types.js';
import { framesFor } from './block-parts.js';
import { TokenBucket } from './token-bucket.js';
import { Handshake } from './session-handshake.js';
import { PeerVectors } from './session-vectors.js';
import { OutgoingStream } from './session-outgoing.js';
import { IncomingStream } from './session-incoming.js';
import { Wants } from './session-wants.js';
import { ForkSharing } from './session-forks.js';

export class SyncSession {
	readonly label: string;
	readonly stats: SessionStats = {
		framesIn: 0,
		framesOut: 0,
		bytesIn: 0,
		bytesOut: 0,
		blocksIn: 0,
		blocksOut: 0,
		accepted: 0,
		protocolErrors: 0,
		rejected: {}
	};
	#link: Link;
	#now: () => number;
	#retryMs: number;
	#listeners = new Set<(event: SessionEvent) => void>();

	/**
	 * 'guest': this node refused the peer; 'refused': the peer refused this node. In both
	 * the link stays open and only the handshake, `join`, `join-reply`, `denied` and `bye`
	 * count; a membership change (see {@link recheck}) or the peer's vector ends them.
	 */
	#state: SessionState = 'handshake';
	#joins: TokenBucket;
	#handshake: Handshake;
	#vectors: PeerVectors;
	#out: OutgoingStream;
	#in: IncomingStream;
	#wants: Wants;
	#forks: ForkSharing;
	#stopForks: () => void;
	#frames: Promise<void> = Promise.resolve();
	#queuedFrames = 0;
	lastSeen = 0;
	readonly connectedAt: number;

	constructor(options: SessionOptions) {
		const ledger = options.ledger;
		this.#link = options.link;
		this.label = options.label;
		this.#now = options.now ?? Date.now;
		const random = options.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
		this.#retryMs = options.retryMs ?? 2000;
		const nonce = random(32);
		this.connectedAt = this.#now();
		const start = this.connectedAt;
		const core: SessionCore = {
			ledger,
			link: this.#link,
			label: this.label,
			retryMs: this.#retryMs,
			stats: this.stats,
			state: () => this.#state,
			setState: (state) => {
				this.#state = state;
			},
			now: () => this.#now(),
			send: (msg) => this.#send(msg),
			sendBlocks: (list) => this.#sendBlocks(list),
			emit: (event) => this.#emit(event),
			protocolError: (detail) => this.#protocolError(detail),
			close: (reason) => this.close(reason)
		};
		this.#joins = new TokenBucket(JOINS_PER_MINUTE, JOINS_PER_MINUTE / 60_000, start);
		this.#vectors = new PeerVectors(core);
		this.#out = new OutgoingStream(core, options.window ?? 2000);
		this.#wants = new Wants(core, start);
		this.#forks = new ForkSharing(core);
		this.#handshake = new Handshake(
			core,
			{ sendVV: (force) => this.#vectors.sendVV(force), stopStream: () => this.#out.stop() },
			nonce,
			start
		);
		this.#in = new IncomingStream(
			core,
			{
				accepted: () => this.#vectors.onAccepted(),
				requestMissing: () => this.#wants.requestMissing(),
				streamDone: (onlyRefusals) => {
					if (onlyRefusals) this.#vectors.onOnlyRefusals();
					if (this.#vectors.behindPeer() && !onlyRefusals) this.#vectors.sendVV(true);
				}
			},
			options.batch ?? 500,
			start
		);
		this.#link.onFrame = (frame) => this.#onFrame(frame);
		this.#link.onClose = () => this.#closed('link closed');
		this.#stopForks = ledger.on('equivocation', () => void this.#forks.share());
	}

	get state() {
		return this.#state;
	}

	/** The key the peer claims in its hello; proven only once {@link authenticated}. */
	get peerAuthor(): AuthorId | null {
		return this.#handshake.peerAuthor;
	}

	/** True once the peer's handshake answer was verified on this link. */
	get authenticated(): boolean {
		return this.#handshake.authenticated;
	}

	get linkKind() {
		return this.#link.kind;
	}

	/** Round-trip time of the link (ms), where its transport measures one; null otherwise. */
	roundTripMs(): Promise<number | null> {
		return this.#link.roundTripMs?.() ?? Promise.resolve(null);
	}

	/** The peer's known version vector (what it has told us or sent us). */
	get peerVersionVector(): Readonly<VersionVector> {
		return this.#vectors.known;
	}

	/** Catch-up progress of the stream this node is receiving. */
	get progress() {
		return this.#in.progress;
	}

	on(listener: (event: SessionEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	#emit(event: SessionEvent): void {
		for (const l of this.#listeners) l(event);
	}

	/** Starts the handshake. */
	start(): void {
		this.#handshake.sendHello();
	}

	/** Why the peer refuses this node, while it does (state 'refused'). */
	get deniedBy(): string | null {
		return this.#handshake.deniedBy;
	}

	/**
	 * Re-judges the peer after this node's roster changed: a guest that is a member now
	 * is admitted (our vector tells it so); a peer no longer a member becomes a guest.
	 */
	recheck(): void {
		this.#handshake.recheck();
	}

	/** Sends application data to a peer that refused this node (e.g. a join request). */
	sendJoin(data: Uint8Array): boolean {
		return this.#send({ m: 'join', data });
	}

	/** Answers a guest's `join`. */
	sendJoinReply(data: Uint8Array): boolean {
		return this.#send({ m: 'join-reply', data });
	}

	/** Periodic repair: resend what may have been lost. Call every second or so. */
	tick(): void {
		if (this.#state === 'closed') return;
		const now = this.#now();
		this.#in.expireParts(now);
		if (this.#state === 'handshake') {
			if (now - this.#handshake.helloAt >= this.#retryMs) this.#handshake.sendHello();
			return;
		}
		// Refused: a hello now and then asks the peer to look again (and repairs a lost vector).
		if (this.#state === 'refused') {
			if (now - this.#handshake.helloAt >= this.#retryMs * 5) this.#handshake.sendHello();
			return;
		}
		if (this.#state === 'guest') return;
		this.#out.tick(now);
		// Not while blocks received are still being validated (the sender may send `end` up
		// to a window ahead of our acks): a vector sent now would restart the stream and
		// bring those blocks a second time. Nor while a stream is still arriving.
		if (this.#in.busy) return;
		this.#wants.requestMissing();
		this.#forks.tick(now);
		if (this.#in.receiving(now, this.lastSeen)) return;
		this.#vectors.tick(now);
	}

	close(reason = 'closed'): void {
		if (this.#state === 'closed') return;
		this.#send({ m: 'bye', reason: reason.slice(0, 200) });
		this.#closed(reason);
		this.#link.close();
	}

	#closed(reason: string): void {
		if (this.#state === 'closed') return;
		this.#state = 'closed';
		this.#out.stop();
		// What waits for validation is dropped: nobody will ack it, and a pump that saw it
		// after the close would start again for ever.
		this.#in.clear();
		this.#wants.clear();
		this.#stopForks();
		this.#emit({ type: 'closed', reason });
	}

	#send(msg: Message): boolean {
		if (!this.#link.open) return false;
		const frame = encodeMessage(msg);
		try {
			this.#link.send(frame);
		} catch {
			this.#closed('send failed');
			return false;
		}
		this.stats.framesOut++;
		this.stats.bytesOut += frame.length;
		return true;
	}

	/** Sends blocks packed into as few frames as fit; a block larger than a frame goes in parts. */
	#sendBlocks(list: readonly Uint8Array[]): void {
		for (const msg of framesFor(list)) this.#send(msg);
	}

	#protocolError(detail: string): void {
		this.stats.protocolErrors++;
		this.#emit({ type: 'log', message: `protocol error from ${this.label}: ${detail}` });
		if (this.stats.protocolErrors > MAX_PROTOCOL_ERRORS) this.close(`too many protocol errors (last: ${detail})`);
	}

	#onFrame(frame: Uint8Array): void {
		if (this.#state === 'closed') return;
		this.stats.framesIn++;
		this.stats.bytesIn += frame.length;
		this.lastSeen = this.#now();
		let msg: Message;
		try {
			msg = decodeMessage(frame);
		} catch (error) {
			this.#protocolError(error instanceof ProtocolError ? error.message : String(error));
			return;
		}
		if (++this.#queuedFrames > MAX_QUEUED_FRAMES) {
			this.close(`flooding: more than ${MAX_QUEUED_FRAMES} frames waiting to be handled`);
			return;
		}
		// One frame at a time: a vector must not overtake the auth still being verified.
		this.#frames = this.#frames
			.then(() => (this.#state === 'closed' ? undefined : this.#handle(msg)))
			.catch((error: unknown) =>
				this.#emit({ type: 'log', message: `error handling ${msg.m} from ${this.label}: ${(error as Error).message}` })
			)
			.finally(() => this.#queuedFrames--);
	}

	async #handle(msg: Message): Promise<void> {
		if (msg.m === 'bye') {
			this.#emit({ type: 'log', message: `${this.label} said bye: ${msg.reason}` });
			this.#closed(`peer left: ${msg.reason}`);
			this.#link.close();
			return;
		}
		if (msg.m === 'hello') return this.#handshake.onHello(msg);
		if (msg.m === 'auth') return this.#handshake.onAuth(msg);
		if (msg.m === 'denied') return this.#handshake.onDenied(msg.reason);
		if (msg.m === 'join' || msg.m === 'join-reply') {
			if (!this.#handshake.authenticated) return this.#protocolError(`${msg.m} before the handshake completed`);
			if (msg.m === 'join' && !this.#joins.take(this.#now())) return this.#protocolError('join requests too often');
			this.#emit({ type: msg.m, data: msg.data });
			return;
		}
		// A guest's frames are not for us; a vector from a peer that refused us says it admitted us.
		if (this.#state === 'guest') return;
		if (this.#state === 'refused' && msg.m === 'vv') this.#handshake.onAdmittedByPeer();
		if (this.#state === 'refused') return;
		if (this.#state !== 'ready') {
			this.#protocolError(`${msg.m} before the handshake completed`);
			return;
		}
		switch (msg.m) {
			case 'vv':
				this.#onVV(msg.vv);
				await this.#forks.offerOtherVersions(msg.heads, msg.vv);
				return this.#forks.share();
			case 'offer':
				return this.#in.onOffer(msg.count);
			case 'blocks':
				for (const item of msg.items) this.#in.enqueue(item);
				return;
			case 'part':
				return this.#in.onPart(msg);
			case 'end':
				return this.#in.onEnd();
			case 'ack':
				return this.#out.onAck(msg.n);
			case 'want':
				return this.#wants.onWant(msg.ids);
		}
	}

	#onVV(vv: VersionVector): void {
		const news = this.#vectors.absorb(vv);
		if (news === null) return;
		this.#out.afterVector(news, this.#vectors.claimed);
		// One stream at a time: a vector that tells nothing new leaves the stream in flight alone.
		if (news || !this.#out.streaming) void this.#out.stream(this.#vectors.claimed);
		// If the peer holds blocks we lack, our vector tells it what to send: once per vector
		// that brings news. Answering every vector while behind made two peers each behind the
		// other bounce vectors until the blocks were validated (a storm; a frozen page over a
		// link that delivers in microtasks); `tick` asks again, with backoff, if no stream comes.
		if (news && this.#vectors.behindPeer()) this.#vectors.sendVV(false);
	}

	/** Live gossip: forwards new blocks the peer is not known to hold. */
	gossip(blocks: readonly Block[]): void {
		if (this.#state !== 'ready') return;
		const fresh = blocks.filter((b) => this.#vectors.lacks(b.author, b.seq));
		if (fresh.length === 0) return;
		this.#sendBlocks(fresh.map((b) => b.bytes));
		// Optimistic: if the frames are lost, the peer's next vector brings them back.
		this.noteHeld(fresh);
		this.#out.noteSent(fresh);
	}

	/** Records that the peer holds these blocks (it sent them to us). */
	noteHeld(blocks: readonly Block[]): void {
		this.#vectors.noteHeld(blocks);
	}
}
