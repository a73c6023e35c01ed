/**
 * Arrival orders of the hostile DAG (support/hostile-dag.ts): a node's fingerprint (all
 * it holds and computes), the repair sync does, and the 1,000 seeded orders and batchings,
 * run in two files so that Vitest spreads them over two cores.
 */
import { expect } from 'vitest';
import { decodeBlock } from '../../../src/lib/core/block.js';
import { Ledger } from '../../../src/lib/core/ledger.js';
import { MemoryStore } from '../../../src/lib/core/storage/memory.js';
import { fixedNow, testSigner } from '../../../src/lib/core/testing/fixtures.js';
import type { BlockId } from '../../../src/lib/core/types.js';
import { APP_FOLDS } from '../../../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../../../src/lib/domain/rule-registry.js';
import { buildHostileDag, memoVerifier, prng, type HostileDag } from './hostile-dag.js';
import { canonicalState } from './canonical-state.js';
import { expectedIndex, indexDump, txIndex } from './test-index.js';

const verifier = memoVerifier();
/** Seeded arrival orders checked in all, shared out over convergence.test.ts and convergence-orders.test.ts. */
export const RUNS = 1000;

export async function fingerprint(node: Ledger) {
	const stored: string[] = [];
	for await (const b of node.blocks()) stored.push(b.id);
	return {
		stored: stored.sort(),
		heads: node
			.heads()
			.map((h) => `${h.author}:${h.seq}:${h.id}`)
			.sort(),
		vector: Object.entries(node.versionVector()).sort(),
		void: [...node.voided()].sort(),
		pending: node.pendingCount,
		missing: node.missing().sort(),
		evidence: (await node.evidence()).map((e) => `${e.author}:${e.seq}:${e.id}:${e.conflictsWith}`).sort(),
		flagged: node.flaggedAuthors(),
		roster: [...node.roster()].sort(),
		revocations: [...node.revocations()].sort(),
		state: canonicalState(node.state()),
		index: await indexDump(node)
	};
}

export const open = (net: BlockId, label: string) =>
	Ledger.open({
		store: new MemoryStore(),
		verifier,
		now: fixedNow,
		rules: APP_RULES,
		// Commutative folds (summary, records) apply late blocks in place, the others rewind: both paths.
		folds: APP_FOLDS,
		indexes: [txIndex],
		// Checkpoints every 50 blocks, so late blocks rewind to one and drop those after it.
		checkpointEvery: 50,
		signer: testSigner(label),
		net
	});

/** Re-offers what the node lacks until nothing changes, as sync's repair does. */
export async function repair(node: Ledger, all: readonly Uint8Array[]) {
	for (let round = 0; round < 20; round++) {
		const have = new Set<string>();
		for await (const b of node.blocks()) have.add(b.id);
		const lacking = all.filter((b) => !have.has(Buffer.from(b.subarray(3, 35)).toString('hex')));
		const before = node.size;
		if (lacking.length > 0) await node.receive(lacking);
		if (node.size === before) return;
	}
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** `wire` in a random order in which every block comes after the blocks it names (its author's previous one, its dependencies). */
export function causalOrder(wire: readonly Uint8Array[], random: () => number): Uint8Array[] {
	const blocks = wire.map((bytes) => ({ bytes, block: decodeBlock(bytes) }));
	const done = new Set<string>();
	const out: Uint8Array[] = [];
	while (out.length < blocks.length) {
		const ready = blocks.filter(({ block }) => !done.has(block.id) && [block.prev, ...block.deps].every((p) => p === null || done.has(p)));
		const next = ready[Math.floor(random() * ready.length)]!;
		done.add(next.block.id);
		out.push(next.bytes);
	}
	return out;
}

export function batches<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

/**
 * Delivers runs `from` to `to - 1` of the RUNS seeded arrival orders and batchings, each to
 * a fresh node (odd runs with all batches in flight at once, even runs one after another), and returns the runs whose fingerprint differs from `reference` (the first
 * one also fails an assertion, to show the difference). The generator is advanced past the
 * earlier runs, so the two files together check the same 1,000 orders as one file would.
 */
export async function differingOrders(
	dag: HostileDag,
	reference: Awaited<ReturnType<typeof fingerprint>>,
	from: number,
	to: number
): Promise<number[]> {
	const random = prng(2024);
	const sizes = [1, 8, 50, dag.blocks.length];
	const differing: number[] = [];
	for (let run = 0; run < to; run++) {
		const order = shuffled(dag.blocks, random);
		if (run < from) continue;
		const node = await open(dag.net, `run${run}`);
		const cut = batches(order, sizes[run % sizes.length]!);
		// Odd runs hand every batch to the ledger at once, as a sync session does (the next
		// batch's signatures are checked while the previous one is written): the same result.
		if (run % 2 === 1) await Promise.all(cut.map((batch) => node.receive(batch)));
		else for (const batch of cut) await node.receive(batch);
		await repair(node, dag.blocks);
		const print = await fingerprint(node);
		if (JSON.stringify(print) !== JSON.stringify(reference)) differing.push(run);
		if (differing.length === 1 && differing[0] === run) expect(print).toEqual(reference);
	}
	return differing;
}

/** The DAG, and the fingerprint of a node that received it whole and repaired. */
export async function referenceDag(): Promise<{ dag: HostileDag; reference: Awaited<ReturnType<typeof fingerprint>> }> {
	const dag = await buildHostileDag(7);
	const node = await open(dag.net, 'reference');
	await node.receive(dag.blocks);
	await repair(node, dag.blocks);
	const reference = await fingerprint(node);
	// The rows every run must reach are those of the blocks that count, from scratch; the DAG voids some.
	expect(reference.index).toEqual(await expectedIndex(node));
	expect(reference.void.length).toBeGreaterThan(0);
	return { dag, reference };
}
