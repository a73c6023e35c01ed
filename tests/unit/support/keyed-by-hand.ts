/**
 * A keyed fold (core/fold.ts FoldKeys) driven by hand the way the fold engine drives it
 * (core/ledger/key-reapply.ts), over unsigned blocks: most blocks arrive in order, the rest
 * late, shuffled, in batches; after every batch the state must equal a fold of every
 * block present in ledger order. A batch whose keys the fold cannot name rewinds (the
 * engine refolds; here: a fold in order).
 */
import { expect } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import {
	compareOrder,
	factRows,
	orderKey,
	toHex,
	type AuthorId,
	type Block,
	type BlockId,
	type FactRow,
	type Fold,
	type FoldContext,
	type Tx
} from '$lib/core/index.js';
import { declaredKeys } from '$lib/core/fold.js';
import { shuffled } from './arrival-orders.js';
import { canonicalState, sameState } from './canonical-state.js';

export const inOrder = (blocks: readonly Block[]) => [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));

/** An unsigned block for folding by hand: its id the hash of `label`, no parents unless `deps` names them. */
export function unsignedBlock(
	label: string,
	fields: { author: string; seq: number; clock: number; time: number; txs: Tx[]; deps?: BlockId[] }
): Block {
	return {
		id: toHex(sha256(new TextEncoder().encode(label))) as BlockId,
		net: '00'.repeat(32) as BlockId,
		author: fields.author as AuthorId,
		seq: fields.seq,
		prev: null,
		deps: fields.deps ?? [],
		clock: fields.clock,
		time: fields.time,
		txs: fields.txs,
		body: new Uint8Array(),
		signature: new Uint8Array(),
		bytes: new Uint8Array()
	};
}

/**
 * Contexts as the ledger gives them, over the blocks `present` (arrived so far): the index
 * rows of those up to each block's place, and each block's causal past from its parents in
 * `all` (a ledger accepts a block only with its whole past, so what it has seen is fixed).
 */
function contextsOver<S>(fold: Fold<S>, present: readonly Block[], all: readonly Block[]): (block: Block) => FoldContext {
	const indexes = [...new Set([...(fold.reads ?? []).map((r) => r.index), ...(fold.keyed ? [fold.keyed.index] : [])])];
	const byId = new Map(all.map((b) => [b.id, b]));
	const rows = new Map<string, FactRow[]>();
	// Rows in ledger order, as the store gives them, whatever order the blocks arrived in.
	for (const block of inOrder(present))
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
	return (block) => {
		const mine = declaredKeys(fold.reads ?? [], block);
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

/** `fold`'s state of `present` folded in ledger order. */
export function folded<S>(fold: Fold<S>, present: readonly Block[], all: readonly Block[] = present): S {
	const context = contextsOver(fold, present, all);
	let state = fold.init();
	for (const block of inOrder(present)) state = fold.apply(state, block, context(block));
	return state;
}

/**
 * What the fold engine does with a late batch: the shared piece rebuilt if the batch changes
 * it, and the keys it touches re-applied from the present blocks; null when it must rewind.
 */
function reapply<S>(
	fold: Fold<S>,
	state: S,
	batch: readonly Block[],
	present: readonly Block[],
	all: readonly Block[]
): { keys: number; rebuilds: number } | null {
	const keyed = fold.keyed!;
	const context = contextsOver(fold, present, all);
	const filed = new Map<string, Block[]>();
	for (const block of present)
		for (const row of factRows(keyed.index, block)) (filed.get(row.key) ?? filed.set(row.key, []).get(row.key)!).push(block);
	// The batch's keys, and those of the blocks that read what it added (a late encounter record).
	const dependents = batch.flatMap((block) => (keyed.dependents?.(block) ?? []).flatMap((row) => filed.get(row) ?? []));
	const keys = new Set<string>();
	const keysOf = (blocks: readonly Block[]) => {
		for (const block of blocks) {
			const found = keyed.keysOf(block, context(block), state);
			if (found === null) return false;
			for (const key of found) keys.add(key);
		}
		return true;
	};
	if (!keysOf([...batch, ...dependents])) return null;
	// A late change of the shared piece the fold rebuilds by itself: rebuilt from every block
	// filed under its rows, then the keys of the blocks filed under the rows it names.
	const shared = keyed.shared;
	let rebuilds = 0;
	if (shared && batch.some((block) => shared.touches(block))) {
		const under = (rows: readonly string[]) => inOrder([...new Set(rows.flatMap((row) => filed.get(row) ?? []))]);
		const rebuilt = shared.rebuild(
			state,
			under(shared.rows).map((block) => ({ block, context: context(block) })),
			new Set(batch.map((block) => block.id))
		);
		if (!rebuilt || !keysOf(under(rebuilt.rows))) return null;
		rebuilt.commit();
		rebuilds++;
	}
	const steps: [Block, string][] = [];
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
		for (const block of mine.values()) steps.push([block, key]);
	}
	steps.sort(([a], [b]) => compareOrder(orderKey(a), orderKey(b)));
	for (const key of keys) keyed.clear(state, key);
	for (const [block, key] of steps) keyed.applyKey(state, block, key, context(block));
	return { keys: keys.size, rebuilds };
}

/**
 * `trials` arrival scenarios of `all`: a share `late` of the blocks held back and delivered
 * shuffled in batches of 1-12; after every batch the keyed state must equal the fold in
 * order. Returns how many keys were re-applied, how many batches rebuilt the fold's shared
 * piece (`FoldKeys.shared`) and how many rewound.
 */
export function lateArrivals<S>(fold: Fold<S>, all: readonly Block[], random: () => number, trials: number, late = 0.15) {
	let reapplied = 0;
	let rebuilt = 0;
	let rewound = 0;
	for (let trial = 0; trial < trials; trial++) {
		const held = new Set(all.filter(() => random() < late).map((b) => b.id));
		let present = all.filter((b) => !held.has(b.id));
		let state = folded(fold, present, all);
		const order = shuffled(
			all.filter((b) => held.has(b.id)),
			random
		);
		for (let i = 0; i < order.length;) {
			const size = 1 + Math.floor(random() * 12);
			const batch = order.slice(i, i + size);
			i += size;
			present = [...present, ...batch];
			const done = reapply(fold, state, batch, present, all);
			if (done === null) {
				state = folded(fold, present, all);
				rewound++;
			} else {
				reapplied += done.keys;
				rebuilt += done.rebuilds;
			}
			const reference = folded(fold, present, all);
			// Compared in place; the texts only when they differ, for the message.
			if (!sameState(state, reference)) expect(canonicalState(state)).toBe(canonicalState(reference));
		}
	}
	return { reapplied, rebuilt, rewound };
}
