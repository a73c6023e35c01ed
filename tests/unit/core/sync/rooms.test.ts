/**
 * Being in two rooms at once (the new one and, for its grace period, the old one, see
 * docs/protocol.md *Room secret*): two nodes then meet twice. Both keep the session in the
 * newer room and close the other, whatever the order the sessions come up in, so one pair
 * never streams the same blocks twice; sessions in the same room are left alone. The
 * room list joins and leaves meshes as it changes.
 */
import { describe, expect, it } from 'vitest';
import { Replicator, memoryLinkPair, type Ledger } from '$lib/core/index.js';
import { Rooms, type RoomSpec } from '$lib/core/sync/rooms.js';
import { foundNetwork, joinNetwork } from '$lib/core/testing/fixtures.js';

const settle = async (turns = 20) => {
	for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};
const vv = (l: Ledger) => JSON.stringify(Object.entries(l.versionVector()).sort());

async function pair() {
	const a = await foundNetwork({ members: { b: 'clinician' } });
	for (let i = 0; i < 50; i++) await a.append([{ t: 'note', text: `a${i}` }]);
	const b = await joinNetwork(a.net, 'b');
	return { a, b, ra: new Replicator(a, { tickMs: 0 }), rb: new Replicator(b, { tickMs: 0 }) };
}

describe('two rooms at once', () => {
	for (const order of [
		['old', 'new'],
		['new', 'old']
	] as const) {
		it(`keeps only the session in the newer room on both sides (the ${order[0]} room's session first)`, async () => {
			const { a, b, ra, rb } = await pair();
			const ranks = { old: 0, new: 1 };
			for (const room of order) {
				const [la, lb] = memoryLinkPair();
				ra.attach(la, `b-${room}`, ranks[room]);
				rb.attach(lb, `a-${room}`, ranks[room]);
				await settle();
			}
			await settle(100);
			expect(ra.sessions().map((s) => s.label)).toEqual(['b-new']);
			expect(rb.sessions().map((s) => s.label)).toEqual(['a-new']);
			expect(vv(b)).toBe(vv(a));
			const late = await a.append([{ t: 'note', text: 'after the move' }]);
			await settle(100);
			expect(b.heads().some((h) => h.id === late.id)).toBe(true);
			ra.close();
			rb.close();
		});
	}

	it('leaves two sessions in the same room alone', async () => {
		const { ra, rb } = await pair();
		for (const label of ['x', 'y']) {
			const [la, lb] = memoryLinkPair();
			ra.attach(la, `b-${label}`, 2);
			rb.attach(lb, `a-${label}`, 2);
		}
		await settle(100);
		expect(ra.sessions()).toHaveLength(2);
		ra.close();
		rb.close();
	});
});

describe('the room list', () => {
	it('joins new rooms, leaves dropped ones, and names the newest as current', async () => {
		const log: string[] = [];
		const rooms = new Rooms<RoomSpec>(
			(room) => (log.push(`join ${room.epoch}`), room),
			(room) => void log.push(`leave ${room.epoch}`)
		);
		expect(rooms.current).toBeNull();
		await rooms.set([{ secret: 'aa', epoch: 0 }]);
		expect(
			await rooms.set([
				{ secret: 'bb', epoch: 1 },
				{ secret: 'aa', epoch: 0 }
			])
		).toEqual({ joined: [{ secret: 'bb', epoch: 1 }], left: [] });
		expect(rooms.current).toEqual({ secret: 'bb', epoch: 1 });
		expect(rooms.all().map((m) => m.epoch)).toEqual([1, 0]);
		expect(await rooms.set([{ secret: 'bb', epoch: 1 }])).toEqual({ joined: [], left: [{ secret: 'aa', epoch: 0 }] });
		await rooms.close();
		expect(log).toEqual(['join 0', 'join 1', 'leave 0', 'leave 1']);
		expect(rooms.current).toBeNull();
	});
});
