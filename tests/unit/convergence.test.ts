/**
 * Convergence: what a node holds and computes is a function of the set of valid blocks it
 * has seen, never of the order or batching they came in. One hostile DAG (see
 * support/hostile-dag.ts) is delivered in 1,000 random orders and batchings; after a
 * sync-style repair every node holds the same blocks, heads, vectors, void set, pending set,
 * evidence, flagged authors, roster and fold state. Two nodes from different partial
 * deliveries then meet over the real sync session and converge without closing it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryStore } from '../../src/lib/core/storage/memory.js';
import { Replicator } from '../../src/lib/core/sync/replicator.js';
import { memoryLinkPair } from '../../src/lib/core/sync/link.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, makeBlock, syncInto, testSigner } from '../../src/lib/core/testing/fixtures.js';
import type { BlockId } from '../../src/lib/core/types.js';
import { APP_RULES } from '../../src/lib/domain/rules.js';
import { buildHostileDag, memoVerifier, prng, type HostileDag } from './support/hostile-dag.js';

const verifier = memoVerifier();
const RUNS = 1000;

async function fingerprint(node: Ledger) {
	const stored: string[] = [];
	for await (const b of node.blocks()) stored.push(b.id);
	return {
		stored: stored.sort(),
		heads: node.heads().map((h) => `${h.author}:${h.seq}:${h.id}`).sort(),
		vector: Object.entries(node.versionVector()).sort(),
		void: [...node.voided()].sort(),
		pending: node.pendingCount,
		missing: node.missing().sort(),
		evidence: (await node.evidence()).map((e) => `${e.author}:${e.seq}:${e.id}:${e.conflictsWith}`).sort(),
		flagged: node.flaggedAuthors(),
		roster: [...node.roster()].sort(),
		revocations: [...node.revocations()].sort(),
		state: JSON.stringify(node.state(), (_k, v) => (v instanceof Map ? [...v].sort() : v instanceof Set ? [...v].sort() : v))
	};
}

/** Lets every frame in flight be delivered and handled (all in-memory: turns of the event loop, no wall time). */
async function drain(turns = 50) {
	for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

const open = (net: BlockId, label: string) => Ledger.open({ store: new MemoryStore(), verifier, now: fixedNow, rules: APP_RULES, signer: testSigner(label), net });

/** Re-offers what the node lacks until nothing changes, as sync's repair does. */
async function repair(node: Ledger, all: readonly Uint8Array[]) {
	for (let round = 0; round < 20; round++) {
		const have = new Set<string>();
		for await (const b of node.blocks()) have.add(b.id);
		const lacking = all.filter((b) => !have.has(Buffer.from(b.subarray(3, 35)).toString('hex')));
		const before = node.size;
		if (lacking.length > 0) await node.receive(lacking);
		if (node.size === before) return;
	}
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

function batches<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

describe('convergence whatever the arrival order', () => {
	let dag: HostileDag;
	let reference: Awaited<ReturnType<typeof fingerprint>>;

	beforeAll(async () => {
		dag = await buildHostileDag(7);
		const node = await open(dag.net, 'reference');
		await node.receive(dag.blocks);
		await repair(node, dag.blocks);
		reference = await fingerprint(node);
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

	it('1,000 arrival orders and batchings reach the identical stored set, heads, vectors, void set, evidence and state', async () => {
		const random = prng(2024);
		const sizes = [1, 8, 50, dag.blocks.length];
		const differing: number[] = [];
		for (let run = 0; run < RUNS; run++) {
			const node = await open(dag.net, `run${run}`);
			for (const batch of batches(shuffled(dag.blocks, random), sizes[run % sizes.length]!)) await node.receive(batch);
			await repair(node, dag.blocks);
			const print = await fingerprint(node);
			if (JSON.stringify(print) !== JSON.stringify(reference)) differing.push(run);
			if (differing.length === 1 && differing[0] === run) expect(print).toEqual(reference);
		}
		expect(differing).toEqual([]);
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
		const p = await foundNetwork({ members: { b: 'clinician', q: 'clinician' }, rules: APP_RULES, verifier });
		const b = await joinNetwork(p.net, 'b', { rules: APP_RULES, verifier });
		const q = await joinNetwork(p.net, 'q', { rules: APP_RULES, verifier });
		await syncInto(b, p);
		await syncInto(q, p);
		const one = await b.append([{ t: 'note', text: 'version one' }]);
		const two = await makeBlock(testSigner('b'), { net: p.net, seq: one.seq, prev: one.prev, deps: one.deps, clock: one.clock, txs: [{ t: 'note', text: 'version two' }] });
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
