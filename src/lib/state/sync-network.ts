/**
 * The network a node syncs over while its ledger is open: the core's Replicator (one sync
 * session per peer), one y-webrtc Mesh per room the node is in (domain/room-secret.ts,
 * kept by the RoomFollower), the newest room's mesh for presence and counts, and what
 * the signaling servers do. Opened by the sync manager, closed on stop.
 */
import type { Ledger, ReplicatorEvent } from '$lib/core/index.js';
import { Replicator, Rooms } from '$lib/core/index.js';
import type { Mesh } from '$lib/core/sync/mesh.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import type { MemberNames } from '$lib/domain/members.js';
import type { NetworkConfig } from '$lib/domain/network-config.js';
import { RoomFollower } from '$lib/domain/room-follower.js';
import { short, type LogLine } from './sync-views.js';

/** Presence (name, block count) is republished at most this often (ms). */
const PRESENCE_MS = 5000;

export interface SyncNetworkOptions {
	ledger: Ledger;
	config: NetworkConfig;
	/** Opens rotated room secrets; without one, the settings' room only. */
	keyring: Pick<Keyring, 'roomsToJoin'> | null;
	/** The member names of the open ledger (for presence). */
	names: () => MemberNames;
	onEvent: (event: ReplicatorEvent) => void;
	say: (text: string, tone?: LogLine['tone']) => void;
}

export class SyncNetwork {
	readonly replicator: Replicator;
	#ledger: Ledger;
	#names: () => MemberNames;
	#say: SyncNetworkOptions['say'];
	#rooms: Rooms<Mesh>;
	#follower: RoomFollower<Mesh>;
	/** The mesh of the newest room this node is in (presence, counts); the older rooms' meshes only carry sessions. */
	#mesh: Mesh | null = null;
	#offs: (() => void)[] = [];
	#signalingWas = new Map<string, boolean>();
	#presence = { size: -1, at: 0 };

	/** Joins the rooms; throws (leaving nothing open) when the first room cannot be joined. */
	static async open(options: SyncNetworkOptions): Promise<SyncNetwork> {
		// y-webrtc and simple-peer are only needed once a network exists.
		const { Mesh } = await import('$lib/core/sync/mesh.js');
		const network = new SyncNetwork(options, Mesh);
		try {
			await network.#follower.start();
		} catch (error) {
			network.#follower.stop();
			await network.#rooms.close();
			network.replicator.close();
			for (const off of network.#offs) off();
			throw error;
		}
		network.#mesh = network.#rooms.current;
		network.#offs.push(
			options.ledger.on('accepted', () => {
				// A rotation moves this node to a newer room: the newest one is the one shown.
				network.#mesh = network.#rooms.current;
			})
		);
		return network;
	}

	private constructor(options: SyncNetworkOptions, MeshClass: typeof Mesh) {
		const { ledger, config } = options;
		this.#ledger = ledger;
		this.#names = options.names;
		this.#say = options.say;
		const replicator = new Replicator(ledger);
		this.replicator = replicator;
		this.#offs.push(replicator.on(options.onEvent));
		const onPeers = ({ added, removed }: { added: string[]; removed: string[] }) => {
			for (const id of added) this.#say(`webrtc: connecting to peer ${short(id)}`);
			for (const id of removed) this.#say(`webrtc: peer ${short(id)} disconnected`);
		};
		this.#rooms = new Rooms<Mesh>(
			(room) => {
				const mesh = new MeshClass({
					replicator,
					secret: room.secret,
					rank: room.epoch,
					signaling: [...config.signaling],
					presence: { name: this.#names()[ledger.author ?? ''] ?? null, blocks: ledger.size },
					onLog: (message) => this.#say(message)
				});
				mesh.provider.on('peers', onPeers);
				return mesh;
			},
			async (mesh) => {
				mesh.provider.off('peers', onPeers);
				mesh.destroy();
				// y-webrtc frees the room name once its key promise settles; a restart must wait for that.
				await mesh.provider.key;
			}
		);
		const roomsOf = options.keyring ?? { roomsToJoin: () => [{ secret: config.secret, epoch: 0, until: null }] };
		this.#follower = new RoomFollower({
			ledger,
			keyring: roomsOf,
			linkSecret: config.secret,
			rooms: this.#rooms,
			log: (message) => this.#say(message)
		});
	}

	/** The newest room's mesh (null once closed). */
	get mesh(): Mesh | null {
		return this.#mesh;
	}

	/** The room secret a network link or invite made now carries: the newest room's. */
	get currentSecret(): string | null {
		return this.#follower.currentSecret ?? null;
	}

	/** Logs signaling servers connecting and lost, and republishes presence when the ledger grew. */
	sample(now: number): void {
		const mesh = this.#mesh;
		if (!mesh) return;
		for (const conn of mesh.provider.signalingConns) {
			const before = this.#signalingWas.get(conn.url);
			if (before === conn.connected) continue;
			if (conn.connected) this.#say(`signaling server ${conn.url} connected`, 'good');
			else if (before === true) this.#say(`signaling server ${conn.url} lost; reconnecting`, 'warn');
			this.#signalingWas.set(conn.url, conn.connected);
		}
		const ledger = this.#ledger;
		if (ledger.size !== this.#presence.size && now - this.#presence.at >= PRESENCE_MS) {
			this.#presence = { size: ledger.size, at: now };
			mesh.setPresence({ name: this.#names()[ledger.author ?? ''] ?? null, blocks: ledger.size });
		}
	}

	/** Leaves every room and ends every session. */
	async close(): Promise<void> {
		for (const off of this.#offs) off();
		this.#offs = [];
		this.#follower.stop();
		this.replicator.close();
		this.#mesh = null;
		await this.#rooms.close();
	}
}
