/**
 * Convergence: what a node holds and computes is a function of the set of valid blocks it
 * has seen, never of the order or batching they came in. One hostile DAG (see
 * support/hostile-dag.ts) is delivered in 1,000 random orders and batchings; after a
 * sync-style repair every node holds the same blocks, heads, vectors, void set, pending set,
 * evidence, flagged authors, roster and fold state. Two nodes from different partial
 * deliveries then meet over the real sync session and converge without closing it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Replicator } from '../../../src/lib/core/sync/replicator.js';
import { memoryLinkPair } from '../../../src/lib/core/sync/link.js';
import { authorOf, foundNetwork, joinNetwork, makeBlock, syncInto, testSigner } from '../../../src/lib/core/testing/fixtures.js';
import { APP_RULES } from '../../../src/lib/domain/rule-registry.js';
import { RUNS, differingOrders, fingerprint, open, referenceDag, repair, shuffled } from '../support/arrival-orders.js';
import { txIndex } from '../support/test-index.js';
import { memoVerifier, prng, type HostileDag } from '../support/hostile-dag.js';

// The orders and their helpers: support/arrival-orders.ts.
const verifier = memoVerifier();

/** Lets every frame in flight be delivered and handled (all in-memory: turns of the event loop, no wall time). */
async function drain(turns = 50) {
	for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('convergence whatever the arrival order', () => {
	let dag: HostileDag;
	let reference: Awaited<ReturnType<typeof fingerprint>>;

	beforeAll(async () => {
		({ dag, reference } = await referenceDag());
	}, 120_000);

	it('the DAG holds every hazard, and the reference settles each as the rules say', () => {
		expect(dag.blocks.length).toBeGreaterThanOrEqual(200);
		expect(new Set(reference.heads.map((h) => h.split(':')[0])).size).toBeGreaterThanOrEqual(10);
		const voided = new Map(reference.void);
		// Stored, void: a partitioned member's blocks after its cut-off, a concurrent member's too.
		for (const id of [...dag.named.partitionedAfterCut, ...dag.named.concurrentAfterCut]) {
			expect(reference.stored).toContain(id);
			expect(voided.has(id)).toBe(true);
		}
		// Both versions of the equivocation are stored, void, with evidence; the author is flagged.
		for (const id of dag.named.forks) expect(voided.get(id)).toMatch(/^equivocated/);
		expect(reference.evidence.length).toBeGreaterThanOrEqual(2);
		expect(reference.flagged.length).toBe(2); // the equivocating member and the partitioned one that forked
		// The backdated fork below the cut-off restores nothing: the revocation is stored and counts.
		expect(reference.stored).toContain(dag.named.belowCutFork);
		expect(reference.stored).toContain(dag.named.revocationOfPartitioned);
		// The demoted admin's add is void (role cut-off), and so is everything of its accomplice.
		expect(voided.get(dag.named.accompliceAdd)).toMatch(/^role/);
		expect(reference.roster.some(([a]) => a === dag.named.accomplice)).toBe(false);
		expect(reference.pending).toBe(0);
	});

	// Runs 501-1,000: convergence-orders.test.ts (Vitest runs the two files on two cores).
	it('arrival orders 1-500 of 1,000, in every batching, reach the identical stored set, heads, vectors, void set, evidence and state', async () => {
		expect(await differingOrders(dag, reference, 0, RUNS / 2)).toEqual([]);
	}, 600_000);

	it('two nodes from different partial deliveries converge over the real session and never close it', async () => {
		const random = prng(99);
		const a = await open(dag.net, 'founder');
		const b = await open(dag.net, 'c6');
		const order = shuffled(dag.blocks, random);
		await a.receive(order.slice(0, Math.floor(order.length * 0.7)));
		await b.receive(order.slice(Math.floor(order.length * 0.3)));
		await repair(a, order.slice(0, Math.floor(order.length * 0.7)));
		let now = 0;
		const ra = new Replicator(a, { tickMs: 0, now: () => now });
		const rb = new Replicator(b, { tickMs: 0, now: () => now });
		const [la, lb] = memoryLinkPair();
		const sa = ra.attach(la, 'b');
		const sb = rb.attach(lb, 'a');
		const closed: string[] = [];
		sa.on((e) => e.type === 'closed' && closed.push(e.reason));
		sb.on((e) => e.type === 'closed' && closed.push(e.reason));
		const same = async () => JSON.stringify(await fingerprint(a)) === JSON.stringify(await fingerprint(b));
		let rounds = 0;
		while (!(await same()) && rounds < 200) {
			rounds++;
			now += 2_500;
			sa.tick();
			sb.tick();
			await drain();
		}
		expect(await fingerprint(a)).toEqual(await fingerprint(b));
		expect(await fingerprint(a)).toEqual(reference);
		expect(closed).toEqual([]);
		ra.close();
		rb.close();
	}, 120_000);
});

describe('equivocation over the real session', () => {
	it('two nodes that each hold one version, with nothing built on either, exchange them and agree', async () => {
		const p = await foundNetwork({ members: { b: 'clinician', q: 'clinician' }, rules: APP_RULES, indexes: [txIndex], verifier });
		const b = await joinNetwork(p.net, 'b', { rules: APP_RULES, indexes: [txIndex], verifier });
		const q = await joinNetwork(p.net, 'q', { rules: APP_RULES, indexes: [txIndex], verifier });
		await syncInto(b, p);
		await syncInto(q, p);
		const one = await b.append([{ t: 'note', text: 'version one' }]);
		const two = await makeBlock(testSigner('b'), {
			net: p.net,
			seq: one.seq,
			prev: one.prev,
			deps: one.deps,
			clock: one.clock,
			txs: [{ t: 'note', text: 'version two' }]
		});
		await p.receive([one.bytes]);
		await q.receive([two.bytes]);
		expect(p.versionVector()).toEqual(q.versionVector()); // the vectors alone cannot tell
		let now = 0;
		const rp = new Replicator(p, { tickMs: 0, now: () => now });
		const rq = new Replicator(q, { tickMs: 0, now: () => now });
		const [lp, lq] = memoryLinkPair();
		const sp = rp.attach(lp, 'q');
		const sq = rq.attach(lq, 'p');
		for (let round = 0; round < 50 && !(p.size === 4 && q.size === 4); round++) {
			now += 2_500;
			sp.tick();
			sq.tick();
			await drain();
		}
		for (const node of [p, q]) {
			expect(node.flaggedAuthors()).toEqual([authorOf('b')]);
			expect([...node.voided().keys()].sort()).toEqual([one.id, two.id].sort());
		}
		expect(await fingerprint(p)).toEqual(await fingerprint(q));
		rp.close();
		rq.close();
	});
});
