// The claims fold keyed by patient (claims-fold.ts `keyed`): when blocks land before blocks
// already folded, re-applying only the pages of the patients (and orphaned claim ids) they
// touch gives the state a fold of every block in order gives, after every batch, whatever
// blocks arrive late and in what batches: corrections, appeals and remittances naming
// claims made before or after them, payments, deaths recorded after the claims they flag,
// all seven fraud patterns. This is the engine's re-apply (core/ledger/key-reapply.ts)
// done by hand over unsigned synthetic blocks; tests/unit/core/ledger/key-reapply.test.ts and
// the 1,000 arrival orders of contracts-ledger.test.ts run it in a ledger.
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
	compareOrder,
	factRows,
	orderKey,
	toHex,
	type AuthorId,
	type Block,
	type BlockId,
	type FactRow,
	type FoldContext,
	type Tx
} from '$lib/core/index.js';
import { declaredKeys } from '$lib/core/fold.js';
import { prng } from '$lib/core/testing/prng.js';
import { allClaims, CARC, claimsFold, ignoredOf, type ClaimsState } from '$lib/domain/contracts/index.js';
import { shuffled } from '../../support/arrival-orders.js';
import { canonicalState } from '../../support/canonical-state.js';
import { syntheticClaims } from '../../../synthetic/claims.js';

const te = new TextEncoder();
const keyed = claimsFold.keyed!;
const indexes = [...new Map([...(claimsFold.reads ?? []).map((r) => r.index), keyed.index].map((i) => [i.name, i])).values()];

/**
 * Contexts as the ledger gives them, over the blocks `present` (arrived so far): the index
 * rows of those up to each block's place, and each block's causal past from its parents in
 * `all` (a ledger accepts a block only with its whole past, so what it has seen is fixed).
 */
function contextsOver(present: readonly Block[], all: readonly Block[]) {
	const byId = new Map(all.map((b) => [b.id, b]));
	const rows = new Map<string, FactRow[]>();
	for (const block of present)
		for (const index of indexes)
			for (const row of factRows(index, block)) {
				const key = `${index.name}\u0000${row.key}`;
				(rows.get(key) ?? rows.set(key, []).get(key)!).push(row);
			}
	const pasts = new Map<BlockId, Map<string, number>>();
	const past = (block: Block): Map<string, number> => {
		let vv = pasts.get(block.id);
		if (vv) return vv;
		vv = new Map([[block.author, block.seq]]);
		pasts.set(block.id, vv);
		for (const parent of [...(block.prev ? [block.prev] : []), ...block.deps]) {
			const p = byId.get(parent);
			if (p) for (const [author, seq] of past(p)) if ((vv.get(author) ?? -1) < seq) vv.set(author, seq);
		}
		return vv;
	};
	return (block: Block): FoldContext => {
		const mine = declaredKeys(claimsFold.reads ?? [], block);
		const at = orderKey(block);
		return {
			seen: (author, seq) => (past(block).get(author) ?? -1) >= seq,
			facts: (index, key) =>
				mine.get(index)?.has(key)
					? (rows.get(`${index}\u0000${key}`) ?? []).filter((row) => compareOrder([row.clock, row.block], at) <= 0)
					: []
		};
	};
}

const inOrder = (blocks: readonly Block[]) => [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));

/** The claims state of `present` folded in ledger order. */
function folded(present: readonly Block[], all: readonly Block[]): ClaimsState {
	const context = contextsOver(present, all);
	let state = claimsFold.init();
	for (const block of inOrder(present)) state = claimsFold.apply(state, block, context(block));
	return state;
}

/** What the fold engine does with a late batch: the keys it touches re-applied from the present blocks, or null (a rewind). */
function reapply(state: ClaimsState, batch: readonly Block[], present: readonly Block[], all: readonly Block[]): number | null {
	const context = contextsOver(present, all);
	const filed = new Map<string, Block[]>();
	for (const block of present)
		for (const row of factRows(keyed.index, block)) (filed.get(row.key) ?? filed.set(row.key, []).get(row.key)!).push(block);
	// The batch's keys, and those of the blocks that read what it added (a late encounter record).
	const dependents = batch.flatMap((block) => (keyed.dependents?.(block) ?? []).flatMap((row) => filed.get(row) ?? []));
	const keys = new Set<string>();
	for (const block of [...batch, ...dependents]) {
		const found = keyed.keysOf(block, context(block));
		if (found === null) return null;
		for (const key of found) keys.add(key);
	}
	for (const key of keys) {
		const mine = new Map<BlockId, Block>();
		const asked = new Set<string>();
		const ask = [...keyed.rowKeys(key)];
		while (ask.length > 0) {
			const row = ask.pop()!;
			if (asked.has(row)) continue;
			asked.add(row);
			for (const block of filed.get(row) ?? []) {
				mine.set(block.id, block);
				ask.push(...(keyed.moreRowKeys?.(block, key) ?? []));
			}
		}
		keyed.clear(state, key);
		for (const block of inOrder([...mine.values()])) keyed.applyKey(state, block, key, context(block));
	}
	return keys.size;
}

/** A synthetic claims ledger with corrections, appeals, remittances and payments added, some naming claims that sort after them. */
function ledger(seed: number) {
	const data = syntheticClaims({ seed, claims: 120, patients: 12, fraud: true });
	const random = prng(seed * 7919);
	const extra: Block[] = [];
	const claims = data.blocks.flatMap((block) =>
		block.txs.flatMap((tx, i) => (tx.t === 'claim.submit' ? [{ block, tx, id: `${block.id}-${i}` }] : []))
	);
	const add = (author: string, clock: number, txs: Tx[], deps: BlockId[]) => {
		const id = toHex(sha256(te.encode(`extra/${seed}/${extra.length}`))) as BlockId;
		extra.push({ ...data.blocks[0]!, id, author: author as AuthorId, seq: 1000 + extra.length, prev: null, deps, clock, txs });
	};
	for (let n = 0; n < 24; n++) {
		const c = claims[Math.floor(random() * claims.length)]!;
		const roll = random();
		// Before the claim (an orphan until the claim counts) or after it.
		const clock = c.block.clock + (random() < 0.3 ? -1 : 1 + Math.floor(random() * 5));
		const deps = clock > c.block.clock ? [c.block.id] : [];
		if (roll < 0.3) add(c.block.author, clock, [{ t: 'claim.correct', original: c.id, claim: c.tx.claim! }], deps);
		else if (roll < 0.6) add(c.block.author, clock, [{ t: 'claim.appeal', original: c.id, reason: 'r', preAuthRef: [] }], deps);
		else if (roll < 0.8) add(data.payer, clock, [{ t: 'remittance.record', claim: c.id, amount: 100 + n }], deps);
		else {
			const other = data.patients[Math.floor(random() * data.patients.length)]!;
			const patient = Uint8Array.from(Buffer.from(other, 'hex'));
			add(c.block.author, clock, [{ t: 'payment.record', patient, amount: 50 + n, claim: c.id }], deps);
		}
	}
	// Mid-ledger changes of the head the pages read as of each transaction: coverages
	// re-enrolled ending early, and a device of one clinic named another's.
	const middle = Math.floor(data.blocks[data.blocks.length - 1]!.clock / 2);
	const patientKey = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
	const covered = data.patients.slice(0, 6).map((patient, i) => ({
		t: 'coverage.enroll',
		id: `cov-${i}`,
		plan: 'sample-ppo',
		patient: patientKey(patient),
		start: '2025-01-01',
		end: '2025-02-15'
	}));
	add(data.payer, middle, covered, []);
	add(
		data.payer,
		middle + 3,
		[{ t: 'member.add', key: patientKey(data.clinics[1]!), role: 'billing', clinic: patientKey(data.clinics[0]!) }],
		[]
	);
	// A remittance of a claim that never exists.
	add(data.payer, 3, [{ t: 'remittance.record', claim: `${'ab'.repeat(32)}-0`, amount: 1 }], []);
	return inOrder([...data.blocks, ...extra]);
}

describe('the claims fold keyed by patient', () => {
	it('re-applying the late batches’ patients gives, after every batch, the state of a fold in ledger order', () => {
		let reapplied = 0;
		let rewound = 0;
		for (let seed = 1; seed <= 6; seed++) {
			const all = ledger(seed);
			const random = prng(seed);
			for (let trial = 0; trial < 4; trial++) {
				// Most blocks arrive first, in order; the rest arrive late, shuffled, in batches of 1-12.
				const late = new Set(all.filter(() => random() < 0.15).map((b) => b.id));
				let present = all.filter((b) => !late.has(b.id));
				let state = folded(present, all);
				const order = shuffled(
					all.filter((b) => late.has(b.id)),
					random
				);
				for (let i = 0; i < order.length;) {
					const size = 1 + Math.floor(random() * 12);
					const batch = order.slice(i, i + size);
					i += size;
					present = [...present, ...batch];
					const keys = reapply(state, batch, present, all);
					if (keys === null) {
						state = folded(present, all); // a late head transaction: the engine rewinds
						rewound++;
					} else reapplied += keys;
					const a = canonicalState(state),
						b = canonicalState(folded(present, all));
					if (a !== b) {
						let k = 0;
						while (a[k] === b[k]) k++;
						console.log(
							'DIFF at',
							k,
							'\nGOT ',
							a.slice(k - 300, k + 300),
							'\nWANT',
							b.slice(k - 300, k + 300),
							'batch',
							batch.map((x) => x.txs.map((t) => t.t))
						);
					}
					expect(a).toBe(b);
				}
			}
		}
		expect(reapplied).toBeGreaterThan(100);
		expect(rewound).toBeGreaterThan(0);
		// The head changes mid-ledger did change outcomes: pages must read it as of each transaction.
		const state = folded(ledger(1), ledger(1));
		expect(ignoredOf(state).some((i) => i.reason === 'provider is not the submitting clinic')).toBe(true);
		expect(allClaims(state).some((c) => c.decisions.some((d) => d.lines.some((l) => l.adjustments[0]?.carc === CARC.afterCoverage)))).toBe(
			true
		);
	});
});
