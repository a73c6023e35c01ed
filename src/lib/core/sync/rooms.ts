/**
 * The signaling rooms a node is in at once (docs/protocol.md, *Room secret*): one mesh
 * per room secret, joined and left as the list changes. After a rotation the list is the
 * new room and, for a grace period, the old one; the mesh in the newest room is the
 * node's main one (its presence, its counts).
 */

/** A room to be in: its secret (hex) and its epoch (0 for a network link's first secret). */
export interface RoomSpec {
	readonly secret: string;
	readonly epoch: number;
}

export class Rooms<M> {
	readonly #join: (room: RoomSpec) => M;
	readonly #leave: (mesh: M) => void | Promise<void>;
	#meshes = new Map<string, { room: RoomSpec; mesh: M }>();

	constructor(join: (room: RoomSpec) => M, leave: (mesh: M) => void | Promise<void>) {
		this.#join = join;
		this.#leave = leave;
	}

	/** Joins the rooms not joined yet and leaves the ones no longer listed; says what changed. */
	async set(rooms: readonly RoomSpec[]): Promise<{ joined: RoomSpec[]; left: RoomSpec[] }> {
		const wanted = new Map(rooms.map((r) => [r.secret, r]));
		const left: RoomSpec[] = [];
		for (const [secret, { room, mesh }] of [...this.#meshes]) {
			if (wanted.has(secret)) continue;
			this.#meshes.delete(secret);
			left.push(room);
			await this.#leave(mesh);
		}
		const joined: RoomSpec[] = [];
		for (const room of wanted.values()) {
			if (this.#meshes.has(room.secret)) continue;
			this.#meshes.set(room.secret, { room, mesh: this.#join(room) });
			joined.push(room);
		}
		return { joined, left };
	}

	/** The mesh of the newest room; null before the first {@link set}. */
	get current(): M | null {
		let best: { room: RoomSpec; mesh: M } | null = null;
		for (const entry of this.#meshes.values()) if (!best || entry.room.epoch > best.room.epoch) best = entry;
		return best?.mesh ?? null;
	}

	/** Every mesh, newest room first. */
	all(): M[] {
		return [...this.#meshes.values()].sort((a, b) => b.room.epoch - a.room.epoch).map((e) => e.mesh);
	}

	rooms(): RoomSpec[] {
		return [...this.#meshes.values()].map((e) => e.room).sort((a, b) => b.epoch - a.epoch);
	}

	/** Leaves every room. */
	async close(): Promise<void> {
		await this.set([]);
	}
}
