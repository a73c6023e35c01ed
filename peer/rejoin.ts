/**
 * Keeping sync sessions up. A WebRTC connection carries one ledger session, and the
 * mesh opens it once: when the session ends while the connection stays (a protocol
 * failure, a peer that stopped its node but kept the page) nothing syncs on that
 * connection again. A session kept open while one side refuses the other as a
 * non-member (states 'guest' and 'refused') is not stuck: it starts syncing on the same
 * link as soon as an admin's `member.add` reaches the refusing side.
 *
 * Dropping just a dead connection is not enough: y-webrtc reconnects under the same peer
 * ids and its bookkeeping races (the old connection's close removes the new one). So when
 * a connection has had no session for a while, the peer leaves the room and joins it
 * again under a new peer id, exactly like a restart. Waits double after each rejoin that
 * did not help, up to five minutes (or the first wait, if longer).
 */
import type { AuthorId, Replicator } from '../src/lib/core/index.js';
import type { Mesh } from '../src/lib/core/sync/mesh.js';
import { short } from './activity.js';

const MAX_WAIT_MS = 5 * 60_000;
const CHECK_MS = 1000;
/** Close reasons of sessions this node ended because the peer may not sync with it. */
const REFUSED_BY_US = new Set(['NOT_A_MEMBER', 'BAD_SIGNATURE', 'WRONG_NETWORK']);
const REFUSED_US = 'peer left: NOT_A_MEMBER';

/** What {@link keepSessionsUp} watches and how it rejoins. */
export interface RejoinOptions {
	replicator: Replicator;
	mesh: () => Mesh;
	/** Leaves the room and joins it again under a new peer id. */
	rejoin: () => Promise<void>;
	log: (line: string) => void;
	firstWaitMs: number;
}

/** Rejoins the mesh when a connected peer has had no session for a while; returns the function that stops it. */
export function keepSessionsUp({ replicator, mesh, rejoin, log, firstWaitMs }: RejoinOptions): () => void {
	const author = replicator.ledger.author as AuthorId;
	const maxWait = Math.max(MAX_WAIT_MS, firstWaitMs);
	let wait = firstWaitMs;
	let stuckSince: number | null = null;
	let rejoining = false;
	const lastReason = new Map<string, string>();

	// A peer refused as a non-member may have been added since: it counts again.
	const stopWatchingRoster = replicator.ledger.on('accepted', (blocks) => {
		if (!blocks.some((b) => b.txs.some((tx) => tx.t === 'member.add'))) return;
		for (const [label, reason] of lastReason) if (REFUSED_BY_US.has(reason)) lastReason.set(label, `${reason} before the roster changed`);
	});
	const stopListening = replicator.on((event) => {
		const label = event.session.label;
		if (event.type === 'ready') lastReason.delete(label);
		if (event.type === 'refused') {
			log(
				`peer ${short(label)} refused this node: key ${author} is not a member in its copy of the ledger. An admin must add it as a member (e.g. role "peer"); the connection stays open and syncs once that happens`
			);
			return;
		}
		if (event.type !== 'closed') return;
		lastReason.set(label, event.reason);
		if (event.reason === REFUSED_US) {
			log(
				`peer ${short(label)} refused this node: key ${author} is not a member in its copy of the ledger. An admin must add it as a member (e.g. role "peer")`
			);
		}
	});

	const timer = setInterval(() => {
		if (rejoining) return;
		const conns = mesh().provider.room?.webrtcConns;
		if (!conns) return;
		// Reasons matter only while the connection lasts; peer ids are not reused.
		for (const label of lastReason.keys()) if (!conns.has(label)) lastReason.delete(label);
		// A session kept open while one side refuses the other (guest / refused) is alive:
		// it turns into a syncing one as soon as the roster allows, without a rejoin.
		const ready = new Set(
			replicator
				.sessions()
				.filter((s) => s.state === 'ready' || s.state === 'guest' || s.state === 'refused')
				.map((s) => s.label)
		);
		const stuck = [...conns.entries()]
			.filter(([id, conn]) => conn.connected && !ready.has(id) && !REFUSED_BY_US.has(lastReason.get(id) ?? ''))
			.map(([id]) => id);
		if (stuck.length === 0) {
			stuckSince = null;
			if (ready.size > 0 && ready.size === conns.size) wait = firstWaitMs;
			return;
		}
		const now = Date.now();
		stuckSince ??= now;
		if (now - stuckSince < wait) return;
		const why = stuck.map((id) => `${short(id)} (${lastReason.get(id) ?? 'no session'})`).join(', ');
		log(`no sync session with ${why} for ${Math.round(wait / 1000)} s: rejoining the mesh`);
		wait = Math.min(wait * 2, maxWait);
		stuckSince = null;
		rejoining = true;
		rejoin()
			.catch((error: Error) => log(`rejoining the mesh failed: ${error.message}`))
			.finally(() => {
				rejoining = false;
			});
	}, CHECK_MS);
	timer.unref();

	return () => {
		stopWatchingRoster();
		stopListening();
		clearInterval(timer);
	};
}
