/**
 * Issue 16 item 2: the room secret rotates on revocation. A revoked member keeps the
 * network link's secret; after the rotation the remaining members move to a room it
 * cannot name, stay in the old one only for the grace period, and every node agrees on
 * which rotation is the newest. Bogus rotations (not an admin, a reader that is not a
 * member, a copy that does not open to the committed secret) move nobody.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, type AuthorId, type Ledger, type Tx } from '$lib/core/index.js';
import { roomName } from '$lib/core/sync/mesh.js';
import { authorOf, foundNetwork, joinNetwork, makeBlock, syncInto, testSecret, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { Rooms, type RoomSpec } from '$lib/core/sync/rooms.js';
import { RoomFollower } from '$lib/domain/room-follower.js';
import {
	nextRoomEpoch,
	openRoomSecret,
	ROOM_GRACE_MS,
	roomRotateTx,
	roomsToJoin,
	RoomSecretError,
	rotationNeeded,
	rotateRoomIfNeeded,
	rotationsNewestFirst,
	rotationsOf
} from '$lib/domain/room-secret.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const LINK_SECRET = 'ab'.repeat(32);
const NOW = 1_700_000_000_000;
const secretXOf = (label: string) => encryptionSecretKey(testSecret(label));
const roomsOf = (ledger: Ledger, label: string, now = NOW) =>
	roomsToJoin({
		net: ledger.net,
		linkSecret: LINK_SECRET,
		rotations: rotationsOf(ledger),
		self: authorOf(label),
		secretX: secretXOf(label),
		now
	});

/** What an admin node does when a rotation is needed: a fresh secret for everyone left. */
async function rotate(admin: Ledger): Promise<string> {
	const { needed, readers } = rotationNeeded(rotationsOf(admin), admin.roster(), admin.revocations());
	expect(needed).toBe(true);
	const secret = crypto.getRandomValues(new Uint8Array(32));
	await admin.append([roomRotateTx(admin.net, nextRoomEpoch(rotationsOf(admin)), secret, readers)]);
	return toHex(secret);
}

async function scene() {
	const a = await foundNetwork({
		...options,
		founder: 'admin-a',
		members: { 'admin-b': 'admin', 'clinic-c': 'clinician', 'rogue-r': 'clinician' }
	});
	expect(rotationNeeded(rotationsOf(a), a.roster(), a.revocations()).needed).toBe(false);
	await a.append([{ t: 'member.revoke', key: fromHex(authorOf('rogue-r')), reason: 'left the network' }]);
	return a;
}

describe('room secret rotation', () => {
	it('after a revocation the remaining members share a new room the revoked member cannot name, and keep the old one only for the grace period', async () => {
		const a = await scene();
		const secret = await rotate(a);
		expect(rotationNeeded(rotationsOf(a), a.roster(), a.revocations()).needed).toBe(false);
		const c = await joinNetwork(a.net, 'clinic-c', options);
		await syncInto(c, a);
		for (const [node, label] of [
			[a, 'admin-a'],
			[c, 'clinic-c']
		] as const) {
			const rooms = roomsOf(node, label);
			expect(rooms.map((r) => r.secret)).toEqual([secret, LINK_SECRET]);
			expect(rooms[0]!.until).toBeNull();
			expect(rooms[1]!.until).toBe(NOW + ROOM_GRACE_MS);
			expect(roomsOf(node, label, NOW + ROOM_GRACE_MS + 1).map((r) => r.secret)).toEqual([secret]);
		}
		// The revoked member holds the blocks (it synced before) but has no copy: it stays in the old room, alone after the grace period.
		const r = await joinNetwork(a.net, 'rogue-r', options);
		await syncInto(r, a);
		expect(roomsOf(r, 'rogue-r').map((room) => room.secret)).toEqual([LINK_SECRET]);
		const rotation = rotationsNewestFirst(rotationsOf(r))[0]!;
		expect(() => openRoomSecret(rotation, a.net, authorOf('rogue-r'), secretXOf('rogue-r'))).toThrow(RoomSecretError);
		expect(roomName(a.net, secret)).not.toBe(roomName(a.net, LINK_SECRET));
		// The keyring gives a node the same answer without exposing its secret.
		expect(new Keyring(authorOf('clinic-c'), secretXOf('clinic-c')).roomsToJoin(c.net, LINK_SECRET, rotationsOf(c), NOW)).toEqual(
			roomsOf(c, 'clinic-c')
		);
	});

	it('an admin node rotates by itself once, a non-admin never', async () => {
		const a = await scene();
		const c = await joinNetwork(a.net, 'clinic-c', options);
		await syncInto(c, a);
		expect(await rotateRoomIfNeeded(c)).toBeNull();
		const block = await rotateRoomIfNeeded(a);
		expect(block?.txs[0]?.t).toBe('room.rotate');
		expect(await rotateRoomIfNeeded(a)).toBeNull();
		await syncInto(c, a);
		expect(roomsOf(c, 'clinic-c')[0]!.epoch).toBe(1);
	});

	it('an admin node following its ledger rotates on a revocation and moves, keeping the old room for the grace period', async () => {
		const a = await foundNetwork({ ...options, founder: 'admin-a', members: { 'clinic-c': 'clinician', 'rogue-r': 'clinician' } });
		const joined: number[] = [];
		const rooms = new Rooms<RoomSpec>(
			(room) => (joined.push(room.epoch), room),
			() => undefined
		);
		let now = NOW;
		const follower = new RoomFollower({
			ledger: a,
			keyring: new Keyring(authorOf('admin-a'), secretXOf('admin-a')),
			linkSecret: LINK_SECRET,
			rooms,
			now: () => now
		});
		await follower.start();
		expect(rooms.rooms()).toEqual([{ secret: LINK_SECRET, epoch: 0, until: null }]);
		expect(follower.currentSecret).toBe(LINK_SECRET);
		await a.append([{ t: 'member.revoke', key: fromHex(authorOf('rogue-r')) }]);
		await follower.update();
		expect(rooms.rooms().map((r) => r.epoch)).toEqual([1, 0]);
		expect(follower.currentSecret).not.toBe(LINK_SECRET);
		expect(
			Object.values(rotationsOf(a))[0]!
				.wraps.map((w) => w.reader)
				.sort()
		).toEqual([authorOf('admin-a'), authorOf('clinic-c')].sort());
		now += ROOM_GRACE_MS + 1;
		await follower.update();
		expect(rooms.rooms().map((r) => r.epoch)).toEqual([1]);
		follower.stop();
		expect(joined).toEqual([0, 1]);
	});

	it('a member added after a rotation needs one, and a second revocation moves everyone again', async () => {
		const a = await scene();
		const first = await rotate(a);
		await a.append([{ t: 'member.add', key: fromHex(authorOf('clinic-d')), role: 'clinician' }]);
		expect(rotationNeeded(rotationsOf(a), a.roster(), a.revocations())).toMatchObject({ needed: true });
		const second = await rotate(a);
		await a.append([{ t: 'member.revoke', key: fromHex(authorOf('clinic-c')) }]);
		const third = await rotate(a);
		expect(new Set([first, second, third]).size).toBe(3);
		// D's link was the first rotated secret: it moves to the newest room and keeps the ones it opened during the grace period.
		const d = roomsToJoin({
			net: a.net,
			linkSecret: first,
			rotations: rotationsOf(a),
			self: authorOf('clinic-d'),
			secretX: secretXOf('clinic-d'),
			now: NOW
		});
		expect(d.map((r) => r.secret)).toEqual([third, second, first]);
		// C opened the first two only: it cannot follow into the third.
		expect(roomsOf(a, 'clinic-c').map((r) => r.secret)).toEqual([second, first, LINK_SECRET]);
		expect(roomsOf(a, 'clinic-c', NOW + ROOM_GRACE_MS + 1).map((r) => r.secret)).toEqual([second]);
	});

	it('two admins rotating at once: every node, whatever the arrival order, orders the rotations alike and ends in the same room', async () => {
		const a = await scene();
		const b = await joinNetwork(a.net, 'admin-b', options);
		await syncInto(b, a);
		const secretA = await rotate(a);
		const secretB = await rotate(b);
		await syncInto(a, b);
		await syncInto(b, a);
		const c1 = await joinNetwork(a.net, 'clinic-c', options);
		await syncInto(c1, b);
		const c2 = await joinNetwork(a.net, 'clinic-c', options);
		await syncInto(c2, a);
		const order = (ledger: Ledger) => rotationsNewestFirst(rotationsOf(ledger)).map((r) => r.block);
		expect(order(a)).toEqual(order(b));
		expect(order(c1)).toEqual(order(c2));
		expect(order(a)).toEqual(order(c1));
		const rooms = roomsOf(c1, 'clinic-c');
		expect(rooms).toEqual(roomsOf(c2, 'clinic-c'));
		expect(rooms[0]!.until).toBeNull();
		expect([secretA, secretB]).toContain(rooms[0]!.secret);
		expect(rooms.filter((r) => r.until === null)).toHaveLength(1);
	});

	it('refuses rotations from non-admins, for non-members, and every malformed shape', async () => {
		const a = await scene();
		const readers = [authorOf('admin-a'), authorOf('clinic-c')] as AuthorId[];
		const good = roomRotateTx(a.net, 1, new Uint8Array(32).fill(7), readers);
		const receive = async (label: string, tx: Tx) => {
			const made = await makeBlock(testSigner(label), {
				net: a.net as never,
				deps: a
					.heads()
					.map((h) => h.id)
					.sort(),
				clock: 1 + Math.max(...a.heads().map((h) => h.clock)),
				txs: [tx]
			});
			return (await a.receive([made.bytes])).rejected.map((r) => r.code);
		};
		expect(await receive('clinic-c', good)).toEqual(['NOT_AUTHORIZED']);
		const wraps = good.wraps as Record<string, Uint8Array>[];
		const bad: Tx[] = [
			{ ...good, epoch: 0 },
			{ ...good, epoch: -1 },
			{ ...good, epoch: '1' },
			{ ...good, kid: new Uint8Array(15) },
			{ ...good, wraps: [] },
			{ ...good, extra: 1 },
			{ ...good, wraps: [...wraps, wraps[0]!] },
			{ ...good, wraps: [{ ...wraps[0]!, reader: fromHex(authorOf('rogue-r')) }] },
			{ ...good, wraps: [{ ...wraps[0]!, reader: fromHex(authorOf('stranger')) }] },
			{ ...good, wraps: [{ ...wraps[0]!, nonce: new Uint8Array(12) }] },
			{ ...good, wraps: [{ ...wraps[0]!, more: 1 }] },
			{ ...good, wraps: [new Uint8Array(32)] }
		];
		for (const tx of bad) expect(await receive('admin-b', tx)).toEqual(['TX_INVALID']);
	});

	it('a copy that was changed, or that opens to another secret than the committed one, moves nobody', async () => {
		const a = await scene();
		const readers = [authorOf('admin-a'), authorOf('clinic-c')] as AuthorId[];
		const secret = new Uint8Array(32).fill(9);
		const tx = roomRotateTx(a.net, 1, secret, readers);
		const rotation = (over: Partial<Tx>) => {
			const t = { ...tx, ...over };
			return {
				block: 'ff'.repeat(32),
				epoch: t.epoch as number,
				time: NOW,
				kid: toHex(t.kid as Uint8Array),
				wraps: (t.wraps as { reader: Uint8Array; eph: Uint8Array; nonce: Uint8Array; wrapped: Uint8Array }[]).map((w) => ({
					...w,
					reader: toHex(w.reader) as AuthorId
				}))
			};
		};
		const c = authorOf('clinic-c');
		expect(toHex(openRoomSecret(rotation({}), a.net, c, secretXOf('clinic-c')))).toBe(toHex(secret));
		const flipped = (tx.wraps as { wrapped: Uint8Array }[]).map((w) => ({ ...w, wrapped: w.wrapped.map((b, i) => (i === 0 ? b ^ 1 : b)) }));
		// An admin giving members different secrets: each copy opens, but not to the committed secret.
		const otherSecret = roomRotateTx(a.net, 1, new Uint8Array(32).fill(10), readers);
		for (const bogus of [
			rotation({ wraps: flipped }),
			rotation({ epoch: 2 }),
			rotation({ kid: otherSecret.kid }),
			{ ...rotation({}), kid: toHex(otherSecret.kid as Uint8Array) }
		]) {
			expect(() => openRoomSecret(bogus, a.net, c, secretXOf('clinic-c'))).toThrow(RoomSecretError);
			expect(
				roomsToJoin({
					net: a.net,
					linkSecret: LINK_SECRET,
					rotations: { [bogus.block]: bogus },
					self: c,
					secretX: secretXOf('clinic-c'),
					now: NOW
				})
			).toEqual([{ secret: LINK_SECRET, epoch: 0, until: null }]);
		}
		expect(() => openRoomSecret(rotation({}), a.net, c, secretXOf('admin-a'))).toThrow(RoomSecretError);
	});
});
