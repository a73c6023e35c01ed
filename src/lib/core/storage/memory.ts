/** In-memory {@link LedgerStore}: tests, simulation and the Node peer's working copy. */
import type { AuthorId, BlockId, Head } from '../types.js';
import { compareOrder, orderKey, type Checkpoint, type Evidence, type LedgerStore, type OrderKey, type StoredBlock } from './store.js';
import { CodedError } from '../errors.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import { FactTable } from './fact-table.js';

export class MemoryStore implements LedgerStore {
	readonly kind = 'memory';
	#blocks = new Map<BlockId, StoredBlock>();
	/** Per author, blocks by seq; a seq holds several blocks when the author equivocated (sorted by id). */
	#chains = new Map<AuthorId, StoredBlock[][]>();
	/** Kept sorted by order key; appends at the end are the common case. */
	#order: StoredBlock[] = [];
	#evidence = new Map<BlockId, Evidence>();
	#meta = new Map<string, unknown>();
	#checkpoints: Checkpoint[] = [];
	#facts = new FactTable();
	#closed = false;

	#open(): void {
		if (this.#closed) throw new CodedError('STORE_CLOSED', 'MemoryStore: closed');
	}

	async append(
		blocks: readonly StoredBlock[],
		meta: Readonly<Record<string, unknown>> = {},
		facts: readonly FactRow[] = []
	): Promise<void> {
		this.#open();
		const ids = new Set<BlockId>();
		for (const b of blocks) {
			if (this.#blocks.has(b.id) || ids.has(b.id))
				throw new CodedError('STORE_DUPLICATE_BLOCK', `MemoryStore: block ${b.id} already stored`);
			ids.add(b.id);
		}
		for (const b of blocks) {
			this.#blocks.set(b.id, b);
			const chain = this.#chains.get(b.author) ?? [];
			chain[b.seq] = [...(chain[b.seq] ?? []), b].sort((x, y) => (x.id < y.id ? -1 : 1));
			this.#chains.set(b.author, chain);
			const last = this.#order[this.#order.length - 1];
			if (!last || compareOrder(orderKey(last), orderKey(b)) < 0) this.#order.push(b);
			else this.#order.splice(this.#lowerBound(orderKey(b)), 0, b);
		}
		for (const [key, value] of Object.entries(meta)) this.#meta.set(key, structuredClone(value));
		for (const row of facts) this.#facts.put(row);
	}

	async writeFacts(put: readonly FactRow[], drop: readonly FactRow[], meta: Readonly<Record<string, unknown>> = {}) {
		this.#open();
		for (const row of drop) this.#facts.drop(row);
		for (const row of put) this.#facts.put(row);
		for (const [key, value] of Object.entries(meta)) this.#meta.set(key, structuredClone(value));
	}

	async facts(fold: string, key: string, after: FactPosition | null, limit: number, reverse = false) {
		this.#open();
		return this.#facts.rows(fold, key, after, limit, reverse);
	}

	async lastFactsOfKeys(fold: string, keys: readonly string[], before: FactPosition) {
		this.#open();
		return keys.map((key) => this.#facts.rows(fold, key, before, 1, true)[0]);
	}

	async factsOfKeys(fold: string, keys: readonly string[]) {
		this.#open();
		return keys.map((key) => this.#facts.rows(fold, key, null, Infinity, false));
	}

	async factKeys(fold: string, after: string | null, limit: number) {
		this.#open();
		return this.#facts.keys(fold, after, limit);
	}

	async clearFacts(fold: string, meta: Readonly<Record<string, unknown>> = {}) {
		this.#open();
		this.#facts.clear(fold);
		for (const [key, value] of Object.entries(meta)) this.#meta.set(key, structuredClone(value));
	}

	/** Index of the first block whose key is >= `key`. */
	#lowerBound(key: OrderKey): number {
		let lo = 0;
		let hi = this.#order.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (compareOrder(orderKey(this.#order[mid]!), key) < 0) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	async get(id: BlockId) {
		this.#open();
		return this.#blocks.get(id);
	}

	async getMany(ids: readonly BlockId[]) {
		this.#open();
		return ids.map((id) => this.#blocks.get(id));
	}

	async at(author: AuthorId, seq: number) {
		this.#open();
		return this.#chains.get(author)?.[seq]?.[0];
	}

	async range(author: AuthorId, fromSeq: number, limit: number) {
		this.#open();
		const chain = this.#chains.get(author) ?? [];
		const out: StoredBlock[] = [];
		for (let seq = Math.max(0, fromSeq); seq < chain.length && out.length < limit; seq++) {
			for (const b of chain[seq] ?? []) if (out.length < limit) out.push(b);
		}
		return out;
	}

	async ordered(after: OrderKey | null, limit: number) {
		this.#open();
		let start = 0;
		if (after) {
			start = this.#lowerBound(after);
			if (start < this.#order.length && compareOrder(orderKey(this.#order[start]!), after) === 0) start++;
		}
		return this.#order.slice(start, start + limit);
	}

	async heads(): Promise<Head[]> {
		this.#open();
		const heads: Head[] = [];
		for (const [author, chain] of this.#chains) {
			const b = chain[chain.length - 1]?.[0];
			if (b) heads.push({ author, seq: b.seq, id: b.id, clock: b.clock });
		}
		return heads;
	}

	async count() {
		this.#open();
		return this.#blocks.size;
	}

	async putEvidence(evidence: Evidence) {
		this.#open();
		this.#evidence.set(evidence.id, evidence);
	}

	async evidence() {
		this.#open();
		return [...this.#evidence.values()];
	}

	async getMeta<T>(key: string) {
		this.#open();
		return structuredClone(this.#meta.get(key)) as T | undefined;
	}

	async putMeta(key: string, value: unknown) {
		this.#open();
		this.#meta.set(key, structuredClone(value));
	}

	async putCheckpoint(checkpoint: Checkpoint) {
		this.#open();
		this.#checkpoints = this.#checkpoints.filter((c) => compareOrder(c.position, checkpoint.position) !== 0);
		this.#checkpoints.push(checkpoint);
		this.#checkpoints.sort((a, b) => compareOrder(a.position, b.position));
	}

	async checkpointAtOrBefore(position: OrderKey | null) {
		this.#open();
		for (let i = this.#checkpoints.length - 1; i >= 0; i--) {
			const c = this.#checkpoints[i]!;
			if (position === null || compareOrder(c.position, position) <= 0) return c;
		}
		return undefined;
	}

	async dropCheckpointsAfter(position: OrderKey) {
		this.#open();
		this.#checkpoints = this.#checkpoints.filter((c) => compareOrder(c.position, position) <= 0);
	}

	async checkpointPositions() {
		this.#open();
		return this.#checkpoints.map((c): OrderKey => [c.position[0], c.position[1]]);
	}

	async dropCheckpoints(positions: readonly OrderKey[]) {
		this.#open();
		this.#checkpoints = this.#checkpoints.filter((c) => !positions.some((p) => compareOrder(p, c.position) === 0));
	}

	async close() {
		this.#closed = true;
	}
}
