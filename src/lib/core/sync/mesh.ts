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

type Conn = { peer: { _pc: RTCPeerConnection; connected: boolean; once(e: string, f: () => void): void } };

export class Mesh {
	readonly doc = new Y.Doc();
	readonly provider: WebrtcProvider;
	#replicator: Replicator;
	#log: (message: string) => void;
	#attached = new Set<string>();

	constructor(options: MeshOptions) {
		this.#replicator = options.replicator;
		this.#log = options.onLog ?? (() => {});
		const net = options.replicator.ledger.net;
		this.provider = new WebrtcProvider(roomName(net, options.secret), this.doc, {
			signaling: options.signaling,
			password: options.secret,
			filterBcConns: true,
			peerOpts: { config: { iceServers: [] }, ...(options.wrtc ? { wrtc: options.wrtc } : {}) }
		});
		this.provider.awareness.setLocalStateField('node', { author: options.replicator.ledger.author, ...options.presence });
		this.provider.on('peers', ({ added, removed }: { added: string[]; removed: string[] }) => {
			for (const id of added) this.#connect(id);
			for (const id of removed) this.#attached.delete(id);
		});
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
					this.#replicator.attach(link, id);
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
		this.provider.destroy();
		this.doc.destroy();
	}
}
