/**
 * Keeps a node in the right signaling rooms (domain/room-secret.ts): re-reads them when a
 * rotation or a membership change arrives and every hour (grace periods end), and, on an
 * admin node, writes the rotation a revocation or a new member calls for. The browser
 * node and the headless peer both use it, each with its own way to join a room.
 */
import type { Ledger, Rooms } from '$lib/core/index.js';
import type { Keyring } from './records/keyring.js';
import { ROOM_ROTATE, rotateRoomIfNeeded, rotationsOf, type RoomToJoin } from './room-secret.js';

/** How often grace periods are looked at again. */
export const ROOM_CHECK_MS = 60 * 60 * 1000;

export interface RoomFollowerOptions<M> {
	readonly ledger: Ledger;
	readonly keyring: Pick<Keyring, 'roomsToJoin'>;
	/** The secret of the network link this node joined or founded with. */
	readonly linkSecret: string;
	readonly rooms: Rooms<M>;
	readonly now?: () => number;
	readonly log?: (message: string) => void;
}

export class RoomFollower<M> {
	readonly #options: RoomFollowerOptions<M>;
	readonly #now: () => number;
	readonly #log: (message: string) => void;
	#stop: (() => void) | null = null;
	#queue: Promise<void> = Promise.resolve();
	#current: RoomToJoin[] = [];

	constructor(options: RoomFollowerOptions<M>) {
		this.#options = options;
		this.#now = options.now ?? Date.now;
		this.#log = options.log ?? (() => {});
	}

	/** Joins the rooms for the ledger as it is, then follows it. */
	async start(): Promise<void> {
		const { ledger } = this.#options;
		const off = ledger.on('accepted', (blocks) => {
			if (blocks.some((b) => b.txs.some((tx) => tx.t === ROOM_ROTATE || tx.t.startsWith('member.')))) void this.update();
		});
		const timer = setInterval(() => void this.update(), ROOM_CHECK_MS);
		(timer as { unref?: () => void }).unref?.();
		this.#stop = () => {
			off();
			clearInterval(timer);
		};
		await this.update();
	}

	/** The secret of the newest room: what a network link or invite made now should carry. */
	get currentSecret(): string {
		return this.#current[0]?.secret ?? this.#options.linkSecret;
	}

	/** The rooms this node is in, newest first. */
	get rooms(): readonly RoomToJoin[] {
		return this.#current;
	}

	/** Rotates when this admin node should, then joins and leaves rooms to match the ledger; one at a time. */
	update(): Promise<void> {
		const run = this.#queue.then(() => this.#update());
		this.#queue = run.catch((error: unknown) => this.#log(`room: ${(error as Error).message}`));
		return this.#queue;
	}

	async #update(): Promise<void> {
		const { ledger, keyring, linkSecret, rooms } = this.#options;
		const rotation = await rotateRoomIfNeeded(ledger);
		if (rotation) this.#log(`room: this admin node gave the remaining members a new room secret (block ${rotation.id.slice(0, 8)})`);
		this.#current = keyring.roomsToJoin(ledger.net, linkSecret, rotationsOf(ledger), this.#now());
		const { joined, left } = await rooms.set(this.#current);
		for (const room of joined) if (room.epoch > 0) this.#log(`room: joined the room of epoch ${room.epoch}`);
		for (const room of left) this.#log(`room: left the room of epoch ${room.epoch}`);
	}

	/** Stops following; the rooms stay joined until the caller closes them. */
	stop(): void {
		this.#stop?.();
		this.#stop = null;
	}
}
