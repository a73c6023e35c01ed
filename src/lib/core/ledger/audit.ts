/**
 * "Verify all": every stored block checked again from its bytes, as if it had just
 * arrived, because opening a ledger trusts its store (see docs/validation.md).
 */
import type { Verifier } from '../crypto/verifier.js';
import { orderKey, type LedgerStore, type OrderKey } from '../storage/store.js';
import type { BlockId } from '../types.js';
import { checkIntrinsic } from '../validate.js';
import type { Rejection } from './types.js';

/**
 * Re-checks every stored block: encoding, hash, signature, network, chain links and
 * clocks. Reports progress as (checked, total). Returns the failures found.
 */
export async function verifyStore(
	store: LedgerStore,
	net: BlockId,
	verifier: Verifier,
	onProgress?: (checked: number, total: number) => void | Promise<void>,
	pageSize = 500,
	signal?: AbortSignal
): Promise<{ checked: number; failures: Rejection[] }> {
	const total = await store.count();
	const failures: Rejection[] = [];
	const clocks = new Map<BlockId, number>();
	let checked = 0;
	// The next page is read from the store while this one is checked.
	const read = (after: OrderKey | null) => {
		const reading = store.ordered(after, pageSize);
		reading.catch(() => undefined); // awaited below unless the run stops first
		return reading;
	};
	let next = read(null);
	for (;;) {
		signal?.throwIfAborted();
		const page = await next;
		if (page.length === pageSize) next = read(orderKey(page[page.length - 1]!));
		const results = await Promise.all(page.map((s) => checkIntrinsic(s.bytes, net, verifier)));
		for (const [i, result] of results.entries()) {
			const stored = page[i]!;
			if (!result.ok) failures.push({ code: result.code, detail: result.detail, id: stored.id, author: stored.author });
			else {
				const b = result.block;
				if (b.id !== stored.id || b.author !== stored.author || b.seq !== stored.seq || b.clock !== stored.clock) {
					failures.push({ code: 'BAD_HASH', detail: 'stored index does not match the block', id: stored.id });
				} else {
					const parents = b.prev ? [b.prev, ...b.deps] : b.deps;
					let max = -1;
					for (const p of parents) max = Math.max(max, clocks.get(p) ?? (await store.get(p))?.clock ?? Infinity);
					if (b.clock !== max + 1) failures.push({ code: 'BAD_CLOCK', detail: 'clock does not follow its parents', id: b.id });
					clocks.set(b.id, b.clock);
				}
			}
		}
		checked += page.length;
		// A caller that returns a promise paces the run: the next page is checked once it settles.
		await onProgress?.(checked, total);
		if (page.length < pageSize) break;
		if (clocks.size > 200_000) clocks.clear();
	}
	return { checked, failures };
}
