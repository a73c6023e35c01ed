/**
 * The peers as the network panel shows them: one row per peer node (its open session,
 * else the one seen last), with how far apart the copies are, catch-up progress and the
 * last catch-up's speed, traffic, refusals and round-trip time; the nodes only announced
 * through presence; and the refused blocks by peer and reason. Redrawn by the sync
 * manager, not on every event.
 */
import type { AuthorId, Ledger, ReplicatorEvent, SyncSession } from '$lib/core/index.js';
import type { PresencePeer } from '$lib/core/sync/mesh.js';
import type { MemberNames } from '$lib/domain/members.js';
import { RefusalTally } from './refusal-tally.js';
import type { RttProbe } from './rtt-probe.js';
import { blocksIn, blocksText, lacking, type CatchUp, type LogLine, type PeerView, type RefusalView } from './sync-views.js';

/** Closed sessions kept in the peers list (as offline, with when they were last seen). */
const KEEP_CLOSED = 20;

interface PeerRecord {
	session: SyncSession;
	closedAt: number | null;
	closeReason: string | null;
	catchUp: { startedAt: number; acceptedBefore: number } | null;
	lastCatchUp: CatchUp | null;
}

export interface PeerTableOptions {
	say: (text: string, tone?: LogLine['tone']) => void;
	/** A peer's name for the log: member name and short key. */
	peerName: (author: AuthorId | null) => string;
}

export class PeerTable {
	#peers = $state.raw<PeerView[]>([]);
	get peers() {
		return this.#peers;
	}
	/** Peers that refuse this node (it is not a member in their copy of the ledger). */
	#refusedBy = $state(0);
	get refusedBy() {
		return this.#refusedBy;
	}
	/** Nodes announced through presence that have no sync session with this node. */
	#present = $state.raw<{ key: string; author: AuthorId | null; name: string | null }[]>([]);
	get present() {
		return this.#present;
	}
	#refusalViews = $state.raw<RefusalView[]>([]);
	get refusals() {
		return this.#refusalViews;
	}

	#say: PeerTableOptions['say'];
	#peerName: PeerTableOptions['peerName'];
	#records = new Map<string, PeerRecord>();
	#refusals: RefusalTally;

	constructor(options: PeerTableOptions) {
		this.#say = options.say;
		this.#peerName = options.peerName;
		this.#refusals = new RefusalTally(options.say, options.peerName);
	}

	/** Follows one session event: its life in the log, catch-ups (timed), refusals, closes. */
	onEvent(event: ReplicatorEvent, ledgerSize: number, now: number): void {
		const { session } = event;
		let record = this.#records.get(session.label);
		if (event.type === 'attached' || !record || record.session !== session) {
			record = { session, closedAt: null, closeReason: null, catchUp: null, lastCatchUp: record?.lastCatchUp ?? null };
			this.#records.set(session.label, record);
		}
		const who = this.#peerName(session.peerAuthor);
		switch (event.type) {
			case 'ready':
				this.#say(`sync session ready with ${who} over ${session.linkKind}`, 'good');
				break;
			case 'guest':
				this.#say(
					`refused ${who}: its key is not a member of this network in this node's copy of the ledger. The connection stays open: it syncs as soon as an admin adds it (with an invite, or by key under Members).`,
					'warn'
				);
				break;
			case 'progress':
				if (event.expected > 0 && !record.catchUp) {
					record.catchUp = { startedAt: now, acceptedBefore: session.stats.accepted };
					this.#say(`catch-up from ${who}: ${blocksText(event.expected)} to receive`);
				}
				break;
			case 'caught-up':
				if (record.catchUp) {
					const blocks = session.stats.accepted - record.catchUp.acceptedBefore;
					const ms = now - record.catchUp.startedAt;
					record.catchUp = null;
					// A stream that brought nothing new (duplicates, refused blocks) is no catch-up.
					if (blocks === 0) break;
					record.lastCatchUp = { blocks, ms, at: now };
					const rate = ms > 0 ? `, ${Math.round((blocks * 1000) / ms).toLocaleString('en')} blocks/s` : '';
					this.#say(
						`caught up with ${who}: ${blocksText(blocks)} in ${(ms / 1000).toFixed(1)} s${rate}; this node holds ${blocksText(ledgerSize)}`,
						'good'
					);
				}
				break;
			case 'rejected':
				this.#refusals.add(session, event.rejection.code, event.rejection.detail, event.rejection.id ?? null, now);
				break;
			case 'closed':
				record.closedAt = now;
				record.closeReason = event.reason;
				record.catchUp = null;
				this.#onClosed(session, event.reason);
				break;
		}
	}

	#onClosed(session: SyncSession, reason: string): void {
		const author = session.peerAuthor;
		// Before the handshake proved it, the key is only a claim: a relay names an honest member.
		const who = session.authenticated || !author ? this.#peerName(author) : `a peer claiming to be ${this.#peerName(author)} (unproven)`;
		this.#say(
			`session with ${who} (connection ${session.label.slice(0, 8)}) closed: ${reason}`,
			reason.startsWith('peer left: node stopped') ? 'info' : 'warn'
		);
	}

	/** Redraws the rows from the sessions, the ledger and presence. */
	draw(ledger: Ledger, names: MemberNames, presence: readonly PresencePeer[], rtt: RttProbe): void {
		const roster = ledger.roster();
		const ours = ledger.versionVector();
		const flaggedAuthors = new Set<string>(ledger.flaggedAuthors());
		const refusedBy = this.#refusals.perPeer();

		// One row per peer node: its open session, else the one seen last.
		const best = new Map<string, PeerRecord>();
		for (const record of this.#records.values()) {
			const key = record.session.peerAuthor ?? record.session.label;
			const current = best.get(key);
			const open = record.session.state !== 'closed';
			if (
				!current ||
				(open && current.session.state === 'closed') ||
				(open === (current.session.state !== 'closed') && record.session.lastSeen > current.session.lastSeen)
			) {
				best.set(key, record);
			}
		}
		const views: PeerView[] = [];
		for (const [key, record] of best) {
			const s = record.session;
			const author = s.peerAuthor;
			// A connection that never completed its handshake and is gone says nothing useful.
			if (!author && s.state === 'closed') continue;
			const theirs = s.peerVersionVector;
			const progress = s.progress;
			views.push({
				key,
				author,
				name: author ? (names[author] ?? null) : null,
				role: author ? (roster.get(author) ?? null) : null,
				kind: s.linkKind,
				state: s.state,
				online: s.state !== 'closed',
				lastSeen: s.lastSeen > 0 ? s.lastSeen : null,
				theirBlocks: blocksIn(theirs),
				theyLack: lacking(ours, theirs),
				weLack: lacking(theirs, ours),
				progress: progress.streaming && progress.expected > 0 ? { received: progress.received, expected: progress.expected } : null,
				lastCatchUp: record.lastCatchUp,
				blocksIn: s.stats.blocksIn,
				blocksOut: s.stats.blocksOut,
				refused: refusedBy.get(key) ?? 0,
				flagged: (refusedBy.get(key) ?? 0) > 0 || (author !== null && flaggedAuthors.has(author)),
				closeReason: record.closeReason,
				rttMs: s.linkKind === 'webrtc' ? rtt.of(s.label) : null
			});
		}
		views.sort((a, b) => Number(b.online) - Number(a.online) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || (a.key < b.key ? -1 : 1));
		this.#peers = views;
		this.#refusedBy = views.filter((v) => v.state === 'refused').length;
		this.#pruneClosed();

		// Presence entries of a node that left linger for up to 30 s (awareness timeout): one per author.
		const syncing = new Set(views.filter((v) => v.online && v.author).map((v) => v.author));
		const present = new Map<string, { author: AuthorId | null; name: string | null }>();
		for (const p of presence) {
			const author = typeof p.state.author === 'string' ? (p.state.author as AuthorId) : null;
			if (author && syncing.has(author)) continue;
			present.set(author ?? `client ${p.clientId}`, { author, name: typeof p.state.name === 'string' ? p.state.name : null });
		}
		this.#present = [...present.entries()].map(([key, p]) => ({ key, ...p }));
		this.#refusalViews = this.#refusals.views(names);
	}

	/** Keeps the most recent closed sessions only: a long-running node sees many come and go. */
	#pruneClosed(): void {
		const closed = [...this.#records.entries()].filter(([, r]) => r.closedAt !== null).sort((a, b) => b[1].closedAt! - a[1].closedAt!);
		for (const [label] of closed.slice(KEEP_CLOSED)) this.#records.delete(label);
	}

	/** Forgets every session and refusal (sync stopped). */
	clear(): void {
		this.#records.clear();
		this.#refusals.clear();
		this.#peers = [];
		this.#present = [];
		this.#refusalViews = [];
	}
}
