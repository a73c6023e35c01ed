/**
 * The contract version that decides a claim is the highest one deployed in the claim
 * block's causal past (its prev and deps, and theirs), never one deployed beside it or
 * merely earlier in the total order. The fold asks the ledger's version vectors
 * (`Causal`); here it is checked against reachability in the block graph itself, on random
 * graphs of four writers, and through real ledgers.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, type AuthorId, type Block, type BlockId, type Tx } from '$lib/core/index.js';
import { foldContexts, foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { prng } from '$lib/core/testing/prng.js';
import { allClaims, claimById, claimsFold, currentDecision, dayOf, samplePolicy } from '$lib/domain/contracts/index.js';
import { CLINIC, PAYER, form, key, submitTx } from './contracts-support.js';

const DAY = 86_400_000;
const te = new TextEncoder();
const OTHERS = [toHex(key('relay-1')), toHex(key('relay-2'))];

/** A random graph: each author's blocks chained by prev, deps on random earlier blocks; the payer deploys versions, the clinic bills. */
function randomGraph(seed: number, size: number) {
	const rand = prng(seed);
	const blocks: Block[] = [];
	const last = new Map<string, Block>();
	let version = 0;
	const add = (author: string, txs: Tx[]) => {
		const clock = blocks.length + 1;
		const prev = last.get(author) ?? null;
		const deps = new Set<BlockId>();
		for (let k = 0; k < 2 && blocks.length > 0; k++) {
			// Mostly recent blocks, sometimes an old one: concurrency of every depth.
			const back = rand() < 0.7 ? Math.floor(rand() * Math.min(4, blocks.length)) : Math.floor(rand() * blocks.length);
			const dep = blocks[blocks.length - 1 - back]!;
			if (rand() < 0.6 && dep.id !== prev?.id) deps.add(dep.id);
		}
		const b: Block = {
			id: toHex(sha256(te.encode(`causal/${seed}/${clock}`))) as BlockId,
			net: '00'.repeat(32) as BlockId,
			author: author as AuthorId,
			seq: prev ? prev.seq + 1 : 0,
			prev: prev?.id ?? null,
			deps: [...deps],
			clock,
			time: (dayOf('2025-03-04')! + Math.floor(clock / 50)) * DAY,
			txs,
			body: new Uint8Array(),
			signature: new Uint8Array(),
			bytes: new Uint8Array()
		};
		blocks.push(b);
		last.set(author, b);
		return b;
	};
	add(PAYER, [
		{ t: 'contract.deploy', plan: 'ppo', version: ++version, policy: samplePolicy() },
		{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: key('patient'), start: '2025-01-01' }
	]);
	for (let i = 0; i < size; i++) {
		const r = rand();
		if (r < 0.15) {
			// A deploy, sometimes with a claim of the clinic's in the same graph position.
			add(PAYER, [{ t: 'contract.deploy', plan: 'ppo', version: ++version, policy: samplePolicy({ copay: 1_000 * version }) }]);
		} else if (r < 0.55) {
			const day = 1 + (i % 27);
			add(CLINIC, [submitTx(form([{ code: '99213', price: 9_200, date: `2025-02-${String(day).padStart(2, '0')}` }]))]);
		} else add(OTHERS[i % 2]!, []);
	}
	return blocks;
}

/** The highest version deployed by a strict ancestor of each block, found by walking the graph. */
function modelVersions(blocks: readonly Block[]): Map<BlockId, number | null> {
	const byId = new Map(blocks.map((b) => [b.id, b]));
	const out = new Map<BlockId, number | null>();
	for (const b of blocks) {
		let best: number | null = null;
		const seen = new Set<BlockId>();
		const stack = [...(b.prev ? [b.prev] : []), ...b.deps];
		while (stack.length > 0) {
			const id = stack.pop()!;
			if (seen.has(id)) continue;
			seen.add(id);
			const a = byId.get(id)!;
			for (const tx of a.txs)
				if (tx.t === 'contract.deploy' && (best === null || (tx.version as number) > best)) best = tx.version as number;
			stack.push(...(a.prev ? [a.prev] : []), ...a.deps);
		}
		out.set(b.id, best);
	}
	return out;
}

describe('claims are decided under the contract versions in their causal past', () => {
	it('on 60 random graphs, every claim names the highest version its block has seen', () => {
		let concurrent = 0;
		for (let seed = 1; seed <= 60; seed++) {
			const blocks = randomGraph(seed, 120);
			const model = modelVersions(blocks);
			const state = foldBlocks(claimsFold, blocks);
			let deployedBefore = 0;
			const claims = blocks.filter((b) => b.txs[0]?.t === 'claim.submit');
			expect(state.count).toBe(claims.length);
			for (const b of blocks) {
				if (b.txs[0]?.t === 'contract.deploy') deployedBefore = b.txs[0].version as number;
				if (b.txs[0]?.t !== 'claim.submit') continue;
				const decision = currentDecision(claimById(state, `${b.id}-0`)!)!;
				expect(decision.version).toBe(model.get(b.id));
				if (model.get(b.id) !== deployedBefore) concurrent++; // a newer version earlier in the order that this claim had not seen
			}
		}
		// The graphs are concurrent enough for the rule to matter.
		expect(concurrent).toBeGreaterThan(100);
	});

	it('the same decisions whatever checkpoint the fold resumes from; a version deployed beside a claim does not decide it', () => {
		const blocks = randomGraph(7, 80);
		const whole = foldBlocks(claimsFold, blocks);
		for (const cut of [1, 20, 40, 79]) {
			const causal = foldContexts(claimsFold.reads);
			const first = foldBlocks(claimsFold, blocks.slice(0, cut), claimsFold.init(), causal);
			const resumed = foldBlocks(claimsFold, blocks.slice(cut), claimsFold.decode(claimsFold.encode(first)), causal);
			expect(JSON.stringify(allClaims(resumed))).toBe(JSON.stringify(allClaims(whole)));
		}
		// The payer's own claim beside its deploy of version 2, after version 1.
		const [genesis] = randomGraph(8, 0);
		const beside: Block = {
			...genesis!,
			id: 'ab'.repeat(32) as BlockId,
			seq: 1,
			prev: genesis!.id,
			clock: 2,
			txs: [
				{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy() },
				submitTx(form([{ code: '99213', price: 9_200, date: '2025-02-03' }], { provider: PAYER }))
			]
		};
		const state = foldBlocks(claimsFold, [genesis!, beside]);
		expect(currentDecision(claimById(state, `${beside.id}-1`)!)!.version).toBe(1);
		expect(() => claimsFold.apply(claimsFold.init(), beside)).toThrow(/causal past/);
	});
});
