/**
 * IndexedDB {@link LedgerStore} on `idb`. Blocks live in segments (segment.ts): an append
 * is one readwrite transaction adding one record per batch of up to 500 blocks (indexed by
 * its ids only), the segment's summary, the heads, the batch's meta and its index rows.
 * The summaries are all held in memory (segment-directory.ts) and say which segments to
 * read for `ordered`, `range` and `at`. Layout and migrations: indexeddb-schema.ts. Every
 * write (append, meta, checkpoints, evidence) commits with `durability: 'strict'` by default
 * and resolves on `complete`: an acknowledged write survives a reload, a closed tab or a power cut.
 */
import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import { CodedError } from '../errors.js';
import type { AuthorId, BlockId, Head } from '../types.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import { commitFacts, foldRange, readFactKeys, readFacts, readFactsOfKeys, readLastFacts, writeFactRows } from './indexeddb-facts.js';
import { repairHeads } from './indexeddb-heads.js';
import { openLedgerDatabase, type LedgerDB } from './indexeddb-schema.js';
import { SegmentDirectory } from './segment-directory.js';
import { Segment, byChain, byOrder, packSegments, type SegmentSummary, type SlotRef } from './segment.js';
import { idbCheckpoints, type CheckpointMethods } from './indexeddb-checkpoints.js';
import { compareOrder, type Evidence, type LedgerStore, type OrderKey, type StoredBlock } from './store.js';

export { SCHEMA_VERSION } from './indexeddb-schema.js';

export interface IndexedDBStoreOptions {
	/** 'strict' (default) flushes to disk before a write resolves; 'relaxed' is faster but may lose the last writes on a crash (bulk imports, benchmarks). */
	durability?: 'strict' | 'relaxed';
}

/** Segments kept decoded for point lookups (get, getMany, at): the newest appended and read. */
const CACHED_SEGMENTS = 32;
/** Scans (ordered, range) in progress whose next page may reuse the segments the last one read. */
const OPEN_SCANS = 4;

type ReadTx = IDBPTransaction<LedgerDB, ('segments' | 'summaries')[], 'readonly'>;

/** A segment a scan may need, with the number of its blocks the scan could take. */
interface Candidate {
	readonly seg: number;
	readonly count: number;
}

export class IndexedDBStore implements LedgerStore {
	readonly kind = 'indexeddb';
	readonly #db: IDBPDatabase<LedgerDB>;
	readonly #durability: 'strict' | 'relaxed';
	readonly #directory = new SegmentDirectory();
	/** Point-lookup cache, most recently used last. Segments never change once stored. */
	readonly #cache = new Map<number, Segment>();
	/**
	 * Segments read by a scan's last page, under the key its next page asks with. Scans read
	 * the database, never {@link #cache}, so an audit sees bytes changed on disk behind the
	 * app's back; a scan only reuses what it read itself.
	 */
	readonly #scans = new Map<string, Map<number, Segment>>();

	private constructor(db: IDBPDatabase<LedgerDB>, durability: 'strict' | 'relaxed') {
		this.#db = db;
		this.#durability = durability;
		this.#checkpoints = idbCheckpoints(db, (on) => this.#writeOne('checkpoints', (tx) => on(tx.objectStore('checkpoints') as never)));
	}

	/**
	 * Opens (creating or migrating) the database `name`; refuses with code `NO_INDEXEDDB`, `STORE_NEWER_SCHEMA`
	 * (written by a newer app) or `STORE_MIGRATION_FAILED` (an upgrade step failed; the database is left as it was).
	 */
	static async open(name: string, options: IndexedDBStoreOptions = {}): Promise<IndexedDBStore> {
		if (!globalThis.indexedDB) throw new CodedError('NO_INDEXEDDB', 'IndexedDB is not available in this environment');
		const db = await openLedgerDatabase(name);
		const store = new IndexedDBStore(db, options.durability ?? 'strict');
		// Every summary into the directory, and heads that disagree with the stored blocks written again from them.
		await repairHeads(db, store.#directory);
		return store;
	}

	async append(
		blocks: readonly StoredBlock[],
		meta: Readonly<Record<string, unknown>> = {},
		facts: readonly FactRow[] = []
	): Promise<void> {
		const metaEntries = Object.entries(meta);
		if (blocks.length === 0 && metaEntries.length === 0 && facts.length === 0) return;
		// An id listed twice in one batch: refused before the transaction (the check below looks only at stored ones).
		const ids = new Set<BlockId>();
		for (const b of blocks) {
			if (ids.has(b.id)) throw new CodedError('STORE_DUPLICATE_BLOCK', `block ${b.id} appears twice in one append`);
			ids.add(b.id);
		}
		const packed = packSegments(blocks);
		const tx = this.#writeTransaction(['segments', 'summaries', 'heads', 'meta', 'facts']);
		const segments = tx.objectStore('segments');
		const summaries = tx.objectStore('summaries');
		const heads = tx.objectStore('heads');
		// Segments another tab wrote since this one last looked: the directory must not skip them.
		const others = summaries.getAll(IDBKeyRange.lowerBound(this.#directory.last, true));
		const newest = new Map<AuthorId, StoredBlock>();
		for (const b of blocks) {
			const current = newest.get(b.author);
			if (!current || current.seq < b.seq || (current.seq === b.seq && b.id < current.id)) newest.set(b.author, b);
		}
		// Heads read in this transaction (no other tab's append comes between): a block above its author's
		// head is not stored; one at or below it is looked up in byId before the segments are added.
		const stored = Promise.all([...newest.keys()].map((author) => heads.get(author)));
		const added = stored.then(async (found) => {
			const headOf = new Map([...newest.keys()].map((author, i) => [author, found[i]]));
			const suspects = blocks.filter((b) => b.seq <= (headOf.get(b.author)?.seq ?? -1));
			const byId = segments.index('byId');
			const counts = await Promise.all(suspects.map((b) => byId.count(b.id)));
			const again = suspects.find((_, i) => counts[i]! > 0);
			if (again) throw new CodedError('STORE_DUPLICATE_BLOCK', `block ${again.id} is already stored`);
			const writes = packed.map(async ({ record, summary }) => {
				const seg = await segments.add(record);
				const full: SegmentSummary = { ...summary, seg };
				await summaries.add(full);
				return full;
			});
			const puts: Promise<unknown>[] = [];
			for (const b of newest.values()) {
				const head = headOf.get(b.author);
				if (!head || head.seq < b.seq || (head.seq === b.seq && b.id < head.id))
					puts.push(heads.put({ author: b.author, seq: b.seq, id: b.id, clock: b.clock }));
			}
			const [full] = await Promise.all([Promise.all(writes), Promise.all(puts)]);
			return full;
		});
		writeFactRows(tx.objectStore('facts'), facts, []);
		const writes: Promise<unknown>[] = [others, added];
		for (const [key, value] of metaEntries) writes.push(tx.objectStore('meta').put(value, key));
		try {
			await Promise.all([...writes, tx.done]);
		} catch (error) {
			try {
				tx.abort();
			} catch {
				// already finished or aborted
			}
			throw error;
		}
		// Committed: the directory learns the new segments, the cache keeps them for the lookups that follow.
		for (const summary of await others) this.#directory.add(summary);
		(await added).forEach((summary, i) => {
			this.#directory.add(summary);
			this.#remember(summary.seg, new Segment(packed[i]!.record));
		});
	}

	#writeTransaction<Names extends StoreNames<LedgerDB>[]>(stores: Names) {
		return this.#db.transaction(stores, 'readwrite', { durability: this.#durability });
	}

	/** One write in its own transaction, resolved once the transaction is durable (idb's shortcuts resolve at the request). */
	async #writeOne(
		store: StoreNames<LedgerDB>,
		write: (tx: IDBPTransaction<LedgerDB, StoreNames<LedgerDB>[], 'readwrite'>) => Promise<unknown>
	) {
		const tx = this.#writeTransaction([store]);
		await Promise.all([write(tx), tx.done]);
	}

	/** A read transaction over segments, with the directory brought up to date in it (another tab may have appended). */
	async #readTransaction(): Promise<ReadTx> {
		const tx = this.#db.transaction(['segments', 'summaries']);
		const fresh = await tx.objectStore('summaries').getAll(IDBKeyRange.lowerBound(this.#directory.last, true));
		for (const summary of fresh) this.#directory.add(summary);
		return tx;
	}

	#remember(key: number, segment: Segment) {
		this.#cache.delete(key);
		this.#cache.set(key, segment);
		if (this.#cache.size > CACHED_SEGMENTS) this.#cache.delete(this.#cache.keys().next().value!);
	}

	/**
	 * The segments under `keys`: from `have` (the point cache, or a scan's own earlier
	 * reads) when there, else read in `tx`. Every segment read refreshes the point cache.
	 */
	async #read(tx: ReadTx, keys: readonly number[], have: ReadonlyMap<number, Segment> | undefined): Promise<Map<number, Segment>> {
		const out = new Map<number, Segment>();
		const missing: number[] = [];
		for (const key of new Set(keys)) {
			const held = have?.get(key);
			if (held) out.set(key, held);
			else missing.push(key);
		}
		const read = await Promise.all(missing.map((key) => tx.objectStore('segments').get(key)));
		read.forEach((record, i) => {
			if (!record) throw new CodedError('STORE_DAMAGED', `segment ${missing[i]} is listed but missing`);
			const segment = new Segment(record);
			out.set(missing[i]!, segment);
			this.#remember(missing[i]!, segment);
		});
		return out;
	}

	/**
	 * The first `limit` slots, by `compare`, of the candidates' `pick`ed slots. Candidates
	 * come sorted by the lowest slot they may hold; their ranges may overlap (a batch that
	 * arrived late), so this reads them in that order until it holds `limit` slots, then
	 * every candidate that starts before the `limit`-th: none after can change the page.
	 */
	async #scan<C extends Candidate>(
		tx: ReadTx,
		candidates: readonly C[],
		limit: number,
		reuse: ReadonlyMap<number, Segment> | undefined,
		pick: (segment: Segment) => SlotRef[],
		compare: (a: SlotRef, b: SlotRef) => number,
		startsBefore: (candidate: C, slot: SlotRef) => boolean
	): Promise<{ refs: SlotRef[]; segments: Map<number, Segment> }> {
		const segments = new Map<number, Segment>();
		let refs: SlotRef[] = [];
		let next = 0;
		for (;;) {
			const wanted: number[] = [];
			if (refs.length >= limit) {
				const last = refs[limit - 1]!;
				while (next < candidates.length && startsBefore(candidates[next]!, last)) wanted.push(candidates[next++]!.seg);
			} else {
				let need = limit - refs.length;
				while (next < candidates.length && need > 0) {
					need -= candidates[next]!.count;
					wanted.push(candidates[next++]!.seg);
				}
			}
			if (wanted.length === 0) break;
			for (const [key, segment] of await this.#read(tx, wanted, reuse)) {
				segments.set(key, segment);
				refs.push(...pick(segment));
			}
			refs.sort(compare);
			if (refs.length > limit) refs = refs.slice(0, limit);
		}
		return { refs, segments };
	}

	#takeScan(key: string): Map<number, Segment> | undefined {
		const held = this.#scans.get(key);
		this.#scans.delete(key);
		return held;
	}

	#keepScan(key: string, segments: Map<number, Segment>) {
		if (segments.size === 0) return;
		this.#scans.set(key, segments);
		if (this.#scans.size > OPEN_SCANS) this.#scans.delete(this.#scans.keys().next().value!);
	}

	async get(id: BlockId) {
		return (await this.getMany([id]))[0];
	}

	async getMany(ids: readonly BlockId[]) {
		if (ids.length === 0) return [];
		const found = new Map<BlockId, StoredBlock>();
		const rest: BlockId[] = [];
		for (const id of ids) {
			const block = this.#cached(id);
			if (block) found.set(id, block);
			else rest.push(id);
		}
		if (rest.length > 0) {
			const tx = this.#db.transaction(['segments', 'summaries']);
			const byId = tx.objectStore('segments').index('byId');
			const keys = await Promise.all(rest.map((id) => byId.getKey(id)));
			const segments = await this.#read(
				tx,
				keys.filter((key) => key !== undefined),
				this.#cache
			);
			rest.forEach((id, i) => {
				const segment = keys[i] === undefined ? undefined : segments.get(keys[i]);
				const slot = segment?.slotOf(id) ?? -1;
				if (slot >= 0) found.set(id, segment!.block(slot));
			});
		}
		return ids.map((id) => found.get(id));
	}

	#cached(id: BlockId): StoredBlock | undefined {
		for (const segment of this.#cache.values()) {
			const slot = segment.slotOf(id);
			if (slot >= 0) return segment.block(slot);
		}
		return undefined;
	}

	async at(author: AuthorId, seq: number) {
		const tx = await this.#readTransaction();
		const parts = this.#directory.chainCandidates(author, seq, seq);
		const segments = await this.#read(
			tx,
			parts.map((p) => p.seg),
			this.#cache
		);
		const refs = [...segments.values()].flatMap((segment) => segment.chainSlots(author, seq, seq)).sort(byChain);
		return refs[0] && refs[0].segment.block(refs[0].slot);
	}

	async range(author: AuthorId, fromSeq: number, limit: number) {
		if (limit <= 0) return [];
		const from = Math.max(0, fromSeq);
		const tx = await this.#readTransaction();
		const parts = this.#directory.chainCandidates(author, from);
		const { refs, segments } = await this.#scan(
			tx,
			parts,
			limit,
			this.#takeScan(`r:${author}:${from}`),
			(segment) => segment.chainSlots(author, from),
			byChain,
			(part, last) => part.minSeq <= last.segment.record.seq[last.slot]!
		);
		const blocks = refs.map(({ segment, slot }) => segment.block(slot));
		if (blocks.length === limit) {
			const next = blocks[limit - 1]!.seq + 1;
			const ahead = new Set(parts.filter((p) => p.maxSeq >= next).map((p) => p.seg));
			this.#keepScan(`r:${author}:${next}`, new Map([...segments].filter(([key]) => ahead.has(key))));
		}
		return blocks;
	}

	async ordered(after: OrderKey | null, limit: number) {
		if (limit <= 0) return [];
		const tx = await this.#readTransaction();
		const candidates = this.#directory.orderCandidates(after);
		const { refs, segments } = await this.#scan(
			tx,
			candidates,
			limit,
			after ? this.#takeScan(`o:${after[0]}:${after[1]}`) : undefined,
			(segment) => segment.slotsAfter(after),
			byOrder,
			(summary, last) => compareOrder(summary.min, last.segment.orderKey(last.slot)) < 0
		);
		const blocks = refs.map(({ segment, slot }) => segment.block(slot));
		if (blocks.length === limit) {
			const last: OrderKey = [blocks[limit - 1]!.clock, blocks[limit - 1]!.id];
			const ahead = new Set(candidates.filter((s) => compareOrder(s.max, last) > 0).map((s) => s.seg));
			this.#keepScan(`o:${last[0]}:${last[1]}`, new Map([...segments].filter(([key]) => ahead.has(key))));
		}
		return blocks;
	}

	heads(): Promise<Head[]> {
		return this.#db.getAll('heads');
	}

	async count() {
		await this.#readTransaction();
		return this.#directory.count;
	}

	putEvidence(evidence: Evidence) {
		return this.#writeOne('evidence', (tx) => tx.objectStore('evidence').put(evidence));
	}

	evidence() {
		return this.#db.getAll('evidence');
	}

	getMeta = async <T>(key: string) => (await this.#db.get('meta', key)) as T | undefined;

	putMeta(key: string, value: unknown) {
		return this.#writeOne('meta', (tx) => tx.objectStore('meta').put(value, key));
	}

	readonly #checkpoints: CheckpointMethods;
	putCheckpoint: LedgerStore['putCheckpoint'] = (c) => this.#checkpoints.putCheckpoint(c);
	checkpointAtOrBefore: LedgerStore['checkpointAtOrBefore'] = (p) => this.#checkpoints.checkpointAtOrBefore(p);
	dropCheckpointsAfter: LedgerStore['dropCheckpointsAfter'] = (p) => this.#checkpoints.dropCheckpointsAfter(p);
	checkpointPositions: LedgerStore['checkpointPositions'] = () => this.#checkpoints.checkpointPositions();
	dropCheckpoints: LedgerStore['dropCheckpoints'] = (ps) => this.#checkpoints.dropCheckpoints(ps);

	writeFacts(put: readonly FactRow[], drop: readonly FactRow[], meta: Readonly<Record<string, unknown>> = {}) {
		return commitFacts(this.#db, this.#durability, meta, (facts) => writeFactRows(facts, put, drop));
	}

	clearFacts(fold: string, meta: Readonly<Record<string, unknown>> = {}) {
		return commitFacts(this.#db, this.#durability, meta, (facts) => [facts.delete(foldRange(fold))]);
	}

	// Reads of index-fold rows (indexeddb-facts.ts).
	facts(fold: string, key: string, after: FactPosition | null, limit: number, reverse = false) {
		return readFacts(this.#db, fold, key, after, limit, reverse);
	}
	factsOfKeys = (fold: string, keys: readonly string[]) => readFactsOfKeys(this.#db, fold, keys);
	lastFactsOfKeys = (fold: string, keys: readonly string[], before: FactPosition) => readLastFacts(this.#db, fold, keys, before);
	factKeys(fold: string, after: string | null, limit: number) {
		return readFactKeys(this.#db, fold, after, limit);
	}

	async close() {
		this.#cache.clear();
		this.#scans.clear();
		this.#directory.clear();
		this.#db.close();
	}
}
