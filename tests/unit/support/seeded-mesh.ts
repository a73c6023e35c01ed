/**
 * The seeded simulation of 8 peers on lossy links (drops, duplicates, reordering, delays),
 * a partition that heals and a link re-established; optionally an equivocating member and
 * a revocation during the partition. Its 200 seeds are shared out over four test files
 * (simulation-1..4.test.ts): Vitest runs files in parallel, and one file of 200 seeds was
 * the unit stage's last minute, alone on one core.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, MemoryStore, Replicator, memoryLinkPair, type Verifier } from '../../../src/lib/core/index.js';
import { createNodeSigner, createNodeVerifier } from '../../../src/lib/core/crypto/node-verifier.js';
import { publicKeyOf } from '../../../src/lib/core/crypto/ed25519.js';
import { prng } from '../../../src/lib/core/testing/prng.js';
import { VirtualNetwork } from '../../../src/lib/core/testing/simulation.js';
import { makeBlock, testSecret, testSigner } from '../../../src/lib/core/testing/fixtures.js';

const PEERS = 8;
/** Seeds of the lossy-mesh simulation, shared out over the simulation-N test files. */
export const SEEDS = Number(process.env.SIM_SEEDS ?? 200);
export const SHARDS = 4;
export const HOSTILE_SEEDS = 50;
const vvKey = (l: Ledger) => JSON.stringify(Object.entries(l.versionVector()).sort());
const settle = () => new Promise<void>((r) => setImmediate(r));

async function order(ledger: Ledger): Promise<string> {
	const ids: string[] = [];
	for await (const b of ledger.blocks()) ids.push(b.id.slice(0, 8));
	return ids.join(',');
}

/**
 * One seeded run: 8 peers on a full mesh of lossy links (drops, duplicates, reordering,
 * delays), each writing at random times, a partition that splits them in two and heals,
 * and one link that breaks and is re-established. Returns a description of any divergence.
 */
export async function simulate(seed: number, verifier: Verifier, hostile = false): Promise<string | null> {
	const random = prng(seed * 7919 + 1);
	const net = new VirtualNetwork(seed, { drop: 0.05 + random() * 0.1, duplicate: 0.05, jitterMs: 40, baseDelayMs: 2 });
	const labels = Array.from({ length: PEERS }, (_, i) => `peer${i}`);
	const founder = await Ledger.create({
		store: new MemoryStore(),
		signer: await createNodeSigner(testSecret(labels[0]!)),
		verifier,
		now: () => net.now,
		genesis: { name: `sim ${seed}`, members: labels.slice(1).map((l) => ({ key: publicKeyOf(testSecret(l)), role: 'clinician' })) }
	});
	const nodes = [founder];
	for (const label of labels.slice(1)) {
		nodes.push(
			await Ledger.open({
				store: new MemoryStore(),
				signer: await createNodeSigner(testSecret(label)),
				verifier,
				now: () => net.now,
				net: founder.net
			})
		);
	}
	const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(net.random() * 256));
	const replicators = nodes.map(
		(l) => new Replicator(l, { tickMs: 0, now: () => net.now, randomBytes: bytes, retryMs: 500, window: 20, batch: 8 })
	);
	const side = labels.map(() => (random() < 0.5 ? 0 : 1));
	let partitioned = false;
	const connect = (i: number, j: number) => {
		const [a, b] = memoryLinkPair(net.scheduler(() => partitioned && side[i] !== side[j]));
		replicators[i]!.attach(a, labels[j]!);
		replicators[j]!.attach(b, labels[i]!);
		return [a, b] as const;
	};
	const links = new Map<string, readonly [ReturnType<typeof memoryLinkPair>[0], ReturnType<typeof memoryLinkPair>[1]]>();
	for (let i = 0; i < PEERS; i++) for (let j = i + 1; j < PEERS; j++) links.set(`${i}-${j}`, connect(i, j));

	// Writes at random times; a peer may write while cut off from the others. A peer that
	// has not yet received the roster refuses to write (NOT_A_MEMBER): counted, not lost.
	let written = 0;
	const refused: string[] = [];
	for (let w = 0; w < PEERS * 4; w++) {
		const who = Math.floor(random() * PEERS);
		net.at(500 + random() * 6000, () => {
			nodes[who]!.append([{ t: 'note', text: `w${w} by ${who}` }]).then(
				() => written++,
				(error: Error) => refused.push(error.message)
			);
		});
	}
	net.at(1000 + random() * 1000, () => (partitioned = true));
	net.at(4000 + random() * 1000, () => (partitioned = false));
	// Hostile runs: during the partition the founder revokes a member that keeps writing on
	// the other side, and another member signs two blocks at one seq, each version reaching
	// one side first.
	const revoked = 1 + Math.floor(random() * (PEERS - 1));
	const liar = 1 + ((revoked - 1 + 1 + Math.floor(random() * (PEERS - 2))) % (PEERS - 1));
	let twin: string | null = null;
	if (hostile) {
		net.at(2200, () => void founder.append([{ t: 'member.revoke', key: publicKeyOf(testSecret(labels[revoked]!)) }]));
		for (const t of [2600, 3000, 3400])
			net.at(t, () => void nodes[revoked]!.append([{ t: 'note', text: `revoked writes at ${t}` }]).catch(() => undefined));
		net.at(2800, () => {
			void nodes[liar]!.append([{ t: 'note', text: 'version one' }]).then(async (one) => {
				const other = await makeBlock(testSigner(labels[liar]!), {
					net: founder.net,
					seq: one.seq,
					prev: one.prev,
					deps: one.deps,
					clock: one.clock,
					time: one.time,
					txs: [{ t: 'note', text: 'version two' }]
				});
				twin = other.id;
				const elsewhere = side.findIndex((s, i) => s !== side[liar] && i !== liar && i !== revoked);
				await nodes[elsewhere >= 0 ? elsewhere : 0]!.receive([other.bytes]);
			});
		});
	}
	// One connection drops mid-run and is re-established (sessions resume from vectors).
	const [bi, bj] = [Math.floor(random() * PEERS), 0].map((x, k) =>
		k === 1 ? (x + 1 + Math.floor(random() * (PEERS - 1))) % PEERS : x
	) as [number, number];
	const [lo, hi] = bi < bj ? [bi, bj] : [bj, bi];
	net.at(2500, () => links.get(`${lo}-${hi}`)?.[0].close());
	net.at(3500, () => links.set(`${lo}-${hi}`, connect(lo, hi)));
	for (let t = 0; t < 20_000; t += 250) net.at(t, () => replicators.forEach((r) => r.tick()));
	await net.run(20_000, settle);

	replicators.forEach((r) => r.close());
	const vv = vvKey(founder);
	const reference = await order(founder);
	const state = JSON.stringify(founder.state());
	// A revoked member is expelled: members keep it as a guest and send it nothing more.
	const members = [...nodes.entries()].filter(([i]) => !(hostile && i === revoked));
	for (const [i, node] of members) {
		if (vvKey(node) !== vv) return `peer${i} vector ${vvKey(node)} != ${vv}`;
		if ((await order(node)) !== reference) return `peer${i} order differs`;
		if (JSON.stringify(node.state()) !== state) return `peer${i} state differs`;
	}
	const settled = async (l: Ledger) =>
		JSON.stringify({
			heads: l
				.heads()
				.map((h) => h.id)
				.sort(),
			void: [...l.voided()].sort(),
			flagged: l.flaggedAuthors(),
			evidence: (await l.evidence()).map((e) => `${e.id}>${e.conflictsWith}`).sort(),
			revoked: [...l.revocations()].sort()
		});
	const settledReference = await settled(founder);
	for (const [i, node] of members)
		if ((await settled(node)) !== settledReference) return `peer${i} heads, void set, evidence or revocations differ`;
	if (hostile) {
		if (!twin || !(await founder.store.get(twin as never))) return 'the second version was not stored everywhere';
		if (founder.flaggedAuthors().length !== 1) return `flagged ${founder.flaggedAuthors().length} authors, expected the liar`;
		if (!founder.revocations().has(nodes[revoked]!.author!)) return 'the revocation did not count';
		return null;
	}
	if (refused.some((r) => !r.startsWith('NOT_A_MEMBER'))) return `unexpected refusal: ${refused.join('; ')}`;
	if (founder.size !== 1 + written) return `${founder.size} blocks, expected ${1 + written}`;
	if (written < PEERS * 2) return `only ${written} writes succeeded`;
	return null;
}

/**
 * Registers shard `shard` (1-based) of the `SEEDS` seeds: a contiguous range, so the four
 * files together run every seed once. SIM_SEED=n replays that seed alone.
 */
export function simulationShard(shard: number): void {
	const size = Math.ceil(SEEDS / SHARDS);
	const from = (shard - 1) * size + 1;
	const to = Math.min(SEEDS, shard * size);
	describe('seeded simulation: 8 peers, lossy links, partitions', () => {
		it(`seeds ${from}-${to} of all ${SEEDS} converge to identical ledgers (replay one with SIM_SEED=n)`, async () => {
			const verifier = await createNodeVerifier();
			const only = process.env.SIM_SEED;
			const seeds = only ? [Number(only)] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
			const failures: string[] = [];
			for (const seed of seeds) {
				const problem = await simulate(seed, verifier);
				if (problem)
					failures.push(`seed ${seed}: ${problem} (replay: SIM_SEED=${seed} npx vitest run tests/unit/simulation-${shard}.test.ts)`);
			}
			expect(failures).toEqual([]);
		}, 600_000);
	});
}
