import { describe, expect, it } from 'vitest';
import {
	Ledger,
	Replicator,
	decodeCanonical,
	decodeMessage,
	encodeCanonical,
	encodeMessage,
	hashBody,
	memoryLinkPair
} from '../../../../src/lib/core/index.js';
import { createNodeVerifier } from '../../../../src/lib/core/crypto/node-verifier.js';
import { foundNetwork, joinNetwork, testSigner } from '../../../../src/lib/core/testing/fixtures.js';
import { tamperedHolder } from '../../support/tampered.js';

const settle = () => new Promise<void>((r) => setImmediate(r));
async function until(cond: () => boolean, ms = 10_000) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 5));
	}
}
/** Waits for `cond` over event-loop turns, never on the wall clock. */
async function untilTurns(cond: () => boolean, turns = 20_000) {
	for (let i = 0; i < turns && !cond(); i++) await settle();
	if (!cond()) throw new Error('condition not reached');
}
const vvKey = (l: Ledger) => JSON.stringify(Object.entries(l.versionVector()).sort());
const sameHeads = (a: Ledger, b: Ledger) => vvKey(a) === vvKey(b);

describe('sync over an in-memory link', () => {
	it('catches up a fresh node, then gossips new blocks both ways', async () => {
		const verifier = await createNodeVerifier();
		const a = await foundNetwork({ members: { b: 'clinician' }, verifier });
		for (let i = 0; i < 300; i++) await a.append([{ t: 'note', text: `a${i}` }]);
		const b = await joinNetwork(a.net, 'b', { verifier });
		const ra = new Replicator(a, { tickMs: 0 });
		const rb = new Replicator(b, { tickMs: 0, window: 50, batch: 20 });
		const [la, lb] = memoryLinkPair();
		const sa = ra.attach(la, 'to-b');
		const sb = rb.attach(lb, 'to-a');
		const progress: number[] = [];
		sb.on((e) => e.type === 'progress' && progress.push(e.received));
		await until(() => sameHeads(a, b));
		expect(progress.at(-1)).toBe(a.size);
		expect(progress.length).toBeGreaterThan(3);
		expect(sa.peerAuthor).toBe(b.author);
		const fromB = await b.append([{ t: 'note', text: 'hi from b' }]);
		await until(() => a.heads().some((h) => h.id === fromB.id));
		const fromA = await a.append([{ t: 'note', text: 'hi from a' }]);
		await until(() => b.heads().some((h) => h.id === fromA.id));
		expect(b.state()).toEqual(a.state());
		ra.close();
		rb.close();
	});

	it('carries a block larger than a frame in parts', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' }, rules: [{ type: 'blob', check: () => null }] });
		const big = new Uint8Array(1_200_000).map((_, i) => i * 7);
		const block = await a.append([{ t: 'blob', data: big }]);
		expect(block.bytes.length).toBeGreaterThan(1_000_000);
		const b = await joinNetwork(a.net, 'b', { rules: [{ type: 'blob', check: () => null }] });
		const ra = new Replicator(a, { tickMs: 0 });
		const rb = new Replicator(b, { tickMs: 0 });
		const [la, lb] = memoryLinkPair();
		ra.attach(la, 'b');
		rb.attach(lb, 'a');
		await until(() => sameHeads(a, b));
		expect((await b.store.get(block.id))?.bytes.length).toBe(block.bytes.length);
		ra.close();
		rb.close();
	});

	it('keeps a non-member as a guest: it gets nothing, may send a join request, and syncs once admitted', async () => {
		const a = await foundNetwork();
		const stranger = await joinNetwork(a.net, 'stranger');
		const ra = new Replicator(a, { tickMs: 0 });
		const rs = new Replicator(stranger, { tickMs: 0 });
		const [la, ls] = memoryLinkPair();
		const onA: string[] = [];
		const onS: string[] = [];
		const joins: string[] = [];
		const replies: string[] = [];
		const sa = ra.attach(la, 's');
		sa.on((e) => {
			onA.push(e.type === 'guest' ? `guest:${e.reason}` : e.type);
			if (e.type === 'join') joins.push(new TextDecoder().decode(e.data));
		});
		const ss = rs.attach(ls, 'a');
		ss.on((e) => {
			onS.push(e.type === 'refused' ? `refused:${e.reason}` : e.type);
			if (e.type === 'join-reply') replies.push(new TextDecoder().decode(e.data));
		});
		await until(() => onA.includes('guest:NOT_A_MEMBER') && onS.includes('refused:NOT_A_MEMBER'));
		expect(sa.state).toBe('guest');
		expect(ss.state).toBe('refused');
		expect(ss.deniedBy).toBe('NOT_A_MEMBER');
		// Nothing flows to a guest, not even gossip.
		await a.append([{ t: 'note', text: 'private' }]);
		await settle();
		expect(stranger.size).toBe(0);
		// The link carries a join request and its answer.
		ss.sendJoin(new TextEncoder().encode('please add me'));
		await until(() => joins.length === 1);
		sa.sendJoinReply(new TextEncoder().encode('ok, wait'));
		await until(() => replies.length === 1);
		expect([joins[0], replies[0]]).toEqual(['please add me', 'ok, wait']);
		// Admitted: the same link syncs, no reconnect needed.
		await a.append([{ t: 'member.add', key: testSigner('stranger').publicKey, role: 'clinician' }]);
		await until(() => sameHeads(a, stranger));
		expect(sa.state).toBe('ready');
		expect(ss.state).toBe('ready');
		expect(stranger.size).toBe(a.size);
		// Written by the new member, accepted by the admin.
		const mine = await stranger.append([{ t: 'note', text: 'hello from the new member' }]);
		await until(() => a.heads().some((h) => h.id === mine.id));
		// Revoked: the admin's side turns the session back into a guest and refuses its blocks.
		await a.append([{ t: 'member.revoke', key: testSigner('stranger').publicKey }]);
		await until(() => sa.state === 'guest');
		ra.close();
		rs.close();
	});

	it('closes the link to a node of another network', async () => {
		const a = await foundNetwork();
		const ra = new Replicator(a, { tickMs: 0 });
		const other = await foundNetwork({ founder: 'other' });
		const ro = new Replicator(other, { tickMs: 0 });
		const [la2, lo] = memoryLinkPair();
		const closed2: string[] = [];
		ra.attach(la2, 'o').on((e) => e.type === 'closed' && closed2.push(e.reason));
		ro.attach(lo, 'a');
		await until(() => closed2.length > 0);
		expect(closed2[0]).toMatch(/WRONG_NETWORK/);
		ra.close();
		ro.close();
	});

	it('refuses malformed frames with a count, and disconnects a flooder', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const ra = new Replicator(a, { tickMs: 0 });
		const [la, raw] = memoryLinkPair();
		const session = ra.attach(la, 'evil');
		raw.onFrame = () => {};
		raw.send(new Uint8Array([0xff]));
		raw.send(encodeMessage({ m: 'end' })); // before handshake
		await settle();
		expect(session.stats.protocolErrors).toBe(2);
		for (let i = 0; i < 30; i++) raw.send(new Uint8Array([1, 2, 3]));
		await until(() => session.state === 'closed');
		expect(() => decodeMessage(new Uint8Array(70_000))).toThrow(/exceeds/);
		expect(() =>
			decodeMessage(encodeMessage({ m: 'hello', v: 1, net: a.net, author: a.author!, nonce: new Uint8Array(32) }).slice(0, -1))
		).toThrow();
		ra.close();
	});

	it('a peer that sends a forged block is flagged; the honest blocks still arrive', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		const ra = new Replicator(a, { tickMs: 0 });
		const rb = new Replicator(b, { tickMs: 0 });
		const [la, lb] = memoryLinkPair();
		const sa = ra.attach(la, 'b');
		rb.attach(lb, 'a');
		await until(() => sameHeads(a, b));
		const good = await b.append([{ t: 'note', text: 'honest' }]);
		// Same body with another time, re-hashed, old signature: a fresh id that fails to verify.
		const body = encodeCanonical({ ...(decodeCanonical(good.body) as object), time: 1 } as never);
		const forged = encodeCanonical([hashBody(body), body, good.signature]);
		lb.send(encodeMessage({ m: 'blocks', items: [forged] }));
		await until(() => (sa.stats.rejected.BAD_SIGNATURE ?? 0) === 1);
		await until(() => a.heads().some((h) => h.id === good.id));
		expect(a.rejectedCounts().BAD_SIGNATURE).toBe(1);
		ra.close();
		rb.close();
	});

	it('a block refused from a peer is not asked for again in a loop', async () => {
		const { honest, evil } = await tamperedHolder();
		// Two seconds of a node's life on a shared virtual clock, ticked each second as the
		// Replicator's timer would, with every frame delivered before the next tick.
		const clock = { now: 1_000_000 };
		const rh = new Replicator(honest, { tickMs: 0, now: () => clock.now });
		const re = new Replicator(evil, { tickMs: 0, now: () => clock.now });
		const [a, b] = memoryLinkPair();
		const session = rh.attach(a, 'evil');
		re.attach(b, 'honest');
		await untilTurns(() => (session.stats.rejected.BAD_HASH ?? 0) >= 1);
		for (let second = 0; second < 2; second++) {
			clock.now += 1000;
			rh.tick();
			re.tick();
			for (let i = 0; i < 200; i++) await settle();
		}
		expect(session.stats.rejected.BAD_HASH).toBeGreaterThanOrEqual(1);
		expect(session.stats.rejected.BAD_HASH).toBeLessThan(5);
		expect(session.state).toBe('ready');
		rh.close();
		re.close();
	});
});
