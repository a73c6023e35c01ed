/**
 * A session that closes while blocks wait in its inbox must stop: no endless re-pump
 * (a microtask livelock starves timers, I/O and rendering for ever). Each case ends with
 * a timer that must fire after the close, which it cannot while microtasks spin.
 */
import { describe, expect, it } from 'vitest';
import { Replicator, encodeMessage, memoryLinkPair, type Ledger, type SyncSession } from '../../../../src/lib/core/index.js';
import { foundNetwork, joinNetwork } from '../../../../src/lib/core/testing/fixtures.js';

const timerFires = () => new Promise<void>((r) => setTimeout(r, 0));
async function until(cond: () => boolean, turns = 20_000) {
	for (let i = 0; i < turns && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
	if (!cond()) throw new Error('condition not reached');
}

/** A founder with `blocks` notes and a member `b` connected to it, both sessions ready. */
async function pair(blocks = 0, options: { batch?: number } = {}) {
	const a = await foundNetwork({ members: { b: 'clinician' } });
	for (let i = 0; i < blocks; i++) await a.append([{ t: 'note', text: `n${i}` }]);
	const b = await joinNetwork(a.net, 'b');
	const ra = new Replicator(a, { tickMs: 0 });
	const rb = new Replicator(b, { tickMs: 0, ...options });
	const [la, lb] = memoryLinkPair();
	const sa = ra.attach(la, 'b');
	const sb = rb.attach(lb, 'a');
	return { a, b, ra, rb, la, lb, sa, sb };
}

/** Counts ledger.receive calls, to show that nothing is processed after the close. */
function countReceives(ledger: Ledger) {
	const counter = { calls: 0 };
	const original = ledger.receive.bind(ledger);
	ledger.receive = (input, from) => {
		counter.calls++;
		return original(input, from);
	};
	return counter;
}

/** Runs `action` once, from inside the first progress event: a batch is being validated and more wait. */
function midBatch(session: SyncSession, action: () => void) {
	let done = false;
	session.on((e) => {
		if (e.type !== 'progress' || e.received === 0 || done) return;
		done = true;
		action();
	});
}

async function closedAndQuiet(session: SyncSession, ledger: Ledger) {
	const counter = countReceives(ledger);
	await until(() => session.state === 'closed');
	await timerFires();
	const after = counter.calls;
	await timerFires();
	await timerFires();
	expect(counter.calls).toBe(after);
}

describe('a session closing with blocks in its inbox', () => {
	it('frames of thousands of one-byte items: the flooder is cut off and the node keeps running', async () => {
		const { sa, sb, lb, a, ra, rb } = await pair();
		await until(() => sa.state === 'ready' && sb.state === 'ready');
		const reasons: string[] = [];
		sa.on((e) => e.type === 'closed' && reasons.push(e.reason));
		const junk = (n: number) => encodeMessage({ m: 'blocks', items: Array.from({ length: n }, () => new Uint8Array([0])) });
		// More items than an honest frame can hold: refused whole, before any validation.
		lb.send(junk(1500));
		await until(() => sa.stats.protocolErrors === 1);
		// Two full frames of junk: the session closes with half of them still in its inbox.
		lb.send(junk(1000));
		lb.send(junk(1000));
		await closedAndQuiet(sa, a);
		expect(reasons[0]).toMatch(/invalid blocks/);
		ra.close();
		rb.close();
	});

	it('an honest link dropping in the middle of a catch-up', async () => {
		const { sb, lb, b, ra, rb } = await pair(400, { batch: 10 });
		midBatch(sb, () => lb.close());
		await closedAndQuiet(sb, b);
		expect(b.size).toBeLessThan(401);
		ra.close();
		rb.close();
	});

	it('a bye during a batch', async () => {
		const { sa, sb, b, ra, rb } = await pair(400, { batch: 10 });
		midBatch(sb, () => sa.close('leaving'));
		await closedAndQuiet(sb, b);
		ra.close();
		rb.close();
	});

	it('a connection replaced while a batch is validated', async () => {
		const { sb, b, ra, rb } = await pair(400, { batch: 10 });
		midBatch(sb, () => rb.attach(memoryLinkPair()[0], 'a'));
		await closedAndQuiet(sb, b);
		ra.close();
		rb.close();
	});

	it('Replicator.close() during a catch-up', async () => {
		const { sb, b, ra, rb } = await pair(400, { batch: 10 });
		midBatch(sb, () => rb.close());
		await closedAndQuiet(sb, b);
		ra.close();
	});
});
