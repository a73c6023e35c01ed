/**
 * The stored blocks as validation reads them: each block's position and causal version
 * vector, cached (bounded) in front of the store, with the blocks staged by the batch
 * being validated layered on top.
 */
import type { LedgerStore, StoredBlock } from '../storage/store.js';
import type { AuthorId, Block, BlockId } from '../types.js';
import type { BlockMeta } from '../validate.js';
import { FOLD_PAGE } from './fold-engine.js';
import { mergeVV } from './version-vector.js';

/**
 * Most block positions cached: enough for the deps of the blocks a sync batch names
 * (recent blocks), small enough that a catch-up of 100,000 blocks peaks at 74 MB of heap
 * instead of 122 MB with 50,000 (docs/benchmarks-sync.md).
 */
export const META_CACHE_LIMIT = 20_000;

/** A block's position with its causal version vector (its own position included). */
export interface CachedMeta extends BlockMeta {
	readonly vv: readonly number[];
}

/** Blocks accepted by the batch being validated, not yet stored. */
export type Staged = Map<BlockId, CachedMeta>;

export class BlockView {
	readonly #store: LedgerStore;
	#cache = new Map<BlockId, CachedMeta>();

	constructor(store: LedgerStore) {
		this.#store = store;
	}

	/** Whether `id` is known without a store read (a cheap duplicate check). */
	cached(id: BlockId): boolean {
		return this.#cache.has(id);
	}

	clear(): void {
		this.#cache.clear();
	}

	/** The block `id`, staged, cached or stored; `readStore` false when the caller knows it is not stored. */
	async meta(id: BlockId, staged: Staged, readStore = true): Promise<CachedMeta | undefined> {
		const hit = staged.get(id) ?? this.#cache.get(id);
		if (hit || !readStore) return hit;
		const stored = await this.#store.get(id);
		return stored && this.#rememberStored(stored);
	}

	/**
	 * The predecessors (prev and deps) that `blocks` name, neither among them nor stored,
	 * found with one store read for those not cached (in IndexedDB one transaction, where a
	 * read per id costs one each: 216 of them, about 1 ms each, in a 10,000-block receive of
	 * four writers' blocks, for blocks that arrive before what they build on). The ones found
	 * are cached. True until the store is next written.
	 */
	async absentPredecessors(blocks: readonly Block[]): Promise<Set<BlockId>> {
		const inBatch = new Set(blocks.map((b) => b.id));
		const named = blocks.flatMap((b) => (b.prev ? [b.prev, ...b.deps] : b.deps));
		const asked = [...new Set(named.filter((id) => !inBatch.has(id) && !this.#cache.has(id)))];
		const absent = new Set<BlockId>();
		if (asked.length === 0) return absent;
		(await this.#store.getMany(asked)).forEach((stored, i) => {
			if (stored) this.#rememberStored(stored);
			else absent.add(asked[i]!);
		});
		return absent;
	}

	#rememberStored(stored: StoredBlock): CachedMeta {
		const meta: CachedMeta = { id: stored.id, author: stored.author, seq: stored.seq, clock: stored.clock, vv: stored.vv };
		this.remember(meta);
		return meta;
	}

	remember(meta: CachedMeta): void {
		if (this.#cache.size >= META_CACHE_LIMIT) {
			const [oldest] = this.#cache.keys();
			if (oldest) this.#cache.delete(oldest);
		}
		this.#cache.set(meta.id, meta);
	}

	/** Causal version vector of everything before `block` (its prev and deps and their pasts). */
	async pastVV(block: Block, staged: Staged): Promise<number[]> {
		let vv: number[] = [];
		for (const id of block.prev ? [block.prev, ...block.deps] : block.deps) {
			const meta = await this.meta(id, staged);
			if (meta) vv = mergeVV(vv, meta.vv);
		}
		return vv;
	}

	/** `author`'s stored blocks from `fromSeq` on. */
	async *chain(author: AuthorId, fromSeq: number): AsyncGenerator<StoredBlock> {
		for (let from = fromSeq; ;) {
			const page = await this.#store.range(author, from, FOLD_PAGE);
			yield* page;
			if (page.length < FOLD_PAGE) return;
			from = page[page.length - 1]!.seq + 1;
		}
	}
}
