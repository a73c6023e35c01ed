/**
 * Rotating the room secret (docs/protocol.md, *Room secret*).
 *
 * The room secret names the signaling room and is y-webrtc's password; every member got it
 * in its network link, and a revoked member keeps it. A revoked member gets no block (its
 * handshake makes it a guest), but with the secret it still finds the room and sees
 * presence. So once a revocation takes effect an admin writes `room.rotate`: a fresh secret
 * wrapped for each remaining member (X25519 with the member's key, as record keys are),
 * with a commitment (`kid`) that lets each member check it got the same secret as the
 * others. Members move to the newest room they can open and stay in the room they leave for
 * {@link ROOM_GRACE_MS}, so a clinic that was offline during the revocation still finds a
 * peer there to give it the rotation; after that the old room is left to the revoked.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
	ADMIN,
	CodedError,
	bytesEqual,
	encodeCanonical,
	fromHex,
	toHex,
	type AuthorId,
	type Block,
	type CborValue,
	type Fold,
	type Ledger,
	type Roster,
	type Tx,
	type TxRule
} from '$lib/core/index.js';

export const ROOM_ROTATE = 'room.rotate';
/** How long members stay in the room they move out of: longer than a clinic is expected to stay offline. */
export const ROOM_GRACE_MS = 14 * 24 * 60 * 60 * 1000;
/** The most wraps one rotation carries (one per member). */
export const MAX_ROOM_READERS = 2000;

const SECRET_BYTES = 32;
const NONCE_BYTES = 24;
const KID_BYTES = 16;
const WRAP_INFO = new TextEncoder().encode('clinic-ledger/room-wrap/v1');
const KID_DOMAIN = new TextEncoder().encode('clinic-ledger/room-kid/v1');

/** A wrap that does not open for this node, or a secret that is not the one committed to. */
export class RoomSecretError extends CodedError {
	override readonly name = 'RoomSecretError';
	constructor(message: string) {
		super('ROOM_SECRET', message);
	}
}

/** One member's copy of a rotated secret. */
export interface RoomWrap {
	/** The member's key (hex). */
	readonly reader: AuthorId;
	/** Ephemeral X25519 public key. */
	readonly eph: Uint8Array;
	readonly nonce: Uint8Array;
	/** The secret, encrypted (32 + 16 bytes). */
	readonly wrapped: Uint8Array;
}

/** A rotation as the ledger holds it. */
export interface RoomRotation {
	readonly block: string;
	readonly epoch: number;
	readonly time: number;
	/** Commitment to the secret (hex). */
	readonly kid: string;
	readonly wraps: readonly RoomWrap[];
}

/** Commitment to a room secret: the same for every member who got the same secret. */
export function roomKeyId(net: string, epoch: number, secret: Uint8Array): Uint8Array {
	return sha256(new Uint8Array([...KID_DOMAIN, ...encodeCanonical({ net, epoch }), ...secret])).slice(0, KID_BYTES);
}

const aad = (net: string, epoch: number, reader: string) => encodeCanonical({ v: 1, kind: 'room-wrap', net, epoch, reader });

function kek(shared: Uint8Array, eph: Uint8Array, readerX: Uint8Array): Uint8Array {
	if (shared.every((b) => b === 0)) throw new RoomSecretError('key agreement with a small-order key');
	return hkdf(sha256, shared, new Uint8Array([...eph, ...readerX]), WRAP_INFO, SECRET_BYTES);
}

/** The `room.rotate` transaction giving `secret` (fresh, 32 bytes) to each of `readers`. */
export function roomRotateTx(net: string, epoch: number, secret: Uint8Array, readers: readonly AuthorId[]): Tx {
	if (secret.length !== SECRET_BYTES) throw new RoomSecretError('a room secret is 32 bytes');
	const ephSecret = x25519.utils.randomSecretKey();
	const eph = x25519.getPublicKey(ephSecret);
	try {
		const wraps = [...new Set(readers)].sort().map((reader) => {
			const readerX = ed25519.utils.toMontgomery(fromHex(reader));
			const key = kek(x25519.getSharedSecret(ephSecret, readerX), eph, readerX);
			const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
			return { reader: fromHex(reader), eph, nonce, wrapped: xchacha20poly1305(key, nonce, aad(net, epoch, reader)).encrypt(secret) };
		});
		return { t: ROOM_ROTATE, epoch, kid: roomKeyId(net, epoch, secret), wraps };
	} finally {
		ephSecret.fill(0);
	}
}

/**
 * This node's room secret from a rotation, checked against the rotation's commitment;
 * throws {@link RoomSecretError} when the rotation has no wrap for `reader` or it does not
 * open to the committed secret.
 */
export function openRoomSecret(rotation: RoomRotation, net: string, reader: AuthorId, readerSecretX: Uint8Array): Uint8Array {
	const wrap = rotation.wraps.find((w) => w.reader === reader);
	if (!wrap) throw new RoomSecretError('this rotation has no copy of the secret for this node');
	const readerX = x25519.getPublicKey(readerSecretX);
	let secret: Uint8Array;
	try {
		const key = kek(x25519.getSharedSecret(readerSecretX, wrap.eph), wrap.eph, readerX);
		secret = xchacha20poly1305(key, wrap.nonce, aad(net, rotation.epoch, reader)).decrypt(wrap.wrapped);
	} catch (error) {
		if (error instanceof RoomSecretError) throw error;
		throw new RoomSecretError('this node’s copy of the room secret does not open: it was changed or is not for this node');
	}
	if (!bytesEqual(roomKeyId(net, rotation.epoch, secret), fromHex(rotation.kid)))
		throw new RoomSecretError('the room secret this node got is not the one the rotation commits to');
	return secret;
}

const isBytes = (v: CborValue | undefined, n: number): v is Uint8Array => v instanceof Uint8Array && v.length === n;

export const roomRotateRule: TxRule = {
	type: ROOM_ROTATE,
	roles: [ADMIN],
	check(tx, { roster }) {
		for (const key of Object.keys(tx))
			if (key !== 't' && key !== 'epoch' && key !== 'kid' && key !== 'wraps') return `unexpected field ${key}`;
		if (typeof tx.epoch !== 'number' || !Number.isSafeInteger(tx.epoch) || tx.epoch < 1) return 'epoch: expected a whole number from 1';
		if (!isBytes(tx.kid, KID_BYTES)) return `kid: expected ${KID_BYTES} bytes`;
		if (!Array.isArray(tx.wraps) || tx.wraps.length === 0 || tx.wraps.length > MAX_ROOM_READERS)
			return `wraps: expected 1 to ${MAX_ROOM_READERS}`;
		const seen = new Set<string>();
		for (const [i, w] of tx.wraps.entries()) {
			if (w === null || typeof w !== 'object' || Array.isArray(w) || w instanceof Uint8Array) return `wraps[${i}]: expected map`;
			if (Object.keys(w).length !== 4) return `wraps[${i}]: expected reader, eph, nonce and wrapped only`;
			if (!isBytes(w.reader, 32) || !isBytes(w.eph, 32) || !isBytes(w.nonce, NONCE_BYTES) || !isBytes(w.wrapped, SECRET_BYTES + 16))
				return `wraps[${i}]: malformed`;
			const reader = toHex(w.reader);
			if (seen.has(reader)) return `wraps[${i}].reader: twice`;
			seen.add(reader);
			if (!roster.has(reader as AuthorId)) return `wraps[${i}].reader: not a member`;
		}
		return null;
	}
};

/** Every rotation on the ledger (void blocks are never folded), by block id. */
export type RoomRotations = Record<string, RoomRotation>;

export const roomRotationsFold: Fold<RoomRotations> = {
	name: 'room-rotations',
	version: 1,
	affectedBy: (type) => type === ROOM_ROTATE,
	init: () => ({}),
	apply(state, block: Block) {
		for (const tx of block.txs) {
			if (tx.t !== ROOM_ROTATE) continue;
			const wraps = (tx.wraps as { reader: Uint8Array; eph: Uint8Array; nonce: Uint8Array; wrapped: Uint8Array }[]).map((w) => ({
				reader: toHex(w.reader) as AuthorId,
				eph: w.eph,
				nonce: w.nonce,
				wrapped: w.wrapped
			}));
			state[block.id] = { block: block.id, epoch: tx.epoch as number, time: block.time, kid: toHex(tx.kid as Uint8Array), wraps };
		}
		return state;
	},
	encode: (state) =>
		Object.fromEntries(
			Object.entries(state).map(([id, r]) => [id, { ...r, wraps: r.wraps.map((w) => ({ ...w })) }])
		) as unknown as CborValue,
	decode: (value) => value as unknown as RoomRotations
};

/** Rotations newest first: higher epoch, then (concurrent rotations) the smaller block id; the same order on every node. */
export function rotationsNewestFirst(rotations: RoomRotations): RoomRotation[] {
	return Object.values(rotations).sort((a, b) => b.epoch - a.epoch || (a.block < b.block ? -1 : a.block > b.block ? 1 : 0));
}

/** The epoch a new rotation takes: one past every rotation this node knows. */
export function nextRoomEpoch(rotations: RoomRotations): number {
	return 1 + Math.max(0, ...Object.values(rotations).map((r) => r.epoch));
}

/**
 * Whether an admin should rotate now, and for whom: when a key the newest rotation gave
 * the secret to is revoked, when no rotation exists yet but a key holding the network
 * link was revoked, or when a member has no copy of the newest secret (added since).
 */
export function rotationNeeded(
	rotations: RoomRotations,
	roster: Roster,
	revoked: ReadonlyMap<AuthorId, number> | ReadonlySet<AuthorId>
): { needed: boolean; readers: AuthorId[] } {
	const readers = [...roster.keys()].filter((key) => !revoked.has(key)).sort();
	const newest = rotationsNewestFirst(rotations)[0];
	if (!newest) return { needed: revoked.size > 0, readers };
	const given = new Set(newest.wraps.map((w) => w.reader));
	const needed = [...given].some((key) => revoked.has(key)) || readers.some((key) => !given.has(key));
	return { needed, readers };
}

/** The rotations a ledger holds (its `room-rotations` fold). */
export const rotationsOf = (ledger: Ledger): RoomRotations => (ledger.state()[roomRotationsFold.name] ?? {}) as RoomRotations;

/**
 * Writes a rotation when one is needed ({@link rotationNeeded}) and this node is an admin
 * that may write; returns the block written, or null. Two admins doing it at once is
 * harmless: every node ranks the rotations alike and moves to the same newest room.
 */
export async function rotateRoomIfNeeded(ledger: Ledger): Promise<Block | null> {
	const self = ledger.author;
	if (!self || ledger.roster().get(self) !== ADMIN) return null;
	const rotations = rotationsOf(ledger);
	const { needed, readers } = rotationNeeded(rotations, ledger.roster(), ledger.revocations());
	if (!needed || readers.length === 0) return null;
	const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
	try {
		return await ledger.append([roomRotateTx(ledger.net, nextRoomEpoch(rotations), secret, readers)]);
	} finally {
		secret.fill(0);
	}
}

/** A room this node should be in, and why. */
export interface RoomToJoin {
	/** The secret, hex (what y-webrtc and the room name take). */
	readonly secret: string;
	readonly epoch: number;
	/** When this node leaves it (a newer room it can open took over); null: the current room. */
	readonly until: number | null;
}

/**
 * The rooms to be in now: the newest secret this node can open, and each older one it
 * knows (its network link's included) for {@link ROOM_GRACE_MS} after a newer one it can
 * open was written. Rotations it cannot open (written before it was a member, or by an
 * admin who had not seen it yet) do not move it.
 */
export function roomsToJoin(options: {
	net: string;
	linkSecret: string;
	rotations: RoomRotations;
	self: AuthorId;
	secretX: Uint8Array;
	now: number;
}): RoomToJoin[] {
	const { net, linkSecret, rotations, self, secretX, now } = options;
	const known: { secret: string; epoch: number; time: number }[] = [];
	for (const rotation of rotationsNewestFirst(rotations)) {
		if (!rotation.wraps.some((w) => w.reader === self)) continue;
		try {
			known.push({ secret: toHex(openRoomSecret(rotation, net, self, secretX)), epoch: rotation.epoch, time: rotation.time });
		} catch {
			// A bogus copy (an admin's mistake or malice) does not move this node; it stays where it can still meet the others.
		}
	}
	if (!known.some((k) => k.secret === linkSecret)) {
		const linkEpoch =
			Object.values(rotations).find((r) => bytesEqual(fromHex(r.kid), roomKeyId(net, r.epoch, fromHex(linkSecret))))?.epoch ?? 0;
		known.push({ secret: linkSecret, epoch: linkEpoch, time: 0 });
	}
	known.sort((a, b) => b.epoch - a.epoch);
	const rooms: RoomToJoin[] = [];
	for (const [i, k] of known.entries()) {
		if (rooms.some((r) => r.secret === k.secret)) continue;
		// Superseded when the first room ordered before it (newer, or concurrent and winning) was written.
		const newer = known.slice(0, i);
		const supersededAt = newer.length === 0 ? null : Math.min(...newer.map((n) => n.time));
		if (supersededAt === null) rooms.push({ secret: k.secret, epoch: k.epoch, until: null });
		else if (supersededAt + ROOM_GRACE_MS > now) rooms.push({ secret: k.secret, epoch: k.epoch, until: supersededAt + ROOM_GRACE_MS });
	}
	return rooms;
}
