/**
 * One sync session: the protocol between this node's ledger and one peer over one link.
 *
 * hello (version, network, author, nonce) → auth (signature over the peer's nonce) →
 * version vectors → each side streams what the other lacks (offer, blocks/parts, end),
 * paced by the receiver's acks → live gossip of new blocks → wants for missing deps.
 * Anti-entropy on `tick()` (resent hello, fresh vector) repairs lost frames, so the
 * protocol converges over lossy, duplicating, reordering links too. See docs/protocol.md.
 */
import { MAX_BLOCK_BYTES } from '../block.js';
import { fromHex, toHex } from '../bytes.js';
import { challengeDigest } from '../challenge.js';
import type { ReasonCode } from '../errors.js';
import type { Block, BlockId, VersionVector, AuthorId } from '../types.js';
import type { Ledger, Rejection } from '../ledger.js';
import type { Link } from './link.js';
import { FRAME_OVERHEAD, MAX_FRAME_BYTES, MAX_WANT_IDS, PROTOCOL_VERSION, ProtocolError, decodeMessage, encodeMessage, type Message } from './messages.js';

export interface SessionOptions {
	ledger: Ledger;
	link: Link;
	/** Transport-level peer id, used to attribute received blocks and rejections. */
	label: string;
	now?: () => number;
	randomBytes?: (n: number) => Uint8Array;
	/** Resend hello / vector after this long without progress (ms, default 2000). */
	retryMs?: number;
	/** Blocks in flight before the sender waits for acks (default 2000). */
	window?: number;
	/** Blocks per ledger.receive call (default 500). */
	batch?: number;
}

export type SessionEvent =
	| { type: 'ready'; author: AuthorId }
	/** This node refused the peer (not a member here); the link stays, the peer may be admitted later. */
	| { type: 'guest'; author: AuthorId; reason: string }
	/** The peer refused this node (`denied`); the link stays until it admits us or leaves. */
	| { type: 'refused'; reason: string }
	/** A `join` (from a guest) or `join-reply` (to us), for the application. */
	| { type: 'join'; data: Uint8Array }
	| { type: 'join-reply'; data: Uint8Array }
	| { type: 'progress'; received: number; expected: number }
	| { type: 'caught-up' }
	| { type: 'rejected'; rejection: Rejection }
	| { type: 'closed'; reason: string }
	| { type: 'log'; message: string };

/** Counters shown in the network view. */
export interface SessionStats {
	framesIn: number;
	framesOut: number;
	bytesIn: number;
	bytesOut: number;
	blocksIn: number;
	blocksOut: number;
	accepted: number;
	protocolErrors: number;
	rejected: Partial<Record<ReasonCode, number>>;
}

/** Protocol errors tolerated before the peer is disconnected. */
const MAX_PROTOCOL_ERRORS = 20;
/** Invalid blocks tolerated before the peer is disconnected (a flood, not an accident). */
const MAX_BAD_BLOCKS = 1000;
/** Largest block accepted in parts; matches MAX_BLOCK_BYTES with room for framing. */
const FRAME_PAYLOAD = MAX_FRAME_BYTES - FRAME_OVERHEAD;
const MAX_PARTS = Math.ceil(MAX_BLOCK_BYTES / FRAME_PAYLOAD);
const WANTS_PER_SECOND = 20;
const INBOX_BYTES = 4 * 1024 * 1024;
const JOINS_PER_MINUTE = 6;

export class SyncSession {
	readonly label: string;
	readonly stats: SessionStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, accepted: 0, protocolErrors: 0, rejected: {} };
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
	#joinTokens = JOINS_PER_MINUTE;
	#joinRefillAt = 0;
	#nonce: Uint8Array;
	#peer: { author: AuthorId; nonce: Uint8Array } | null = null;
	#authed = false;
	#helloAt = 0;
	/** What the peer is known to hold (from its vectors and the blocks it sent us). */
	#peerVV: VersionVector = {};
	/** The union of the vectors the peer itself sent: what it really holds, at least. */
	#peerClaimed: VersionVector = {};
	#streaming = false;
	#streamedSize = -1;
	#lastVVSent = '';
	#lastVVAt = 0;

	// Sending side of a stream
	#generation = 0;
	#sent = 0;
	#acked = 0;
	#ackAt = 0;
	#ackWaiters: (() => void)[] = [];

	// Receiving side
	#inbox: Uint8Array[] = [];
	#processing: Promise<void> | null = null;
	#processed = 0;
	#expected = 0;
	#received = 0;
	#streamOpen = false;
	#progressAt = 0;
	#parts = new Map<BlockId, { total: number; pieces: (Uint8Array | undefined)[]; have: number }>();
	#wantTokens = WANTS_PER_SECOND;
	#wantRefillAt = 0;
	#badBlocks = 0;
	#frames: Promise<void> = Promise.resolve();
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
		this.#nonce = this.#random(32);
		this.connectedAt = this.#now();
		this.#link.onFrame = (frame) => this.#onFrame(frame);
		this.#link.onClose = () => this.#closed('link closed');
	}

	get state() {
		return this.#state;
	}

	get peerAuthor(): AuthorId | null {
		return this.#peer?.author ?? null;
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
		const receiving = this.#streamOpen && now - this.lastSeen < this.#retryMs * 2;
		if (!receiving && now - this.#lastVVAt >= this.#retryMs) this.#sendVV(false);
	}

	close(reason = 'closed'): void {
		if (this.#state === 'closed') return;
		this.#send({ m: 'bye', reason });
		this.#closed(reason);
		this.#link.close();
	}

	#closed(reason: string): void {
		if (this.#state === 'closed') return;
		this.#state = 'closed';
		this.#generation++;
		this.#wakeSender();
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
		const key = JSON.stringify(vv);
		if (!force && key === this.#lastVVSent && !this.#behindPeer()) return;
		this.#lastVVSent = key;
		this.#lastVVAt = this.#now();
		this.#send({ m: 'vv', vv });
	}

	/** True when the peer has told us of blocks we do not hold. */
	#behindPeer(): boolean {
		const ours = this.#ledger.versionVector();
		return Object.entries(this.#peerVV).some(([a, s]) => (ours[a] ?? -1) < s) || this.#ledger.missing().length > 0;
	}

	#protocolError(detail: string): void {
		this.stats.protocolErrors++;
		this.#emit({ type: 'log', message: `protocol error from ${this.label}: ${detail}` });
		if (this.stats.protocolErrors > MAX_PROTOCOL_ERRORS) this.close('too many protocol errors');
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
		// One frame at a time: a vector must not overtake the auth still being verified.
		this.#frames = this.#frames
			.then(() => this.#handle(msg))
			.catch((error: unknown) => this.#emit({ type: 'log', message: `error handling ${msg.m} from ${this.label}: ${(error as Error).message}` }));
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
			if (msg.m === 'join' && !this.#takeJoinToken()) return this.#protocolError('join requests too often');
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
				return this.#onVV(msg.vv);
			case 'offer':
				this.#streamAccepted = 0;
				this.#streamRefused = 0;
				this.#expected = msg.count;
				this.#received = 0;
				this.#streamOpen = msg.count > 0;
				this.#progressAt = this.#now();
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

	async #onHello(msg: Extract<Message, { m: 'hello' }>): Promise<void> {
		if (msg.v !== PROTOCOL_VERSION) {
			this.close(`unsupported protocol version ${msg.v}`);
			return;
		}
		if (msg.net !== this.#ledger.net) {
			this.close('WRONG_NETWORK');
			return;
		}
		if (this.#peer && this.#peer.author !== msg.author) {
			this.#protocolError('hello changed author');
			return;
		}
		this.#peer = { author: msg.author, nonce: msg.nonce };
		this.#send({ m: 'auth', sig: await this.#ledger.signChallenge(msg.nonce) });
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
		const ok = await this.#ledger.verifySignature(msg.sig, challengeDigest(this.#ledger.net, this.#nonce, peer.author), fromHex(peer.author));
		if (!ok) {
			this.close('BAD_SIGNATURE');
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

	#takeJoinToken(): boolean {
		const now = this.#now();
		this.#joinTokens = Math.min(JOINS_PER_MINUTE, this.#joinTokens + ((now - this.#joinRefillAt) / 60_000) * JOINS_PER_MINUTE);
		this.#joinRefillAt = now;
		if (this.#joinTokens < 1) return false;
		this.#joinTokens--;
		return true;
	}

	#onVV(vv: VersionVector): void {
		let news = false;
		for (const [a, s] of Object.entries(vv)) {
			if ((this.#peerVV[a] ?? -1) < s) this.#peerVV[a] = s;
			if ((this.#peerClaimed[a] ?? -1) < s) {
				this.#peerClaimed[a] = s;
				news = true;
			}
		}
		// A late, stale copy of a vector already streamed from must not restart the stream
		// from the beginning: stream from the most the peer has ever claimed to hold.
		if (news || !this.#streaming || this.#ledgerChangedSinceStream()) void this.#stream({ ...this.#peerClaimed });
		// If the peer holds blocks we lack, our vector tells it what to send.
		if (this.#behindPeer()) this.#sendVV(false);
	}

	#ledgerChangedSinceStream(): boolean {
		return this.#ledger.size !== this.#streamedSize;
	}

	/** Streams everything the holder of `vv` lacks; a newer vector restarts the stream. */
	async #stream(vv: VersionVector): Promise<void> {
		const generation = ++this.#generation;
		this.#streaming = true;
		this.#streamedSize = this.#ledger.size;
		try {
			await this.#streamFrom(vv, generation);
		} finally {
			if (generation === this.#generation) this.#streaming = false;
		}
	}

	async #streamFrom(vv: VersionVector, generation: number): Promise<void> {
		let count = 0;
		for (const h of this.#ledger.heads()) count += Math.max(0, h.seq - (vv[h.author] ?? -1));
		if (!this.#send({ m: 'offer', count })) return;
		let pending: Uint8Array[] = [];
		let pendingBytes = 0;
		const flush = async () => {
			this.#sendBlocks(pending);
			pending = [];
			pendingBytes = 0;
			if (this.#link.bufferedAmount > 1024 * 1024) await this.#link.drained();
		};
		for await (const bytes of this.#ledger.blocksSince(vv)) {
			if (generation !== this.#generation || this.#state !== 'ready') return;
			while (this.#sent - this.#acked >= this.#window && generation === this.#generation && this.#state === 'ready') {
				await flush();
				await new Promise<void>((resolve) => this.#ackWaiters.push(resolve));
			}
			if (generation !== this.#generation) return;
			pending.push(bytes);
			pendingBytes += bytes.length;
			if (pendingBytes >= FRAME_PAYLOAD) await flush();
			this.#sent++;
			this.stats.blocksOut++;
		}
		await flush();
		if (generation === this.#generation) this.#send({ m: 'end' });
	}

	#wakeSender(): void {
		const waiters = this.#ackWaiters;
		this.#ackWaiters = [];
		for (const w of waiters) w();
	}

	/** Sends blocks packed into as few frames as fit; a block larger than a frame goes in parts. */
	#sendBlocks(list: readonly Uint8Array[]): void {
		let frame: Uint8Array[] = [];
		let size = 0;
		for (const bytes of list) {
			if (bytes.length > FRAME_PAYLOAD) {
				this.#sendParts(bytes);
				continue;
			}
			if (size + bytes.length > FRAME_PAYLOAD) {
				this.#send({ m: 'blocks', items: frame });
				frame = [];
				size = 0;
			}
			frame.push(bytes);
			// Each item costs its length prefix too (at most 5 bytes below 64 KiB).
			size += bytes.length + 5;
		}
		if (frame.length > 0) this.#send({ m: 'blocks', items: frame });
	}

	#sendParts(bytes: Uint8Array): void {
		const total = Math.ceil(bytes.length / FRAME_PAYLOAD);
		// The id is the block's first CBOR item: bytes 3..35 of `83 58 20 <id>`.
		const id = toHex(bytes.subarray(3, 35)) as BlockId;
		for (let i = 0; i < total; i++) this.#send({ m: 'part', id, index: i, total, data: bytes.subarray(i * FRAME_PAYLOAD, (i + 1) * FRAME_PAYLOAD) });
	}

	#onPart(msg: Extract<Message, { m: 'part' }>): void {
		if (msg.total > MAX_PARTS) {
			this.#protocolError(`block in ${msg.total} parts exceeds the block size limit`);
			return;
		}
		let entry = this.#parts.get(msg.id);
		if (!entry) {
			if (this.#parts.size >= 4) this.#parts.delete(this.#parts.keys().next().value!);
			entry = { total: msg.total, pieces: new Array(msg.total), have: 0 };
			this.#parts.set(msg.id, entry);
		}
		if (entry.total !== msg.total) {
			this.#protocolError('part count changed');
			return;
		}
		if (entry.pieces[msg.index]) return;
		entry.pieces[msg.index] = msg.data;
		entry.have++;
		if (entry.have < entry.total) return;
		this.#parts.delete(msg.id);
		const length = entry.pieces.reduce((n, p) => n + p!.length, 0);
		const whole = new Uint8Array(length);
		let offset = 0;
		for (const p of entry.pieces) {
			whole.set(p!, offset);
			offset += p!.length;
		}
		this.#enqueue(whole);
	}

	#enqueue(bytes: Uint8Array): void {
		this.#inbox.push(bytes);
		this.stats.blocksIn++;
		this.#pump();
	}

	#pump(): void {
		if (this.#processing) return;
		this.#processing = (async () => {
			while (this.#inbox.length > 0 && this.#state !== 'closed') {
				let take = 0;
				let bytes = 0;
				while (take < this.#inbox.length && take < this.#batch && bytes < INBOX_BYTES) bytes += this.#inbox[take++]!.length;
				const batch = this.#inbox.splice(0, take);
				const result = await this.#ledger.receive(batch, this.label);
				this.#afterReceive(batch.length, result.accepted.length, result.rejected);
			}
		})().finally(() => {
			this.#processing = null;
			if (this.#inbox.length > 0) this.#pump();
			else this.#afterStream();
		});
	}

	#afterReceive(count: number, accepted: number, rejected: readonly Rejection[]): void {
		this.#processed += count;
		this.stats.accepted += accepted;
		this.#streamAccepted += accepted;
		if (this.#streamOpen || this.#expected > 0) {
			this.#received = Math.min(this.#expected, this.#received + count);
			this.#progressAt = this.#now();
			this.#emit({ type: 'progress', received: this.#received, expected: this.#expected });
		}
		this.#send({ m: 'ack', n: this.#processed });
		for (const rejection of rejected) {
			this.stats.rejected[rejection.code] = (this.stats.rejected[rejection.code] ?? 0) + 1;
			this.#emit({ type: 'rejected', rejection });
			this.#streamRefused++;
			if (rejection.code !== 'DUPLICATE' && ++this.#badBlocks > MAX_BAD_BLOCKS) this.close('too many invalid blocks');
		}
		this.#requestMissing();
	}

	#requestMissing(): void {
		const missing = this.#ledger.missing().slice(0, MAX_WANT_IDS);
		if (missing.length > 0) this.#send({ m: 'want', ids: missing });
	}

	/** After a stream ends and the inbox is drained: done, or ask again for what is still missing. */
	#afterStream(): void {
		if (this.#streamOpen || this.#processing || this.#inbox.length > 0) return;
		if (this.#expected > 0) {
			this.#expected = 0;
			this.#emit({ type: 'caught-up' });
		}
		// A stream that brought only refused blocks would bring the same ones again: leave
		// the retry to `tick` (at most one vector per retry period) instead of asking now.
		const onlyRefusals = this.#streamRefused > 0 && this.#streamAccepted === 0;
		if (this.#behindPeer() && !onlyRefusals) this.#sendVV(true);
	}

	async #onWant(ids: BlockId[]): Promise<void> {
		const now = this.#now();
		this.#wantTokens = Math.min(WANTS_PER_SECOND, this.#wantTokens + ((now - this.#wantRefillAt) / 1000) * WANTS_PER_SECOND);
		this.#wantRefillAt = now;
		if (this.#wantTokens < 1) {
			this.#protocolError('want rate limit exceeded');
			return;
		}
		this.#wantTokens--;
		const found = (await this.#ledger.store.getMany(ids)).filter((b) => b !== undefined);
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
	}

	/** Records that the peer holds these blocks (it sent them to us). */
	noteHeld(blocks: readonly Block[]): void {
		for (const b of blocks) if ((this.#peerVV[b.author] ?? -1) < b.seq) this.#peerVV[b.author] = b.seq;
	}
}
