/**
 * A seeded gossip run over a large network (issue 19, network scale): `nodes` ledgers,
 * each with at most `maxLinks` links (a browser mesh caps its connections; see
 * `MAX_MESH_CONNECTIONS` in sync/mesh.ts), links of `delayMs` one way with jitter, virtual
 * time. Measures when each block written reaches each node, and the bytes each node sends.
 * Used by tests/unit/core/gossip-1.test.ts, gossip-2.test.ts (50 seeds) and bench/gossip.js.
 */
import { createNodeSigner, createNodeVerifier } from '../crypto/node-verifier.js';
import type { Signer } from '../crypto/verifier.js';
import { Ledger } from '../ledger.js';
import { MemoryStore } from '../storage/memory.js';
import { memoryLinkPair, type Link } from '../sync/link.js';
import { Replicator } from '../sync/replicator.js';
import { memoVerifier } from './memo-verifier.js';
import { prng } from './prng.js';
import { VirtualNetwork } from './simulation.js';

export interface GossipOptions {
	readonly seed: number;
	readonly nodes: number;
	readonly maxLinks: number;
	/** Blocks written after the network has settled, by random nodes, `spacingMs` apart. */
	readonly writes: number;
	readonly delayMs?: number;
	readonly spacingMs?: number;
}

export interface GossipResult {
	/** Per written block and other node: ms from the write to that node accepting it; Infinity when it never did. */
	readonly latencies: number[];
	readonly degrees: number[];
	/** Bytes each node sent after the network settled (the writes' traffic only). */
	readonly bytesSent: number[];
	/** Encoded size of the blocks written. */
	readonly blockBytes: number;
}

/** A connected random graph where no node has more than `maxLinks` links: a ring for connectivity, then random chords. */
export function meshGraph(nodes: number, maxLinks: number, random: () => number): [number, number][] {
	const edges = new Set<string>();
	const degree = new Array<number>(nodes).fill(0);
	const add = (i: number, j: number) => {
		const key = i < j ? `${i}-${j}` : `${j}-${i}`;
		if (i === j || edges.has(key) || degree[i]! >= maxLinks || degree[j]! >= maxLinks) return;
		edges.add(key);
		degree[i]!++;
		degree[j]!++;
	};
	for (let i = 0; i < nodes; i++) add(i, (i + 1) % nodes);
	// Each node asks for about half its budget of random peers, as y-webrtc's peers do.
	for (let round = 0; round < maxLinks; round++)
		for (let i = 0; i < nodes; i++) if (degree[i]! < maxLinks / 2 + 1) add(i, Math.floor(random() * nodes));
	return [...edges].map((e) => e.split('-').map(Number) as [number, number]);
}

/** Counts what one link end sends, and passes everything else through. */
function counted(link: Link, onSend: (bytes: number) => void): Link {
	return new Proxy(link, {
		get(target, prop) {
			if (prop === 'send') {
				return (frame: Uint8Array) => {
					onSend(frame.length);
					target.send(frame);
				};
			}
			const value = Reflect.get(target, prop) as unknown;
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
		set: (target, prop, value) => Reflect.set(target, prop, value)
	});
}

/** Signers by label, kept across runs: every run's nodes use the same keys, and importing one into OpenSSL costs half a millisecond. */
const signerCache = new Map<string, Promise<Signer>>();

function nodeSigners(labels: readonly string[]): Promise<Signer[]> {
	return Promise.all(
		labels.map((label) => {
			let signer = signerCache.get(label);
			if (signer === undefined) {
				signer = createNodeSigner(new TextEncoder().encode(label.padEnd(32, '.')).slice(0, 32));
				signerCache.set(label, signer);
			}
			return signer;
		})
	);
}

const settle = () => new Promise<void>((r) => setImmediate(r));

export async function runGossip(options: GossipOptions): Promise<GossipResult> {
	const { seed, nodes: count, maxLinks, writes } = options;
	// Synchronous crypto (Node's OpenSSL), each signature checked once for all nodes: virtual time then never runs ahead of a
	// signature or a verification still under way. Signatures are the same bytes as noble's; the verifier answers like it.
	const verifier = memoVerifier(await createNodeVerifier());
	const delayMs = options.delayMs ?? 50;
	const spacingMs = options.spacingMs ?? 300;
	const random = prng(seed * 104729 + 7);
	const net = new VirtualNetwork(seed, { drop: 0, duplicate: 0, jitterMs: delayMs / 5, baseDelayMs: delayMs });
	const labels = Array.from({ length: count }, (_, i) => `gossip-${i}`);
	const signers = await nodeSigners(labels);
	const now = () => net.now;
	const founder = await Ledger.create({
		store: new MemoryStore(),
		signer: signers[0]!,
		verifier,
		now,
		genesis: { name: `gossip ${seed}`, members: signers.slice(1).map((s) => ({ key: s.publicKey, role: 'clinician' })) }
	});
	const ledgers = [founder];
	// Every node starts from the genesis (as after joining with a link): the run measures gossip, not the first catch-up.
	const genesis: Uint8Array[] = [];
	for await (const b of founder.blocksSince({})) genesis.push(b);
	for (const signer of signers.slice(1)) {
		const ledger = await Ledger.open({ store: new MemoryStore(), signer, verifier, now, net: founder.net });
		await ledger.receive(genesis);
		ledgers.push(ledger);
	}
	const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(net.random() * 256));
	const replicators = ledgers.map((l) => new Replicator(l, { tickMs: 0, now, randomBytes: bytes, retryMs: 500 }));
	const sent = new Array<number>(count).fill(0);
	let counting = false;
	const edges = meshGraph(count, maxLinks, random);
	const degrees = new Array<number>(count).fill(0);
	for (const [i, j] of edges) {
		const [a, b] = memoryLinkPair(net.scheduler(() => false));
		replicators[i]!.attach(
			counted(a, (n) => counting && (sent[i]! += n)),
			labels[j]!
		);
		replicators[j]!.attach(
			counted(b, (n) => counting && (sent[j]! += n)),
			labels[i]!
		);
		degrees[i]!++;
		degrees[j]!++;
	}
	const tick = () => replicators.forEach((r) => r.tick());
	// Handshakes and first vectors before the measured writes.
	for (let t = 0; t < 30_000 && replicators.some((r) => r.sessions().some((x) => !x.authenticated)); t += 100) {
		net.at(100, tick);
		await net.run(net.now + 100, settle);
	}
	net.at(500, tick);
	await net.run(net.now + 500, settle);
	counting = true;
	const accepted = ledgers.map(() => new Map<string, number>());
	ledgers.forEach((l, i) => l.on('accepted', (blocks) => blocks.forEach((b) => accepted[i]!.set(b.id, net.now))));
	const written: { id: string; by: number; at: number }[] = [];
	let blockBytes = 0;
	const start = net.now;
	for (let w = 0; w < writes; w++) {
		const by = Math.floor(random() * count);
		net.at(spacingMs * (w + 1), () => {
			const at = net.now;
			void ledgers[by]!.append([{ t: 'note', text: `gossip ${w} by ${by}` }]).then((block) => {
				written.push({ id: block.id, by, at });
				blockBytes = block.bytes.length;
			});
		});
	}
	// Until every node holds every written block (or long past any sane delivery time).
	const deadline = start + spacingMs * (writes + 1) + 60 * delayMs + 5000;
	const done = () => written.length === writes && written.every(({ id, by }) => accepted.every((a, i) => i === by || a.has(id)));
	while (net.now < deadline && !done()) {
		net.at(250, tick);
		await net.run(net.now + 250, settle);
	}
	replicators.forEach((r) => r.close());
	const latencies: number[] = [];
	for (const { id, by, at } of written)
		for (let i = 0; i < count; i++) if (i !== by) latencies.push((accepted[i]!.get(id) ?? Infinity) - at);
	return { latencies, degrees, bytesSent: sent, blockBytes };
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
