/**
 * What one peer can make a node do is bounded: fake authors in vectors, repeated vectors,
 * duplicate blocks, unfinished parts; and two honest nodes with a block nobody can
 * complete stay quiet instead of asking each other for ever.
 */
import { describe, expect, it } from 'vitest';
import {
	Replicator,
	encodeMessage,
	memoryLinkPair,
	toHex,
	type FrameScheduler,
	type Ledger,
	type VersionVector
} from '../../../../src/lib/core/index.js';
import { createNodeVerifier } from '../../../../src/lib/core/crypto/node-verifier.js';
import { foundNetwork, joinNetwork, makeBlock, syncInto, testSigner } from '../../../../src/lib/core/testing/fixtures.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';
import { tamperedHolder } from '../../support/tampered.js';

/**
 * Waits for `cond` over turns of the event loop. WebCrypto verifies signatures on libuv's
 * threads, which a busy machine can keep waiting for a core while this loop spins: give up
 * only once both `turns` turns and 30 s have gone by.
 */
async function until(cond: () => boolean, turns = 20_000) {
	const deadline = performance.now() + 30_000;
	for (let i = 0; !cond(); i++) {
		if (i >= turns && performance.now() > deadline) throw new Error('condition not reached');
		await new Promise<void>((r) => setImmediate(r));
	}
}
const turns = async (n: number) => {
	for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A founder with `notes` blocks and member b holding the same; a virtual clock both share. */
async function inSync(notes: number, scheduler?: FrameScheduler, synced = true) {
	const clock = { now: 1_000_000 };
	const verifier = await createNodeVerifier();
	const a = await foundNetwork({ members: { b: 'clinician' }, verifier });
	for (let i = 0; i < notes; i++) await a.append([{ t: 'note', text: `n${i}` }]);
	const b = await joinNetwork(a.net, 'b', { verifier });
	if (synced) await syncInto(b, a);
	const ra = new Replicator(a, { tickMs: 0, now: () => clock.now });
	const rb = new Replicator(b, { tickMs: 0, now: () => clock.now });
	const [la, lb] = memoryLinkPair(scheduler);
	const sa = ra.attach(la, 'b');
	const sb = rb.attach(lb, 'a');
	await until(() => sa.state === 'ready' && sb.state === 'ready');
	await turns(20);
	const close = () => {
		ra.close();
		rb.close();
	};
	return { a, b, ra, rb, la, lb, sa, sb, clock, close };
}

function fakeVectors(authors: number, perFrame: number, seed: number): VersionVector[] {
	const random = prng(seed);
	const frames: VersionVector[] = [];
	for (let i = 0; i < authors; i += perFrame) {
		const vv: VersionVector = {};
		for (let j = i; j < Math.min(authors, i + perFrame); j++)
			vv[toHex(Uint8Array.from({ length: 32 }, () => random() * 256))] = 1 + Math.floor(random() * 1000);
		frames.push(vv);
	}
	return frames;
}

describe('vector floods', () => {
	it('a vector of 56,000 fake authors is refused after the first frames, whatever their order', async () => {
		const { sa, lb, close } = await inSync(5);
		const reasons: string[] = [];
		sa.on((e) => e.type === 'closed' && reasons.push(e.reason));
		const frames = fakeVectors(56_000, 1700, 56);
		let sent = 0;
		const cpuBefore = process.cpuUsage();
		for (const vv of frames) {
			if (sa.state === 'closed') break;
			lb.send(encodeMessage({ m: 'vv', vv }));
			sent++;
			await turns(3);
		}
		await until(() => sa.state === 'closed');
		const cpu = process.cpuUsage(cpuBefore);
		const cpuMs = (cpu.user + cpu.system) / 1000;
		expect(reasons[0]).toMatch(/vector of \d+ authors exceeds the limit of \d+/);
		// Two frames fit under the limit (2 × 2 authors held + 2,048), the third does not.
		expect(sent).toBeLessThanOrEqual(3);
		// Was 19 s of CPU. This process's CPU time, not the wall clock: on a busy machine the
		// wall clock also counts the wait for a core.
		expect(cpuMs).toBeLessThan(5000);
		close();
	});

	it('50 empty vectors stream the ledger once, not 50 times', async () => {
		// b holds nothing: its own first vector is empty too.
		const { a, sa, lb, close } = await inSync(300, undefined, false);
		for (let i = 0; i < 49; i++) lb.send(encodeMessage({ m: 'vv', vv: {} }));
		await turns(400);
		expect(sa.stats.blocksOut).toBeGreaterThan(0);
		expect(sa.stats.blocksOut).toBeLessThanOrEqual(a.size);
		close();
	});

	it('vectors that keep raising a fake claim restart the stream without sending a block twice', async () => {
		const { a, sa, lb, close } = await inSync(300, undefined, false);
		const fake = toHex(new Uint8Array(32).fill(9));
		for (let i = 0; i < 50; i++) lb.send(encodeMessage({ m: 'vv', vv: { [fake]: i } }));
		await turns(400);
		expect(sa.stats.blocksOut).toBeLessThanOrEqual(a.size);
		close();
	});
});

describe('duplicates and parts', () => {
	it('a flood of copies of a held block counts against the peer and ends the session', async () => {
		const { a, sa, lb, close } = await inSync(3);
		const held = (await a.store.get(a.heads()[0]!.id))!.bytes;
		const reasons: string[] = [];
		sa.on((e) => e.type === 'closed' && reasons.push(e.reason));
		const frame = encodeMessage({ m: 'blocks', items: Array.from({ length: Math.floor(60_000 / (held.length + 3)) }, () => held) });
		for (let i = 0; i < 20_000 && sa.state !== 'closed'; i++) {
			lb.send(frame);
			if (i % 50 === 0) await turns(2);
		}
		await until(() => sa.state === 'closed');
		expect(reasons[0]).toMatch(/too many invalid blocks .*DUPLICATE/);
		close();
	});

	it('an unfinished block in parts is dropped after its timeout', async () => {
		const { sa, lb, clock, close } = await inSync(1);
		const logs: string[] = [];
		sa.on((e) => e.type === 'log' && logs.push(e.message));
		lb.send(encodeMessage({ m: 'part', id: toHex(new Uint8Array(32).fill(3)) as never, index: 0, total: 5, data: new Uint8Array(60_000) }));
		await turns(10);
		clock.now += 20_000;
		sa.tick();
		expect(logs.filter((l) => l.includes('parts after'))).toEqual([]);
		clock.now += 20_000;
		sa.tick();
		expect(logs.filter((l) => l.includes('1 of 5 parts after'))).toHaveLength(1);
		close();
	});
});

describe('an idle network with a block nobody can complete', () => {
	/** Delivers each frame on a later turn of the event loop, as a real channel does. */
	const later: FrameScheduler = { schedule: (deliver) => setImmediate(deliver) };

	async function parkOrphan(a: Ledger) {
		const missing = toHex(new Uint8Array(32).fill(0xab));
		const orphan = await makeBlock(testSigner('b'), { net: a.net, seq: 0, deps: [missing as never], clock: 5 });
		const result = await a.receive([orphan.bytes]);
		expect(result.rejected).toEqual([]);
		expect(a.missing()).toEqual([missing]);
	}

	it('over ten simulated minutes, frames stay few: wants with backoff, no vector ping-pong', async () => {
		const { a, sa, sb, clock, close } = await inSync(10, later);
		await parkOrphan(a);
		const start = sa.stats.framesOut + sb.stats.framesOut;
		const wants: number[] = [];
		for (let second = 0; second < 600; second++) {
			clock.now += 1000;
			sa.tick();
			sb.tick();
			await turns(4);
			wants.push(sa.stats.framesOut);
		}
		const frames = sa.stats.framesOut + sb.stats.framesOut - start;
		// Wants at 0, 2, 4, 8 … 128 s apart: about 9 in ten minutes, each answered by nothing.
		expect(frames).toBeGreaterThan(0);
		expect(frames).toBeLessThanOrEqual(20);
		expect(sa.state).toBe('ready');
		expect(sb.state).toBe('ready');
		close();
	});
});

describe('a block this node refuses', () => {
	it('is not asked for again and again: over ten simulated minutes it arrives at most twice', async () => {
		const clock = { now: 1_000_000 };
		const { honest, evil } = await tamperedHolder();
		const rh = new Replicator(honest, { tickMs: 0, now: () => clock.now });
		const re = new Replicator(evil, { tickMs: 0, now: () => clock.now });
		const [a, b] = memoryLinkPair({ schedule: (deliver) => setImmediate(deliver) });
		const session = rh.attach(a, 'evil');
		const other = re.attach(b, 'honest');
		await until(() => session.state === 'ready' && other.state === 'ready');
		for (let second = 0; second < 600; second++) {
			clock.now += 1000;
			rh.tick();
			re.tick();
			await turns(4);
		}
		expect(session.stats.rejected.BAD_HASH).toBeGreaterThanOrEqual(1);
		expect(session.stats.rejected.BAD_HASH).toBeLessThanOrEqual(2);
		expect(session.state).toBe('ready');
		rh.close();
		re.close();
	});
});
