/**
 * Runs one sync session per connected peer for a ledger, and gossips: every block this
 * node accepts (its own or a peer's) is offered to every other peer not known to hold it.
 * Transport-agnostic: WebRTC, BroadcastChannel and in-memory links all attach here.
 */
import type { Ledger } from '../ledger.js';
import type { Link } from './link.js';
import { SyncSession } from './session.js';
import type { SessionEvent, SessionOptions } from './session-types.js';

export type ReplicatorEvent = { session: SyncSession } & ({ type: 'attached' } | { type: 'detached' } | SessionEvent);

export interface ReplicatorOptions extends Partial<Pick<SessionOptions, 'now' | 'randomBytes' | 'retryMs' | 'window' | 'batch'>> {
	/** Call `tick` on a timer of this period (ms); 0 leaves ticking to the caller (simulation). */
	tickMs?: number;
}

export class Replicator {
	readonly ledger: Ledger;
	#options: ReplicatorOptions;
	#sessions = new Map<string, SyncSession>();
	/** Each session's room rank (see {@link attach}). */
	#ranks = new WeakMap<SyncSession, number>();
	#listeners = new Set<(event: ReplicatorEvent) => void>();
	#timer: ReturnType<typeof setInterval> | null = null;
	#unsubscribe: () => void;

	constructor(ledger: Ledger, options: ReplicatorOptions = {}) {
		this.ledger = ledger;
		this.#options = options;
		const stopAccepted = ledger.on('accepted', (blocks, from) => {
			for (const session of this.#sessions.values()) {
				if (session.label === from) session.noteHeld(blocks);
				else session.gossip(blocks);
			}
			// The roster may have changed: peers refused as non-members may be admitted now,
			// and sessions with revoked peers end their sync.
			if (blocks.some((b) => b.txs.some((tx) => tx.t.startsWith('member.')))) this.recheck();
		});
		const stopVoided = ledger.on('voided', () => this.recheck());
		this.#unsubscribe = () => {
			stopAccepted();
			stopVoided();
		};
		const tickMs = options.tickMs ?? 1000;
		if (tickMs > 0) this.#timer = setInterval(() => this.tick(), tickMs);
	}

	/**
	 * Starts a session over `link` with the peer known to the transport as `label`. `rank`
	 * orders the rooms a node is in at once (the room epoch, docs/protocol.md *Room
	 * secret*): two nodes in two rooms meet twice, and both keep the session in the newer
	 * room and close the other, so one pair never streams the same blocks twice.
	 */
	attach(link: Link, label: string, rank = 0): SyncSession {
		this.#sessions.get(label)?.close('replaced by a new connection');
		const { tickMs: _tick, ...sessionOptions } = this.#options;
		const session = new SyncSession({ ...sessionOptions, ledger: this.ledger, link, label });
		this.#sessions.set(label, session);
		this.#ranks.set(session, rank);
		session.on((event) => {
			this.#emit({ session, ...event });
			if (event.type === 'ready') this.#dropTwin(session, event.author);
			if (event.type === 'closed' && this.#sessions.get(label) === session) {
				this.#sessions.delete(label);
				this.#emit({ session, type: 'detached' });
			}
		});
		this.#emit({ session, type: 'attached' });
		session.start();
		return session;
	}

	/** Of two sessions with the same member in different rooms, closes the one in the older room. */
	#dropTwin(session: SyncSession, author: string): void {
		const rank = this.#ranks.get(session) ?? 0;
		for (const other of this.#sessions.values()) {
			if (other === session || other.state === 'closed' || !other.authenticated || other.peerAuthor !== author) continue;
			const otherRank = this.#ranks.get(other) ?? 0;
			if (otherRank === rank) continue;
			(otherRank > rank ? session : other).close('already syncing with this member in a newer room');
			if (otherRank > rank) return;
		}
	}

	/** Re-judges every session's peer against the current roster. */
	recheck(): void {
		for (const s of this.#sessions.values()) s.recheck();
	}

	sessions(): SyncSession[] {
		return [...this.#sessions.values()];
	}

	on(listener: (event: ReplicatorEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	#emit(event: ReplicatorEvent): void {
		for (const l of this.#listeners) l(event);
	}

	/** Repairs lost frames on every session; called by the timer or the simulation. */
	tick(): void {
		for (const s of this.#sessions.values()) s.tick();
	}

	close(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#unsubscribe();
		for (const s of this.#sessions.values()) s.close('node stopped');
	}
}
