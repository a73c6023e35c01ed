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
 */
import { fromHex, toHex } from '../bytes.js';
import { challengeDigest, type HandshakeTranscript } from '../challenge.js';
import type { ReasonCode } from '../errors.js';
import type { Block, BlockId, VersionVector, AuthorId } from '../types.js';
import type { StoredBlock } from '../storage/store.js';
import type { Ledger, Rejection } from '../ledger.js';
import type { Link } from './link.js';
import {
	HEAD_PREFIX_BYTES,
	MAX_WANT_IDS,
	PROTOCOL_VERSION,
	ProtocolError,
	decodeMessage,
	encodeMessage,
	type Message
} from './messages.js';
import {
	BATCH_BYTES,
	DUPLICATE_BURST,
	DUPLICATES_PER_SECOND,
	FRAME_PAYLOAD,
	HELLO_BURST,
	HELLOS_PER_SECOND,
	JOINS_PER_MINUTE,
	MAX_BACKOFF_RETRIES,
	MAX_BAD_BLOCKS,
	MAX_INBOX_BLOCKS,
	MAX_INBOX_BYTES,
	MAX_PROTOCOL_ERRORS,
	MAX_QUEUED_FRAMES,
	PARTS_TIMEOUT_RETRIES,
	PEER_AUTHOR_SLACK,
	WANTS_PER_SECOND
} from './session-limits.js';
import type { SessionEvent, SessionOptions, SessionStats } from './session-types.js';
import { framesFor, PartsAssembler } from './block-parts.js';
import { TokenBucket } from './token-bucket.js';

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
	#ledger: Ledger;
	#link: Link;
	#now: () => number;
	#random: (n: number) => Uint8Array;
	#retryMs: number;
	#window: number;
	#batch: number;
	#listeners = new Set<(event: SessionEvent) => void>();

	/**
	 * 'guest': this node refused the peer; 'refused': the peer refused this node. In both
	 * the link stays open and only the handshake, `join`, `join-reply`, `denied` and `bye`
	 * count; a membership change (see {@link recheck}) or the peer's vector ends them.
	 */
	#state: 'handshake' | 'ready' | 'guest' | 'refused' | 'closed' = 'handshake';
	/** Why the peer refused this node, while it does. */
	#deniedBy: string | null = null;
	/** Admitted after being a guest: its hellos (asking again) are answered with our vector. */
	#wasGuest = false;
	#joins: TokenBucket;
	#hellos: TokenBucket;
	#wants: TokenBucket;
	#duplicates: TokenBucket;
	#nonce: Uint8Array;
	#peer: { author: AuthorId; nonce: Uint8Array } | null = null;
	/** Our answer to the peer's hello, signed once per session and resent as is. */
	#authSig: Promise<Uint8Array> | null = null;
	#authed = false;
	#helloAt = 0;
	/** What the peer is known to hold (from its vectors and the blocks it sent us). */
	#peerVV: VersionVector = {};
	/** The union of the vectors the peer itself sent: what it really holds, at least. */
	#peerClaimed: VersionVector = {};
	/** Authors the peer has named in its vectors (bounded, see PEER_AUTHOR_SLACK). */
	#peerAuthors = 0;
	#streaming = false;
	/** Highest seq per author sent to the peer on this session (streams and gossip): never streamed twice unless repaired. */
	#sentTo: VersionVector = {};
	#lastSentAt = -Infinity;
	/** Wait after the last block sent before a vector that still lacks it has it sent again. */
	#repairDelay: number;
	/** The heads our last vector described (JSON), to send it again only when they change. */
	#lastVVSent = '';
	/** Blocks of equivocating authors from their fork on, sent to this peer (once each). */
	#versionsSent = new Set<BlockId>();
	#stopForks: () => void;
	#forkShareAt = 0;
	#forkShareDelay: number;
	#lastVVAt = 0;
	/** Wait between vectors resent because the peer holds more, doubled while its streams bring only refusals. */
	#behindDelay: number;
	/** The peer's vector when a stream from it brought only refusals: what it holds up to there is not asked for again. */
	#refusedUpTo: VersionVector = {};
	/** Missing deps asked for, with when to ask again (doubling). */
	#wanted = new Map<BlockId, { next: number; delay: number }>();

	// Sending side of a stream
	#generation = 0;
	#sent = 0;
	#acked = 0;
	#ackAt = 0;
	#ackWaiters: (() => void)[] = [];

	// Receiving side
	#inbox: Uint8Array[] = [];
	#inboxBytes = 0;
	/** Ids in the inbox or being validated: a second copy is a duplicate, never validated twice. */
	#inflight = new Set<string>();
	#processing: Promise<void> | null = null;
	#processed = 0;
	#expected = 0;
	#received = 0;
	#streamOpen = false;
	#parts = new PartsAssembler();
	#badBlocks = 0;
	/** Copies of stored blocks received on this session. */
	#storedDuplicates = 0;
	#frames: Promise<void> = Promise.resolve();
	#queuedFrames = 0;
	/** An auth that arrived before the hello it answers (our first hello was lost). */
	#earlyAuth: Uint8Array | null = null;
	/** Blocks accepted and refused since the last offer: a stream that brought only refusals is not asked for again at once. */
	#streamAccepted = 0;
	#streamRefused = 0;
	lastSeen = 0;
	readonly connectedAt: number;

	constructor(options: SessionOptions) {
		this.#ledger = options.ledger;
		this.#link = options.link;
		this.label = options.label;
		this.#now = options.now ?? Date.now;
		this.#random = options.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
		this.#retryMs = options.retryMs ?? 2000;
		this.#window = options.window ?? 2000;
		this.#batch = options.batch ?? 500;
		this.#repairDelay = this.#retryMs * 2;
		this.#behindDelay = this.#retryMs;
		this.#nonce = this.#random(32);
		this.connectedAt = this.#now();
		const start = this.connectedAt;
		this.#joins = new TokenBucket(JOINS_PER_MINUTE, JOINS_PER_MINUTE / 60_000, start);
		this.#hellos = new TokenBucket(HELLO_BURST, HELLOS_PER_SECOND / 1000, start);
		this.#wants = new TokenBucket(WANTS_PER_SECOND, WANTS_PER_SECOND / 1000, start);
		this.#duplicates = new TokenBucket(DUPLICATE_BURST, DUPLICATES_PER_SECOND / 1000, start);
		this.#link.onFrame = (frame) => this.#onFrame(frame);
		this.#link.onClose = () => this.#closed('link closed');
		this.#forkShareDelay = this.#retryMs;
		this.#stopForks = this.#ledger.on('equivocation', () => void this.#shareForks());
	}

	get state() {
		return this.#state;
	}

	/** The key the peer claims in its hello; proven only once {@link authenticated}. */
	get peerAuthor(): AuthorId | null {
		return this.#peer?.author ?? null;
	}

	/** True once the peer's handshake answer was verified on this link. */
	get authenticated(): boolean {
		return this.#authed;
	}

	get linkKind() {
		return this.#link.kind;
	}

	/** The peer's known version vector (what it has told us or sent us). */
	get peerVersionVector(): Readonly<VersionVector> {
		return this.#peerVV;
	}

	/** Catch-up progress of the stream this node is receiving. */
	get progress() {
		return { received: this.#received, expected: this.#expected, streaming: this.#streamOpen };
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
		this.#sendHello();
	}

	/** Why the peer refuses this node, while it does (state 'refused'). */
	get deniedBy(): string | null {
		return this.#deniedBy;
	}

	/**
	 * Re-judges the peer after this node's roster changed: a guest that is a member now
	 * is admitted (our vector tells it so); a peer no longer a member becomes a guest.
	 */
	recheck(): void {
		const peer = this.#peer;
		if (!peer || !this.#authed) return;
		const member = this.#isMember(peer.author);
		if (this.#state === 'guest' && member) this.#admit(peer.author);
		else if ((this.#state === 'ready' || this.#state === 'refused') && !member) this.#refuse(peer.author, 'NOT_A_MEMBER');
	}

	/** Sends application data to a peer that refused this node (e.g. a join request). */
	sendJoin(data: Uint8Array): boolean {
		return this.#send({ m: 'join', data });
	}

	/** Answers a guest's `join`. */
	sendJoinReply(data: Uint8Array): boolean {
		return this.#send({ m: 'join-reply', data });
	}

	#isMember(author: AuthorId): boolean {
		const roster = this.#ledger.roster();
		// A node that holds no roster yet (joining) cannot judge; it verifies every block anyway.
		return roster.size === 0 || roster.has(author);
	}

	#admit(author: AuthorId): void {
		this.#wasGuest = true;
		const wasRefused = this.#deniedBy !== null;
		this.#state = wasRefused ? 'refused' : 'ready';
		if (!wasRefused) this.#emit({ type: 'ready', author });
		// Our vector is also how a peer we refused learns that it may sync now.
		this.#sendVV(true);
	}

	#refuse(author: AuthorId, reason: string): void {
		this.#state = 'guest';
		this.#generation++; // stops a stream in progress
		this.#wakeSender();
		this.#send({ m: 'denied', reason });
		this.#emit({ type: 'guest', author, reason });
	}

	/** Periodic repair: resend what may have been lost. Call every second or so. */
	tick(): void {
		if (this.#state === 'closed') return;
		const now = this.#now();
		this.#expireParts(now);
		if (this.#state === 'handshake') {
			if (now - this.#helloAt >= this.#retryMs) this.#sendHello();
			return;
		}
		// Refused: a hello now and then asks the peer to look again (and repairs a lost vector).
		if (this.#state === 'refused') {
			if (now - this.#helloAt >= this.#retryMs * 5) this.#sendHello();
			return;
		}
		if (this.#state === 'guest') return;
		if (this.#sent > this.#acked && now - this.#ackAt >= this.#retryMs * 2) {
			// Acks were lost: stop waiting for them rather than stall.
			this.#acked = this.#sent;
			this.#wakeSender();
		}
		// Not while blocks received are still being validated (the sender may send `end` up
		// to a window ahead of our acks): a vector sent now would restart the stream and
		// bring those blocks a second time. Nor while a stream is still arriving.
		if (this.#processing !== null || this.#inbox.length > 0) return;
		this.#requestMissing();
		if (now >= this.#forkShareAt && this.#ledger.flaggedAuthors().length > 0) {
			// Frames carrying another version may have been lost: share them all again, less and less often.
			this.#forkShareDelay = Math.min(this.#forkShareDelay * 2, this.#retryMs * MAX_BACKOFF_RETRIES);
			this.#forkShareAt = now + this.#forkShareDelay;
			this.#versionsSent.clear();
			void this.#shareForks();
		}
		const receiving = this.#streamOpen && now - this.lastSeen < this.#retryMs * 2;
		if (receiving) return;
		const changed = JSON.stringify(this.#ledger.heads()) !== this.#lastVVSent;
		const wait = changed ? this.#retryMs : this.#behindDelay;
		if ((changed || this.#behindPeer()) && now - this.#lastVVAt >= wait) this.#sendVV(true);
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
		this.#generation++;
		this.#wakeSender();
		// What waits for validation is dropped: nobody will ack it, and a pump that saw it
		// after the close would start again for ever.
		this.#inbox = [];
		this.#inboxBytes = 0;
		this.#inflight.clear();
		this.#parts.clear();
		this.#wanted.clear();
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

	#sendHello(): void {
		this.#helloAt = this.#now();
		const author = this.#ledger.author;
		if (!author) throw new Error('sync needs a node with a signing key');
		this.#send({ m: 'hello', v: PROTOCOL_VERSION, net: this.#ledger.net, author, nonce: this.#nonce });
	}

	/** Sends our vector when it changed since last sent, or always when `force`. */
	#sendVV(force: boolean): void {
		const vv = this.#ledger.versionVector();
		const heads = this.#ledger.heads();
		const key = JSON.stringify(heads);
		if (!force && key === this.#lastVVSent && !this.#behindPeer()) return;
		this.#lastVVSent = key;
		this.#lastVVAt = this.#now();
		this.#send({ m: 'vv', vv, heads: Object.fromEntries(heads.map((h) => [h.author, fromHex(h.id).subarray(0, HEAD_PREFIX_BYTES)])) });
	}

	/**
	 * Equivocation: where the peer is at our seq with another head, it holds another
	 * version of that author's chain. Our head goes to it (once per version per session);
	 * what its `prev` needs, the peer asks for by id. So versions spread even when the
	 * vectors match.
	 */
	/**
	 * Sends every block of an equivocating author from its fork on that this peer was not
	 * sent yet: a version off the chain the vectors describe (neither a head nor below
	 * one the peer lacks) would otherwise reach it only if someone built on it.
	 */
	async #shareForks(): Promise<void> {
		if (this.#state !== 'ready') return;
		const fresh: Uint8Array[] = [];
		for await (const row of this.#ledger.forkedBlocks()) {
			if (this.#versionsSent.has(row.id)) continue;
			this.#versionsSent.add(row.id);
			fresh.push(row.bytes);
		}
		if (fresh.length > 0 && this.#state === 'ready') this.#sendBlocks(fresh);
	}

	async #offerOtherVersions(peerHeads: Record<AuthorId, Uint8Array> | undefined, vv: VersionVector): Promise<void> {
		if (!peerHeads) return;
		const ours = this.#ledger.heads().filter((h) => {
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
		const rows = (await this.#ledger.store.getMany(ours.map((h) => h.id))).filter((r) => r !== undefined);
		if (this.#state === 'ready') this.#sendBlocks(rows.map((r) => r.bytes));
	}

	/**
	 * True when the peer has told us of blocks we do not hold, beyond what it already
	 * sent us only to be refused (asked again once it claims more). Missing deps are not a
	 * reason: they are asked for by id, with backoff (`want`).
	 */
	#behindPeer(): boolean {
		const ours = this.#ledger.versionVector();
		return Object.entries(this.#peerVV).some(([a, s]) => (ours[a] ?? -1) < s && (this.#refusedUpTo[a] ?? -1) < s);
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
		if (msg.m === 'hello') return this.#onHello(msg);
		if (msg.m === 'auth') return this.#onAuth(msg);
		if (msg.m === 'denied') return this.#onDenied(msg.reason);
		if (msg.m === 'join' || msg.m === 'join-reply') {
			if (!this.#authed) return this.#protocolError(`${msg.m} before the handshake completed`);
			if (msg.m === 'join' && !this.#joins.take(this.#now())) return this.#protocolError('join requests too often');
			this.#emit({ type: msg.m, data: msg.data });
			return;
		}
		// A guest's frames are not for us; a vector from a peer that refused us says it admitted us.
		if (this.#state === 'guest') return;
		if (this.#state === 'refused' && msg.m === 'vv') {
			this.#deniedBy = null;
			this.#state = 'ready';
			this.#emit({ type: 'ready', author: this.#peer!.author });
		}
		if (this.#state === 'refused') return;
		if (this.#state !== 'ready') {
			this.#protocolError(`${msg.m} before the handshake completed`);
			return;
		}
		switch (msg.m) {
			case 'vv':
				this.#onVV(msg.vv);
				await this.#offerOtherVersions(msg.heads, msg.vv);
				return this.#shareForks();
			case 'offer':
				this.#streamAccepted = 0;
				this.#streamRefused = 0;
				this.#expected = msg.count;
				this.#received = 0;
				this.#streamOpen = msg.count > 0;
				this.#emit({ type: 'progress', received: 0, expected: msg.count });
				return;
			case 'blocks':
				for (const item of msg.items) this.#enqueue(item);
				return;
			case 'part':
				return this.#onPart(msg);
			case 'end':
				this.#streamOpen = false;
				this.#afterStream();
				return;
			case 'ack':
				if (msg.n > this.#acked && msg.n <= this.#sent) {
					this.#acked = msg.n;
					this.#ackAt = this.#now();
					this.#wakeSender();
				}
				return;
			case 'want':
				return this.#onWant(msg.ids);
		}
	}

	/** Both hellos, as both ends see them, and this link's binding. */
	#transcript(peer: { author: AuthorId; nonce: Uint8Array }): HandshakeTranscript {
		const binding = this.#link.channelBinding;
		return {
			net: this.#ledger.net,
			parties: [{ author: this.#ledger.author!, nonce: this.#nonce }, peer],
			...(binding ? { binding } : {})
		};
	}

	async #onHello(msg: Extract<Message, { m: 'hello' }>): Promise<void> {
		// Each hello may cost a frame back; past the budget they are dropped unanswered
		// (an honest peer resends every retry period, so nothing is lost).
		if (!this.#hellos.take(this.#now())) return;
		if (msg.v !== PROTOCOL_VERSION) {
			this.close(`unsupported protocol version ${msg.v}`);
			return;
		}
		if (msg.net !== this.#ledger.net) {
			this.close('WRONG_NETWORK');
			return;
		}
		if (msg.author === this.#ledger.author) {
			// Our own hello reflected back, or a copy of this node: never sync with it.
			this.close("SELF_CONNECTION: the peer claims this node's own key");
			return;
		}
		if (this.#peer && (this.#peer.author !== msg.author || toHex(this.#peer.nonce) !== toHex(msg.nonce))) {
			this.#protocolError('hello changed author or nonce');
			return;
		}
		if (!this.#peer) {
			this.#peer = { author: msg.author, nonce: msg.nonce };
			// Signed once, now that both hellos are known; a repeated hello gets the same answer.
			this.#authSig = this.#ledger.signChallenge(this.#transcript(this.#peer));
		}
		this.#send({ m: 'auth', sig: await this.#authSig! });
		// A repeated hello means ours or our auth may have been lost.
		if (!this.#authed) this.#sendHello();
		// From a guest: it asks to be looked at again. From a peer that refused us and was
		// then admitted... our vector may have been lost: send it again.
		else if (this.#state === 'guest') this.recheck();
		else if (this.#state === 'ready' && this.#wasGuest) this.#sendVV(true);
		const early = this.#earlyAuth;
		this.#earlyAuth = null;
		if (early && !this.#authed) await this.#onAuth({ m: 'auth', sig: early });
	}

	async #onAuth(msg: Extract<Message, { m: 'auth' }>): Promise<void> {
		const peer = this.#peer;
		if (!peer) {
			this.#earlyAuth = msg.sig;
			return;
		}
		if (this.#authed) return;
		const ok = await this.#ledger.verifySignature(msg.sig, challengeDigest(this.#transcript(peer), peer.author), fromHex(peer.author));
		if (this.#state === 'closed' || this.#authed) return;
		if (!ok) {
			this.close(`BAD_SIGNATURE: the handshake answer of ${peer.author.slice(0, 8)} was not made on this link (relayed or forged)`);
			return;
		}
		this.#authed = true;
		if (!this.#isMember(peer.author)) {
			this.#refuse(peer.author, 'NOT_A_MEMBER');
			return;
		}
		if (this.#deniedBy !== null) {
			this.#state = 'refused';
			this.#sendVV(true);
			return;
		}
		this.#state = 'ready';
		this.#emit({ type: 'ready', author: peer.author });
		this.#sendVV(true);
	}

	#onDenied(reason: string): void {
		const first = this.#deniedBy === null;
		this.#deniedBy = reason;
		if (this.#state === 'ready' || this.#state === 'handshake') {
			if (this.#state === 'ready') {
				this.#generation++;
				this.#wakeSender();
			}
			this.#state = this.#authed ? 'refused' : this.#state;
		}
		if (first) this.#emit({ type: 'refused', reason });
	}

	#onVV(vv: VersionVector): void {
		const limit = 2 * this.#ledger.heads().length + PEER_AUTHOR_SLACK;
		let fresh = 0;
		for (const a of Object.keys(vv)) if (this.#peerClaimed[a] === undefined) fresh++;
		if (this.#peerAuthors + fresh > limit) {
			this.close(`vector of ${this.#peerAuthors + fresh} authors exceeds the limit of ${limit}`);
			return;
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
		const now = this.#now();
		if (news) this.#repairDelay = this.#retryMs * 2;
		else if (!this.#streaming && now - this.#lastSentAt >= this.#repairDelay && this.#sentBeyondClaimed()) {
			// The peer still lacks blocks sent a while ago (frames lost, or refused): send
			// them once more, and wait twice as long before the next time.
			this.#sentTo = {};
			this.#repairDelay = Math.min(this.#repairDelay * 2, this.#retryMs * MAX_BACKOFF_RETRIES);
		}
		// One stream at a time: a vector that tells nothing new leaves the stream in flight alone.
		if (news || !this.#streaming) void this.#stream();
		// If the peer holds blocks we lack, our vector tells it what to send.
		if (this.#behindPeer()) this.#sendVV(false);
	}

	#sentBeyondClaimed(): boolean {
		return Object.entries(this.#sentTo).some(([a, s]) => (this.#peerClaimed[a] ?? -1) < s);
	}

	/** Streams what the peer lacks and was not already sent on this session; a newer vector restarts it. */
	async #stream(): Promise<void> {
		const generation = ++this.#generation;
		const from: VersionVector = { ...this.#peerClaimed };
		for (const [a, s] of Object.entries(this.#sentTo)) if ((from[a] ?? -1) < s) from[a] = s;
		this.#streaming = true;
		try {
			await this.#streamFrom(from, generation);
		} finally {
			if (generation === this.#generation) this.#streaming = false;
		}
	}

	async #streamFrom(from: VersionVector, generation: number): Promise<void> {
		const heads = this.#ledger.heads();
		let count = 0;
		for (const h of heads) count += Math.max(0, h.seq - (from[h.author] ?? -1));
		if (count === 0) return;
		if (!this.#send({ m: 'offer', count })) return;
		let pending: StoredBlock[] = [];
		let pendingBytes = 0;
		const flush = async () => {
			this.#sendBlocks(pending.map((b) => b.bytes));
			this.#noteSent(pending);
			pending = [];
			pendingBytes = 0;
			if (this.#link.bufferedAmount > 1024 * 1024) await this.#link.drained();
		};
		const live = () => generation === this.#generation && this.#state === 'ready';
		for (const head of heads) {
			let next = (from[head.author] ?? -1) + 1;
			while (next <= head.seq) {
				const page = await this.#ledger.store.range(head.author, next, 500);
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
					this.stats.blocksOut++;
				}
				next = page[page.length - 1]!.seq + 1;
			}
		}
		if (!live()) return;
		await flush();
		if (generation === this.#generation) this.#send({ m: 'end' });
	}

	#noteSent(blocks: readonly { author: AuthorId; seq: number }[]): void {
		if (blocks.length === 0) return;
		for (const b of blocks) if ((this.#sentTo[b.author] ?? -1) < b.seq) this.#sentTo[b.author] = b.seq;
		this.#lastSentAt = this.#now();
	}

	#wakeSender(): void {
		const waiters = this.#ackWaiters;
		this.#ackWaiters = [];
		for (const w of waiters) w();
	}

	/** Sends blocks packed into as few frames as fit; a block larger than a frame goes in parts. */
	#sendBlocks(list: readonly Uint8Array[]): void {
		for (const msg of framesFor(list)) this.#send(msg);
	}

	#onPart(msg: Extract<Message, { m: 'part' }>): void {
		const result = this.#parts.add(msg, this.#now());
		if (result === null) return;
		if ('problem' in result) this.#protocolError(result.problem);
		else this.#enqueue(result.whole);
	}

	/** Drops blocks in parts that stopped arriving: their pieces would otherwise be held for ever. */
	#expireParts(now: number): void {
		for (const { id, have, total, ageMs } of this.#parts.expire(now, this.#retryMs * PARTS_TIMEOUT_RETRIES)) {
			this.#emit({
				type: 'log',
				message: `block ${id.slice(0, 8)} from ${this.label} dropped: ${have} of ${total} parts after ${Math.round(ageMs / 1000)} s`
			});
		}
	}

	/** Blocks (in parts or cut short) whose bytes cannot hold an id are left to validation to refuse. */
	static #claimedId(bytes: Uint8Array): string | null {
		return bytes.length >= 35 && bytes[0] === 0x83 && bytes[1] === 0x58 && bytes[2] === 0x20 ? toHex(bytes.subarray(3, 35)) : null;
	}

	#enqueue(bytes: Uint8Array): void {
		if (this.#state === 'closed') return;
		this.stats.blocksIn++;
		const id = SyncSession.#claimedId(bytes);
		if (id !== null && this.#inflight.has(id)) {
			this.#duplicate();
			return;
		}
		if (this.#inbox.length >= MAX_INBOX_BLOCKS || this.#inboxBytes + bytes.length > MAX_INBOX_BYTES) {
			this.close(
				`flow control ignored: more than ${this.#inbox.length} blocks (${Math.round(this.#inboxBytes / 1048576)} MiB) waiting for validation`
			);
			return;
		}
		if (id !== null) this.#inflight.add(id);
		this.#inbox.push(bytes);
		this.#inboxBytes += bytes.length;
		this.#pump();
	}

	/** A copy of a block already held or already waiting: free within the budget, then counted as bad. */
	#duplicate(): void {
		if (this.#duplicates.take(this.#now())) return;
		this.#badBlock('DUPLICATE');
	}

	#badBlock(code: ReasonCode): void {
		if (++this.#badBlocks > MAX_BAD_BLOCKS) this.close(`too many invalid blocks (${this.#badBlocks}, last: ${code})`);
	}

	#isClosed(): boolean {
		return this.#state === 'closed';
	}

	#pump(): void {
		if (this.#processing || this.#state === 'closed') return;
		this.#processing = (async () => {
			while (this.#inbox.length > 0 && this.#state !== 'closed') {
				let take = 0;
				let bytes = 0;
				while (take < this.#inbox.length && take < this.#batch && bytes < BATCH_BYTES) bytes += this.#inbox[take++]!.length;
				const batch = this.#inbox.splice(0, take);
				this.#inboxBytes -= bytes;
				try {
					const result = await this.#ledger.receive(batch, this.label);
					// The session may have closed while the batch was validated.
					if (this.#isClosed()) return;
					this.#afterReceive(batch.length, result.accepted.length, result.duplicates, result.rejected);
				} finally {
					for (const b of batch) {
						const id = SyncSession.#claimedId(b);
						if (id !== null) this.#inflight.delete(id);
					}
				}
			}
		})().finally(() => {
			this.#processing = null;
			// Only an open session goes on: after a close the inbox is empty and stays so.
			if (this.#state === 'closed') return;
			if (this.#inbox.length > 0) this.#pump();
			else this.#afterStream();
		});
	}

	#afterReceive(count: number, accepted: number, duplicates: number, rejected: readonly Rejection[]): void {
		this.#processed += count;
		this.stats.accepted += accepted;
		this.#streamAccepted += accepted;
		if (accepted > 0) this.#behindDelay = this.#retryMs;
		if (this.#streamOpen || this.#expected > 0) {
			this.#received = Math.min(this.#expected, this.#received + count);
			this.#emit({ type: 'progress', received: this.#received, expected: this.#expected });
		}
		this.#send({ m: 'ack', n: this.#processed });
		for (let i = 0; i < duplicates && this.#state !== 'closed'; i++) if (++this.#storedDuplicates > this.#ledger.size) this.#duplicate();
		for (const rejection of rejected) {
			if (this.#state === 'closed') return;
			this.stats.rejected[rejection.code] = (this.stats.rejected[rejection.code] ?? 0) + 1;
			this.#emit({ type: 'rejected', rejection });
			this.#streamRefused++;
			if (rejection.code === 'DUPLICATE') this.#duplicate();
			else this.#badBlock(rejection.code);
		}
		if (this.#state !== 'closed') this.#requestMissing();
	}

	/** Asks for missing deps; each id again only after a wait that doubles, so a dep nobody has costs little. */
	#requestMissing(): void {
		const missing = this.#ledger.missing();
		if (missing.length === 0 && this.#wanted.size === 0) return;
		const now = this.#now();
		const wanted = new Map<BlockId, { next: number; delay: number }>();
		const due: BlockId[] = [];
		for (const id of missing) {
			const entry = this.#wanted.get(id);
			if (entry && entry.next > now) wanted.set(id, entry);
			else if (due.length < MAX_WANT_IDS) {
				const delay = entry ? Math.min(entry.delay * 2, this.#retryMs * MAX_BACKOFF_RETRIES) : this.#retryMs;
				wanted.set(id, { next: now + delay, delay });
				due.push(id);
			}
		}
		this.#wanted = wanted;
		if (due.length > 0) this.#send({ m: 'want', ids: due });
	}

	/** After a stream ends and the inbox is drained: done, or ask again for what is still missing. */
	#afterStream(): void {
		if (this.#streamOpen || this.#processing || this.#inbox.length > 0) return;
		if (this.#expected > 0) {
			this.#expected = 0;
			this.#emit({ type: 'caught-up' });
		}
		// A stream that brought only refused blocks would bring the same ones again: leave
		// the retry to `tick`, with a wait that doubles each time.
		const onlyRefusals = this.#streamRefused > 0 && this.#streamAccepted === 0;
		if (onlyRefusals) {
			this.#behindDelay = Math.min(this.#behindDelay * 2, this.#retryMs * MAX_BACKOFF_RETRIES);
			this.#streamRefused = 0;
			for (const [a, s] of Object.entries(this.#peerVV)) if ((this.#refusedUpTo[a] ?? -1) < s) this.#refusedUpTo[a] = s;
		}
		if (this.#behindPeer() && !onlyRefusals) this.#sendVV(true);
	}

	async #onWant(ids: BlockId[]): Promise<void> {
		if (!this.#wants.take(this.#now())) {
			this.#protocolError('want rate limit exceeded');
			return;
		}
		const found = (await this.#ledger.store.getMany(ids)).filter((b) => b !== undefined);
		if (this.#state !== 'ready') return;
		this.#sendBlocks(found.map((b) => b.bytes));
	}

	/** Live gossip: forwards new blocks the peer is not known to hold. */
	gossip(blocks: readonly Block[]): void {
		if (this.#state !== 'ready') return;
		const fresh = blocks.filter((b) => (this.#peerVV[b.author] ?? -1) < b.seq);
		if (fresh.length === 0) return;
		this.#sendBlocks(fresh.map((b) => b.bytes));
		// Optimistic: if the frames are lost, the peer's next vector brings them back.
		this.noteHeld(fresh);
		this.#noteSent(fresh);
	}

	/** Records that the peer holds these blocks (it sent them to us). */
	noteHeld(blocks: readonly Block[]): void {
		for (const b of blocks) if ((this.#peerVV[b.author] ?? -1) < b.seq) this.#peerVV[b.author] = b.seq;
	}
}
