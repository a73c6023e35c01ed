/**
 * The sync handshake proves a key on this very link: an answer relayed from another link
 * or made for another peer is refused, and a flood of hellos costs one signature.
 */
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { Replicator, decodeMessage, encodeMessage, memoryLinkPair, type Link, type Message } from '../../../../src/lib/core/index.js';
import { dtlsChannelBinding } from '../../../../src/lib/core/sync/channel-link.js';
import { PROTOCOL_VERSION } from '../../../../src/lib/core/sync/messages.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSigner } from '../../../../src/lib/core/testing/fixtures.js';

async function until(cond: () => boolean, turns = 5000) {
	for (let i = 0; i < turns && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
	if (!cond()) throw new Error('condition not reached');
}
const turns = async (n: number) => {
	for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Victim (founder, holds the ledger), an honest member, and a revoked member as attacker. */
async function cast() {
	const victim = await foundNetwork({ members: { honest: 'clinician', mallory: 'clinician' } });
	for (let i = 0; i < 20; i++) await victim.append([{ t: 'note', text: `private ${i}` }]);
	await victim.append([{ t: 'member.revoke', key: testSigner('mallory').publicKey }]);
	const honest = await joinNetwork(victim.net, 'honest');
	await syncInto(honest, victim);
	expect(honest.size).toBe(victim.size);
	const rv = new Replicator(victim, { tickMs: 0 });
	const rh = new Replicator(honest, { tickMs: 0 });
	return { victim, honest, rv, rh };
}

/** Frame types seen on an attacker's link end. */
function tap(link: Link, seen: Message['m'][], forward?: (frame: Uint8Array) => void) {
	link.onFrame = (frame) => {
		seen.push(decodeMessage(frame).m);
		forward?.(frame);
	};
}

describe('a relayed handshake gets no block', () => {
	it('full relay of every frame between two honest nodes: each connection has its own binding, the answers do not match', async () => {
		const { victim, honest, rv, rh } = await cast();
		const [toVictim, mallory1] = memoryLinkPair();
		const [mallory2, toHonest] = memoryLinkPair();
		const fromVictim: Message['m'][] = [];
		const fromHonest: Message['m'][] = [];
		tap(mallory1, fromVictim, (f) => mallory2.open && mallory2.send(f));
		tap(mallory2, fromHonest, (f) => mallory1.open && mallory1.send(f));
		const sv = rv.attach(toVictim, 'mallory');
		const sh = rh.attach(toHonest, 'mallory');
		const closed: string[] = [];
		sv.on((e) => e.type === 'closed' && closed.push(e.reason));
		await until(() => sv.state === 'closed' && sh.state === 'closed');
		await turns(20);
		expect(closed[0]).toMatch(/^BAD_SIGNATURE/);
		for (const seen of [fromVictim, fromHonest]) expect(seen.filter((m) => m === 'blocks' || m === 'part' || m === 'offer')).toEqual([]);
		expect(sv.stats.blocksOut + sh.stats.blocksOut).toBe(0);
		expect(victim.size).toBe(honest.size);
		rv.close();
		rh.close();
	});

	it("the victim's nonce passed to an honest member, its answer shown to the victim: refused even on links without a binding", async () => {
		const { victim, rv, rh } = await cast();
		const mallory = await joinNetwork(victim.net, 'mallory');
		const [toVictim, m1] = memoryLinkPair(undefined, null);
		const [m2, toHonest] = memoryLinkPair(undefined, null);
		const fromVictim: Message[] = [];
		const fromHonest: Message[] = [];
		m1.onFrame = (f) => fromVictim.push(decodeMessage(f));
		m2.onFrame = (f) => fromHonest.push(decodeMessage(f));
		const sv = rv.attach(toVictim, 'mallory-as-honest');
		const sh = rh.attach(toHonest, 'mallory');
		const closed: string[] = [];
		sv.on((e) => e.type === 'closed' && closed.push(e.reason));
		await until(() => fromVictim.some((m) => m.m === 'hello'));
		const victimHello = fromVictim.find((m) => m.m === 'hello') as Extract<Message, { m: 'hello' }>;
		// To the honest member, as itself but with the victim's nonce.
		m2.send(encodeMessage({ m: 'hello', v: PROTOCOL_VERSION, net: victim.net, author: mallory.author!, nonce: victimHello.nonce }));
		await until(() => fromHonest.some((m) => m.m === 'auth'));
		const answer = fromHonest.find((m) => m.m === 'auth')!;
		// To the victim, as the honest member, with the honest member's answer.
		m1.send(
			encodeMessage({ m: 'hello', v: PROTOCOL_VERSION, net: victim.net, author: authorOf('honest'), nonce: new Uint8Array(32).fill(7) })
		);
		m1.send(encodeMessage(answer));
		await until(() => sv.state === 'closed');
		await turns(20);
		expect(closed[0]).toMatch(/^BAD_SIGNATURE/);
		expect(fromVictim.filter((m) => m.m === 'blocks' || m.m === 'part' || m.m === 'offer')).toEqual([]);
		expect(sh.state).not.toBe('ready');
		rv.close();
		rh.close();
	});

	it('an honest pair still completes the handshake, with and without a binding', async () => {
		for (const binding of [undefined, null]) {
			const { victim, honest, rv, rh } = await cast();
			await honest.append([{ t: 'note', text: 'new' }]);
			const [l1, l2] = memoryLinkPair(undefined, binding);
			const s1 = rv.attach(l1, 'honest');
			const s2 = rh.attach(l2, 'victim');
			await until(() => victim.size === honest.size && s1.state === 'ready' && s2.state === 'ready');
			rv.close();
			rh.close();
		}
	});
});

describe('hello floods', () => {
	it('500 hellos, same or changing nonces: one signature, a handful of answers', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const sign = vi.spyOn(a, 'signChallenge');
		const ra = new Replicator(a, { tickMs: 0, now: () => 1000 });
		const [la, raw] = memoryLinkPair();
		const answers: Message['m'][] = [];
		tap(raw, answers);
		const session = ra.attach(la, 'flooder');
		for (let i = 0; i < 500; i++) {
			const nonce = new Uint8Array(32).fill(i % 2 === 0 ? 1 : i % 256);
			raw.send(encodeMessage({ m: 'hello', v: PROTOCOL_VERSION, net: a.net, author: authorOf('b'), nonce }));
		}
		await turns(50);
		expect(sign).toHaveBeenCalledTimes(1);
		expect(answers.filter((m) => m === 'auth').length).toBeLessThanOrEqual(5);
		expect(session.stats.framesOut).toBeLessThanOrEqual(12);
		ra.close();
	});

	it("a hello carrying this node's own key (a reflection) ends the session unsigned", async () => {
		const a = await foundNetwork();
		const sign = vi.spyOn(a, 'signChallenge');
		const ra = new Replicator(a, { tickMs: 0 });
		const [la, raw] = memoryLinkPair();
		let ours: Uint8Array | null = null;
		raw.onFrame = (f) => {
			const m = decodeMessage(f);
			if (m.m === 'hello' && !ours) {
				ours = f;
				raw.send(f);
			}
		};
		const session = ra.attach(la, 'mirror');
		await until(() => session.state === 'closed');
		expect(sign).not.toHaveBeenCalled();
		ra.close();
	});
});

describe('DTLS channel binding', () => {
	const sdp = (fp: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${fp}\r\na=setup:actpass\r\n`;
	const A = 'AA:BB:CC:DD';
	const B = 'EE:FF:00:11';
	const M = '22:33:44:55';

	it('both ends of one connection compute the same binding; a relay has two different ones', () => {
		const atA = dtlsChannelBinding(sdp(A), sdp(B));
		const atB = dtlsChannelBinding(sdp(B), sdp(A.toLowerCase()));
		expect(atA).toBeInstanceOf(Uint8Array);
		expect(atA).toEqual(atB);
		const victimSide = dtlsChannelBinding(sdp(A), sdp(M));
		const honestSide = dtlsChannelBinding(sdp(M), sdp(B));
		expect(victimSide).not.toEqual(honestSide);
		expect(victimSide).not.toEqual(atA);
	});

	it('two real WebRTC connections (@roamhq/wrtc, as the headless peer uses): same binding at both ends, another on another connection', async () => {
		const { RTCPeerConnection } = createRequire(import.meta.url)('@roamhq/wrtc') as {
			RTCPeerConnection: typeof globalThis.RTCPeerConnection;
		};
		const connect = async () => {
			const x = new RTCPeerConnection({ iceServers: [] });
			const y = new RTCPeerConnection({ iceServers: [] });
			x.createDataChannel('probe');
			await x.setLocalDescription(await x.createOffer());
			await y.setRemoteDescription(x.localDescription!);
			await y.setLocalDescription(await y.createAnswer());
			await x.setRemoteDescription(y.localDescription!);
			const ends = [x, y].map((pc) => dtlsChannelBinding(pc.localDescription?.sdp, pc.remoteDescription?.sdp));
			x.close();
			y.close();
			return ends;
		};
		const [x, y] = await connect();
		expect(x).toBeInstanceOf(Uint8Array);
		expect(x).toEqual(y);
		const [other] = await connect();
		expect(other).not.toEqual(x);
	});

	it('no binding when a description has no fingerprint', () => {
		expect(dtlsChannelBinding(undefined, sdp(B))).toBeUndefined();
		expect(dtlsChannelBinding(sdp(A), 'v=0\r\n')).toBeUndefined();
	});
});
