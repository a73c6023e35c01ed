/**
 * The WebRTC mesh: y-webrtc finds peers through the signaling server (room name and
 * signaling messages encrypted with the network secret), keeps the peer connections and
 * carries presence (awareness). The ledger itself never travels through Yjs: on each
 * peer connection a dedicated negotiated data channel carries the sync protocol.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import type { BlockId } from '../types.js';
import { openDataChannelLink } from './channel-link.js';
import type { Replicator } from './replicator.js';

export interface MeshOptions {
	replicator: Replicator;
	/** Network secret (hex, 32 bytes): room password, never sent to signaling in clear. */
	secret: string;
	/** WebSocket URLs of y-webrtc signaling servers. */
	signaling: string[];
	/** Rank of this room among the rooms the node is in (its epoch): see {@link Replicator.attach}. */
	rank?: number;
	/** Presence shown to peers (name, role, head count...). */
	presence?: Record<string, unknown>;
	/** Node: a WebRTC implementation (e.g. @roamhq/wrtc) for simple-peer. */
	wrtc?: unknown;
	onLog?: (message: string) => void;
}

/** Peer as seen by presence (awareness), whether or not a sync session is up. */
export interface PresencePeer {
	clientId: number;
	state: Record<string, unknown>;
}

/** Room name: derived from network id and secret, so signaling learns neither. */
export function roomName(net: BlockId, secret: string): string {
	return toHex(sha256(concatBytes(utf8('clinic-ledger/room/v1'), fromHex(net), fromHex(secret, 'secret')))).slice(0, 40);
}

/**
 * The most WebRTC connections one node keeps per room. Gossip reaches every node through a
 * connected graph, and what a node sends grows with its connections
 * (tests/unit/core/gossip-1.test.ts and gossip-2.test.ts: 100 nodes at 8 links each, 50
 * seeds); y-webrtc's default (20 to 34) would cost a browser dozens of DTLS sessions in a
 * large network.
 */
export const MAX_MESH_CONNECTIONS = 8;

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 60_000;

/** What y-webrtc's room does with awareness changes (its handler is replaced in Node, see {@link Mesh}). */
type AwarenessChanges = { added: number[]; updated: number[]; removed: number[] };
type RoomInternals = { _awarenessUpdateHandler: (changes: AwarenessChanges, origin: unknown) => void };

/** simple-peer keeps its RTCPeerConnection in `_pc`: the ledger channel is opened on it (its statistics are the link's, channel-link.ts). */
type Conn = { peer: { _pc: RTCPeerConnection; connected: boolean; once(e: string, f: () => void): void } };

export class Mesh {
	readonly doc = new Y.Doc();
	readonly provider: WebrtcProvider;
	#replicator: Replicator;
	#rank: number;
	#log: (message: string) => void;
	#attached = new Set<string>();
	#retries = new Map<string, ReturnType<typeof setTimeout>>();
	#backoff = new Map<string, number>();
	#destroyed = false;
	#unsubscribe: () => void;

	constructor(options: MeshOptions) {
		this.#replicator = options.replicator;
		this.#rank = options.rank ?? 0;
		this.#log = options.onLog ?? (() => {});
		const net = options.replicator.ledger.net;
		this.provider = new WebrtcProvider(roomName(net, options.secret), this.doc, {
			signaling: options.signaling,
			password: options.secret,
			maxConns: MAX_MESH_CONNECTIONS,
			filterBcConns: true,
			peerOpts: { config: { iceServers: [] }, ...(options.wrtc ? { wrtc: options.wrtc } : {}) }
		});
		this.provider.awareness.setLocalStateField('node', { author: options.replicator.ledger.author, ...options.presence });
		// The room exists once the room key is derived (y-webrtc's own callback on the key runs first).
		if (options.wrtc) void this.provider.key.then(() => this.#keepRemoteRemovals());
		this.provider.on('peers', ({ added, removed }: { added: string[]; removed: string[] }) => {
			for (const id of added) this.#connect(id);
			for (const id of removed) this.#forget(id);
		});
		// A session that ends while the peer connection stays up (e.g. refused as not yet a
		// member) is retried on a fresh ledger channel, with backoff: once an admin adds
		// the key, the next attempt succeeds without anyone reloading.
		this.#unsubscribe = this.#replicator.on((event) => {
			if (event.type !== 'detached' || this.#destroyed) return;
			const id = event.session.label;
			if (!this.#attached.has(id)) return;
			this.#attached.delete(id);
			const delay = Math.min(MAX_RETRY_MS, (this.#backoff.get(id) ?? FIRST_RETRY_MS / 2) * 2);
			this.#backoff.set(id, delay);
			this.#log(`session with ${id.slice(0, 8)} ended; retrying in ${Math.round(delay / 1000)} s`);
			this.#retries.set(
				id,
				setTimeout(() => {
					this.#retries.delete(id);
					this.#connect(id);
				}, delay)
			);
		});
	}

	/**
	 * y-webrtc repeats every awareness change to every connection, a peer's own removal
	 * included: a peer that leaves sends "my state is gone" and closes its connections at
	 * once, and the repeat goes back to it while it closes. With @roamhq/wrtc a send that
	 * races the remote's close crashes the process (SIGSEGV in RTCDataChannel::Send: the
	 * worker of tests/unit/peer/peer.test.ts in about 1 run of 10 with both cores busy). In
	 * Node (the headless peer), removals that came from peers are therefore not repeated;
	 * a node two hops away drops that state by awareness's own timeout (30 s). Browsers keep
	 * y-webrtc's behaviour (their WebRTC has no such crash).
	 */
	#keepRemoteRemovals(): void {
		const room = this.provider.room as unknown as RoomInternals | null;
		if (!room || this.#destroyed) return;
		const repeat = room._awarenessUpdateHandler;
		const handler = (changes: AwarenessChanges, origin: unknown): void => {
			if (origin !== room || changes.removed.length === 0) return repeat(changes, origin);
			if (changes.added.length + changes.updated.length > 0) repeat({ ...changes, removed: [] }, origin);
		};
		this.provider.awareness.off('update', repeat);
		this.provider.awareness.on('update', handler);
		// The room's disconnect() takes off whatever handler it holds.
		room._awarenessUpdateHandler = handler;
	}

	#forget(id: string): void {
		this.#attached.delete(id);
		clearTimeout(this.#retries.get(id));
		this.#retries.delete(id);
		this.#backoff.delete(id);
	}

	/** Updates what peers see of this node. */
	setPresence(fields: Record<string, unknown>): void {
		const current = (this.provider.awareness.getLocalState()?.node ?? {}) as Record<string, unknown>;
		this.provider.awareness.setLocalStateField('node', { ...current, ...fields });
	}

	presence(): PresencePeer[] {
		const self = this.provider.awareness.clientID;
		return [...this.provider.awareness.getStates().entries()]
			.filter(([id]) => id !== self)
			.map(([clientId, state]) => ({ clientId, state: (state.node ?? {}) as Record<string, unknown> }));
	}

	/** Counts of WebRTC connections and same-browser (BroadcastChannel) peers. */
	connections(): { webrtc: number; broadcast: number; signaling: number } {
		const room = this.provider.room;
		return {
			webrtc: room?.webrtcConns.size ?? 0,
			broadcast: room?.bcConns.size ?? 0,
			signaling: this.provider.signalingConns.filter((c) => c.connected).length
		};
	}

	#connect(id: string): void {
		const conn = this.provider.room?.webrtcConns.get(id) as unknown as Conn | undefined;
		if (!conn || this.#attached.has(id)) return;
		this.#attached.add(id);
		const open = () => {
			openDataChannelLink(conn.peer._pc)
				.then((link) => {
					if (this.#destroyed) return link.close();
					const session = this.#replicator.attach(link, id, this.#rank);
					session.on((e) => e.type === 'ready' && this.#backoff.delete(id));
					this.#log(`ledger channel open with ${id.slice(0, 8)}`);
				})
				.catch((error: Error) => {
					this.#attached.delete(id);
					this.#log(`ledger channel with ${id.slice(0, 8)} failed: ${error.message}`);
				});
		};
		if (conn.peer.connected) open();
		else conn.peer.once('connect', open);
	}

	destroy(): void {
		this.#destroyed = true;
		for (const timer of this.#retries.values()) clearTimeout(timer);
		this.#unsubscribe();
		// y-webrtc's destroy() alone leaves the signaling socket and its timers open.
		this.provider.disconnect();
		this.provider.destroy();
		this.doc.destroy();
	}
}
