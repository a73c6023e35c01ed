/**
 * The peer's log: one line per thing an operator may want to know about: sync sessions,
 * catch-up progress, accepted and refused blocks, membership of this node
 * ({@link logActivity}); signaling reachability and WebRTC peers ({@link logMesh}).
 * Each returns the function that stops the watching.
 */
import type { AuthorId, Ledger, Replicator } from '../src/lib/core/index.js';
import type { Mesh } from '../src/lib/core/sync/mesh.js';

/** Rejections logged one by one per peer and reason, before only every hundredth is. */
const REJECTIONS_LOGGED = 10;
/** How long a signaling server may take to answer before the log says it cannot be reached (ms). */
const SIGNALING_GRACE_MS = 5000;

/** The first 8 characters of a peer id, author key or block id, as the log shows them. */
export const short = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '?');

/** Logs the ledger's and the sync sessions' events. */
export function logActivity(ledger: Ledger, replicator: Replicator, log: (line: string) => void): () => void {
	const author = ledger.author as AuthorId;
	let role = ledger.roster().get(author) ?? null;
	const stops: (() => void)[] = [];

	stops.push(
		ledger.on('accepted', (blocks, from) => {
			const session = from ? replicator.sessions().find((s) => s.label === from) : undefined;
			// While a catch-up streams in, its progress lines say enough.
			if (!session?.progress.streaming) {
				log(
					`accepted ${blocks.length} block${blocks.length === 1 ? '' : 's'}${from ? ` from ${short(from)}` : ''}; ledger holds ${ledger.size}`
				);
			}
			const now = ledger.roster().get(author) ?? null;
			if (now !== role) {
				log(
					now
						? `this node is now a member (role ${now}): members will sync with it`
						: 'this node is not a member any more: members will refuse it'
				);
				role = now;
			}
		}),
		ledger.on('equivocation', ({ author: culprit, seq }) =>
			log(`EQUIVOCATION: author ${short(culprit)} signed two blocks at seq ${seq}; both kept as evidence`)
		)
	);

	const deciles = new Map<string, number>();
	const rejections = new Map<string, number>();
	stops.push(
		replicator.on((event) => {
			const peer = short(event.session.label);
			switch (event.type) {
				case 'ready': {
					const peerRole = ledger.roster().get(event.author);
					log(
						`session ready with ${peer} over ${event.session.linkKind}: author ${short(event.author)}${peerRole ? `, role ${peerRole}` : ''}`
					);
					break;
				}
				case 'progress': {
					if (event.expected === 0) break;
					const decile = Math.floor((event.received * 10) / event.expected);
					if (event.received === 0) {
						deciles.set(event.session.label, 0);
						log(`catch-up from ${peer}: ${event.expected} blocks to receive`);
					} else if (decile > (deciles.get(event.session.label) ?? 0)) {
						deciles.set(event.session.label, decile);
						log(`catch-up from ${peer}: ${decile * 10}% (${event.received}/${event.expected})`);
					}
					break;
				}
				case 'caught-up':
					deciles.delete(event.session.label);
					log(`caught up with ${peer}; ledger holds ${ledger.size} blocks`);
					break;
				case 'rejected': {
					const { code, detail, id } = event.rejection;
					const key = `${event.session.label} ${code}`;
					const n = (rejections.get(key) ?? 0) + 1;
					rejections.set(key, n);
					if (n <= REJECTIONS_LOGGED || n % 100 === 0) {
						log(`rejected block ${short(id)} from ${peer}: ${code} (${detail})${n > REJECTIONS_LOGGED ? `; ${n} so far` : ''}`);
					}
					break;
				}
				case 'guest':
					log(
						`refused ${peer}: not a member in this node's copy of the ledger (the connection stays open; it syncs once an admin adds it)`
					);
					break;
				case 'closed':
					deciles.delete(event.session.label);
					log(`session with ${peer} closed: ${event.reason}`);
					break;
				case 'log':
					log(event.message);
					break;
			}
		})
	);

	return () => {
		for (const stop of stops) stop();
	};
}

/** Logs WebRTC peers joining and leaving and the signaling servers' reachability. */
export function logMesh(mesh: Mesh, log: (line: string) => void): () => void {
	const stops: (() => void)[] = [];
	const onPeers = ({ added, removed }: { added: string[]; removed: string[] }) => {
		for (const id of added) log(`webrtc: connecting to ${short(id)}`);
		for (const id of removed) log(`webrtc: ${short(id)} disconnected (${mesh.connections().webrtc} connected)`);
	};
	mesh.provider.on('peers', onPeers);
	stops.push(() => mesh.provider.off('peers', onPeers));

	for (const conn of mesh.provider.signalingConns) {
		const onConnect = () => log(`signaling: connected to ${conn.url}`);
		const onDisconnect = () => log(`signaling: lost ${conn.url}, reconnecting`);
		conn.on('connect', onConnect);
		conn.on('disconnect', onDisconnect);
		// Connections are shared per URL: one may already be up when the mesh is rejoined.
		if (conn.connected) onConnect();
		stops.push(() => {
			conn.off('connect', onConnect);
			conn.off('disconnect', onDisconnect);
		});
	}
	const unreachable = setTimeout(() => {
		for (const conn of mesh.provider.signalingConns) if (!conn.connected) log(`signaling: cannot reach ${conn.url} yet, still trying`);
	}, SIGNALING_GRACE_MS);
	unreachable.unref();
	stops.push(() => clearTimeout(unreachable));

	return () => {
		for (const stop of stops) stop();
	};
}
