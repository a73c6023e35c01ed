/**
 * The handshake of a sync session and the admission that follows it: hello (version,
 * network, author, nonce) → auth (a signature over both hellos and the link's binding),
 * then the peer is admitted ('ready'), refused as a non-member ('guest'), or refuses this
 * node ('refused'); a roster change re-judges it. See docs/protocol.md.
 */
import { fromHex, toHex } from '../bytes.js';
import { CodedError } from '../errors.js';
import { challengeDigest, type HandshakeTranscript } from '../challenge.js';
import type { AuthorId } from '../types.js';
import { PROTOCOL_VERSION, type Message } from './messages.js';
import { HELLO_BURST, HELLOS_PER_SECOND } from './session-limits.js';
import type { SessionCore } from './session-types.js';
import { TokenBucket } from './token-bucket.js';

/** What the handshake asks of the rest of the session. */
export interface HandshakeHooks {
	/** Sends this node's version vector (always when `force`). */
	sendVV(force: boolean): void;
	/** Stops the outgoing stream in progress. */
	stopStream(): void;
}

export class Handshake {
	#core: SessionCore;
	#hooks: HandshakeHooks;
	#nonce: Uint8Array;
	#peer: { author: AuthorId; nonce: Uint8Array } | null = null;
	/** Our answer to the peer's hello, signed once per session and resent as is. */
	#authSig: Promise<Uint8Array> | null = null;
	#authed = false;
	#helloAt = 0;
	#hellos: TokenBucket;
	/** An auth that arrived before the hello it answers (our first hello was lost). */
	#earlyAuth: Uint8Array | null = null;
	/** Why the peer refused this node, while it does. */
	#deniedBy: string | null = null;
	/** Admitted after being a guest: its hellos (asking again) are answered with our vector. */
	#wasGuest = false;

	constructor(core: SessionCore, hooks: HandshakeHooks, nonce: Uint8Array, start: number) {
		this.#core = core;
		this.#hooks = hooks;
		this.#nonce = nonce;
		this.#hellos = new TokenBucket(HELLO_BURST, HELLOS_PER_SECOND / 1000, start);
	}

	/** The key the peer claims in its hello; proven only once {@link authenticated}. */
	get peerAuthor(): AuthorId | null {
		return this.#peer?.author ?? null;
	}

	get authenticated(): boolean {
		return this.#authed;
	}

	get deniedBy(): string | null {
		return this.#deniedBy;
	}

	/** When our last hello went out. */
	get helloAt(): number {
		return this.#helloAt;
	}

	sendHello(): void {
		const core = this.#core;
		this.#helloAt = core.now();
		const author = core.ledger.author;
		if (!author) throw new CodedError('NO_SIGNING_KEY', 'sync needs a node with a signing key');
		core.send({ m: 'hello', v: PROTOCOL_VERSION, net: core.ledger.net, author, nonce: this.#nonce });
	}

	/** Re-judges the peer against this node's roster (see SyncSession.recheck). */
	recheck(): void {
		const peer = this.#peer;
		if (!peer || !this.#authed) return;
		const member = this.#isMember(peer.author);
		const state = this.#core.state();
		if (state === 'guest' && member) this.#admit(peer.author);
		else if ((state === 'ready' || state === 'refused') && !member) this.#refuse(peer.author, 'NOT_A_MEMBER');
	}

	#isMember(author: AuthorId): boolean {
		const roster = this.#core.ledger.roster();
		// A node that holds no roster yet (joining) cannot judge; it verifies every block anyway.
		return roster.size === 0 || roster.has(author);
	}

	#admit(author: AuthorId): void {
		this.#wasGuest = true;
		const wasRefused = this.#deniedBy !== null;
		this.#core.setState(wasRefused ? 'refused' : 'ready');
		if (!wasRefused) this.#core.emit({ type: 'ready', author });
		// Our vector is also how a peer we refused learns that it may sync now.
		this.#hooks.sendVV(true);
	}

	#refuse(author: AuthorId, reason: string): void {
		this.#core.setState('guest');
		this.#hooks.stopStream();
		this.#core.send({ m: 'denied', reason });
		this.#core.emit({ type: 'guest', author, reason });
	}

	/** Both hellos, as both ends see them, and this link's binding. */
	#transcript(peer: { author: AuthorId; nonce: Uint8Array }): HandshakeTranscript {
		const binding = this.#core.link.channelBinding;
		return {
			net: this.#core.ledger.net,
			parties: [{ author: this.#core.ledger.author!, nonce: this.#nonce }, peer],
			...(binding ? { binding } : {})
		};
	}

	async onHello(msg: Extract<Message, { m: 'hello' }>): Promise<void> {
		const core = this.#core;
		// Each hello may cost a frame back; past the budget they are dropped unanswered
		// (an honest peer resends every retry period, so nothing is lost).
		if (!this.#hellos.take(core.now())) return;
		if (msg.v !== PROTOCOL_VERSION) {
			core.close(`unsupported protocol version ${msg.v}`);
			return;
		}
		if (msg.net !== core.ledger.net) {
			core.close('WRONG_NETWORK');
			return;
		}
		if (msg.author === core.ledger.author) {
			// Our own hello reflected back, or a copy of this node: never sync with it.
			core.close("SELF_CONNECTION: the peer claims this node's own key");
			return;
		}
		if (this.#peer && (this.#peer.author !== msg.author || toHex(this.#peer.nonce) !== toHex(msg.nonce))) {
			core.protocolError('hello changed author or nonce');
			return;
		}
		if (!this.#peer) {
			this.#peer = { author: msg.author, nonce: msg.nonce };
			// Signed once, now that both hellos are known; a repeated hello gets the same answer.
			this.#authSig = core.ledger.signChallenge(this.#transcript(this.#peer));
		}
		core.send({ m: 'auth', sig: await this.#authSig! });
		// A repeated hello means ours or our auth may have been lost.
		if (!this.#authed) this.sendHello();
		// From a guest: it asks to be looked at again. From a peer that refused us and was
		// then admitted... our vector may have been lost: send it again.
		else if (core.state() === 'guest') this.recheck();
		else if (core.state() === 'ready' && this.#wasGuest) this.#hooks.sendVV(true);
		const early = this.#earlyAuth;
		this.#earlyAuth = null;
		if (early && !this.#authed) await this.onAuth({ m: 'auth', sig: early });
	}

	async onAuth(msg: Extract<Message, { m: 'auth' }>): Promise<void> {
		const core = this.#core;
		const peer = this.#peer;
		if (!peer) {
			this.#earlyAuth = msg.sig;
			return;
		}
		if (this.#authed) return;
		const ok = await core.ledger.verifySignature(msg.sig, challengeDigest(this.#transcript(peer), peer.author), fromHex(peer.author));
		if (core.state() === 'closed' || this.#authed) return;
		if (!ok) {
			core.close(`BAD_SIGNATURE: the handshake answer of ${peer.author.slice(0, 8)} was not made on this link (relayed or forged)`);
			return;
		}
		this.#authed = true;
		if (!this.#isMember(peer.author)) {
			this.#refuse(peer.author, 'NOT_A_MEMBER');
			return;
		}
		if (this.#deniedBy !== null) {
			core.setState('refused');
			this.#hooks.sendVV(true);
			return;
		}
		core.setState('ready');
		core.emit({ type: 'ready', author: peer.author });
		this.#hooks.sendVV(true);
	}

	onDenied(reason: string): void {
		const core = this.#core;
		const first = this.#deniedBy === null;
		this.#deniedBy = reason;
		if (core.state() === 'ready' || core.state() === 'handshake') {
			if (core.state() === 'ready') this.#hooks.stopStream();
			core.setState(this.#authed ? 'refused' : core.state());
		}
		if (first) core.emit({ type: 'refused', reason });
	}

	/** A vector from a peer that refused us: it admitted us. */
	onAdmittedByPeer(): void {
		this.#deniedBy = null;
		this.#core.setState('ready');
		this.#core.emit({ type: 'ready', author: this.#peer!.author });
	}
}
