/**
 * {@link LedgerStore} on LevelDB (`classic-level`) for the Node headless peer: an embedded
 * database opened in place, so a start reads the heads and the block count, not the
 * whole ledger. Node only (a native module): nothing the browser bundle loads imports it.
 *
 * One key space, UTF-8 keys with a one-letter prefix; numbers in keys are 16 hex digits
 * (fixed width, so byte order is numeric order), ids and authors are hex:
 *
 *   b/<id>                      the block record: {@link encodeBlock}
 *   c/<author>/<seq>/<id>       chain index (empty value): `at` and `range`
 *   o/<clock>/<id>              order index (empty value): `ordered`, (clock, id) order
 *   h/<author>                  head: seq, id, clock
 *   e/<id>                      evidence
 *   m/<key>                     meta (JSON)
 *   k/<clock>/<id>              checkpoint: count, state
 *   s/count, s/format           block count; key layout version ({@link LEVEL_FORMAT})
 *   x\0<fold>\0<key>\0<clock>\0<block>\0<n>
 *                               an index-fold row (index-fold.ts), its value in CBOR; NUL
 *                               separates the parts (keys hold no NUL), so one key's rows
 *                               are one range, in (clock, block, n) order
 *
 * An append is one `batch()` (blocks, both indexes, heads, count, the batch's meta), and
 * every write is made with `sync: true`: it resolves once LevelDB's log is on the disk, so
 * an acknowledged write survives a power cut and a torn one is dropped whole at the next
 * open. Writes run one at a time (the duplicate check and the head update read before
 * they write); LevelDB's own lock keeps a second process out of the directory.
 */
import { mkdirSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { decodeCanonical, encodeCanonical, type CborValue } from '../codec.js';
import { CodedError } from '../errors.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import type { AuthorId, BlockId, Head } from '../types.js';
import type { Checkpoint, Evidence, LedgerStore, OrderKey, StoredBlock } from './store.js';

/** Version of the key layout above; a database of a newer one is refused. */
export const LEVEL_FORMAT = 1;

const COUNT = 's/count';
const FORMAT = 's/format';

/**
 * The database cannot be used or written. `code` is stable: `LEDGER_DB_NEWER_FORMAT` (written
 * by a newer peer), `LEDGER_DB_DUPLICATE` (a block of the batch is already stored; nothing of
 * the batch was written), `LEDGER_DB_WRITE_FAILED` (an earlier write failed: reopen).
 */
export class LevelStoreError extends CodedError {
	override readonly name = 'LevelStoreError';
	declare readonly code: 'LEDGER_DB_NEWER_FORMAT' | 'LEDGER_DB_DUPLICATE' | 'LEDGER_DB_WRITE_FAILED';
	constructor(code: 'LEDGER_DB_NEWER_FORMAT' | 'LEDGER_DB_DUPLICATE' | 'LEDGER_DB_WRITE_FAILED', message: string) {
		super(code, message);
	}
}

/** A non-negative integer as 16 hex digits: byte order is numeric order. */
const num = (n: number): string => n.toString(16).padStart(16, '0');
const blockKey = (id: BlockId) => `b/${id}`;
const chainKey = (author: AuthorId, seq: number, id: BlockId) => `c/${author}/${num(seq)}/${id}`;
const orderKeyOf = (clock: number, id: BlockId) => `o/${num(clock)}/${id}`;
const checkpointKey = (position: OrderKey) => `k/${num(position[0])}/${position[1]}`;
const factPrefix = (fold: string, key: string) => `x\0${fold}\0${key}\0`;
const factKey = (fold: string, key: string, p: FactPosition) => `${factPrefix(fold, key)}${num(p[0])}\0${p[1]}\0${num(p[2])}`;
const factKeyOf = (r: FactRow) => factKey(r.fold, r.key, [r.clock, r.block, r.n]);
/** Past every row of `key` (and before any other key's): `\0` + 1. */
const afterFacts = (fold: string, key: string) => `x\0${fold}\0${key}\u0001`;
function factWrites(put: readonly FactRow[], drop: readonly FactRow[]): Write[] {
	return [
		...drop.map((r): Write => ({ type: 'del', key: factKeyOf(r) })),
		...put.map((r): Write => ({ type: 'put', key: factKeyOf(r), value: cbor(r.value) }))
	];
}
function factRowOf(fold: string, key: string, stored: string, value: Uint8Array): FactRow {
	const [clock, block, n] = stored.slice(factPrefix(fold, key).length).split('\0') as [string, BlockId, string];
	return { fold, key, clock: Number.parseInt(clock, 16), block, n: Number.parseInt(n, 16), value: decodeCanonical(value) };
}

/** The last path segment of a key: the id of an index entry. */
const lastSegment = (key: string) => key.slice(key.lastIndexOf('/') + 1);
/** `'/' + 1`: the upper bound of every key under a `prefix/`. */
const END = '0';

type Write = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

const cbor = (value: unknown): Uint8Array => encodeCanonical(value as CborValue);
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const parseJson = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

/**
 * A block record: `seq (f64) ‖ clock (f64) ‖ vv length (u32) ‖ vv (f64 each) ‖ author
 * length (u8; authors are 64 hex digits) ‖ author ‖ block bytes`, big-endian. No parser:
 * reading blocks back (catch-up, folds) is the store's hot path. LevelDB hands back Buffers:
 * the block bytes are copied into a plain Uint8Array, as the other stores give them.
 */
function encodeBlock(b: StoredBlock): Uint8Array {
	const head = 8 + 8 + 4 + 8 * b.vv.length + 1;
	const out = new Uint8Array(head + b.author.length + b.bytes.length);
	const view = new DataView(out.buffer);
	view.setFloat64(0, b.seq);
	view.setFloat64(8, b.clock);
	view.setUint32(16, b.vv.length);
	b.vv.forEach((n, i) => view.setFloat64(20 + 8 * i, n));
	out[head - 1] = b.author.length;
	for (let i = 0; i < b.author.length; i++) out[head + i] = b.author.charCodeAt(i);
	out.set(b.bytes, head + b.author.length);
	return out;
}

function decodeBlock(id: BlockId, record: Uint8Array): StoredBlock {
	const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
	const vv: number[] = [];
	const entries = view.getUint32(16);
	for (let i = 0; i < entries; i++) vv.push(view.getFloat64(20 + 8 * i));
	const head = 20 + 8 * entries + 1;
	const end = head + record[head - 1]!;
	const author = String.fromCharCode(...record.subarray(head, end)) as AuthorId;
	return { id, author, seq: view.getFloat64(0), clock: view.getFloat64(8), vv, bytes: new Uint8Array(record.subarray(end)) };
}

/** Is `b` a better head than `head`: a higher seq, or the smaller id at the same seq. */
const beats = (b: { seq: number; id: BlockId }, head: { seq: number; id: BlockId } | undefined) =>
	!head || head.seq < b.seq || (head.seq === b.seq && b.id < head.id);

export class LevelStore implements LedgerStore {
	readonly kind = 'leveldb';
	#count = 0;
	/** Writes run one at a time so each one's reads see the writes before it. */
	#queue: Promise<unknown> = Promise.resolve();
	#failed: Error | undefined;

	private constructor(
		readonly path: string,
		private readonly db: ClassicLevel<string, Uint8Array>
	) {}

	/**
	 * Opens (creating when missing) the database directory at `path` (mode 0700 when created).
	 * Rejects with LevelDB's own error (code `LEVEL_DATABASE_NOT_OPEN`, its cause
	 * `LEVEL_LOCKED` when another process has it open) or a {@link LevelStoreError}.
	 */
	static async open(path: string): Promise<LevelStore> {
		mkdirSync(path, { recursive: true, mode: 0o700 });
		const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
		await db.open();
		const store = new LevelStore(path, db);
		try {
			await store.#load();
		} catch (error) {
			await db.close();
			throw error;
		}
		return store;
	}

	async #load(): Promise<void> {
		const [format, count] = await this.db.getMany([FORMAT, COUNT]);
		if (format === undefined) {
			await this.db.put(FORMAT, json(LEVEL_FORMAT), { sync: true });
		} else if ((parseJson(format) as number) > LEVEL_FORMAT) {
			throw new LevelStoreError(
				'LEDGER_DB_NEWER_FORMAT',
				`${this.path} was written by a newer version of the peer (format ${String(parseJson(format))} > ${LEVEL_FORMAT}): update the peer`
			);
		}
		this.#count = count === undefined ? 0 : (parseJson(count) as number);
	}

	/** Queues `build` (reads, may throw to refuse), then writes what it returns in one synced batch. */
	#write(build: () => Promise<Write[]>, after: () => void = () => {}): Promise<void> {
		const run = this.#queue.then(async () => {
			if (this.#failed)
				throw new LevelStoreError(
					'LEDGER_DB_WRITE_FAILED',
					`${this.path}: an earlier write failed (${this.#failed.message}); reopen the store`
				);
			const writes = await build();
			if (writes.length === 0) return;
			try {
				await this.db.batch(writes, { sync: true });
			} catch (error) {
				this.#failed = error as Error;
				throw error;
			}
			after();
		});
		this.#queue = run.catch(() => undefined);
		return run;
	}

	append(blocks: readonly StoredBlock[], meta: Readonly<Record<string, unknown>> = {}, facts: readonly FactRow[] = []): Promise<void> {
		return this.#write(
			async () => {
				const ids = new Set(blocks.map((b) => b.id));
				const stored = blocks.length ? await this.db.getMany(blocks.map((b) => blockKey(b.id))) : [];
				if (ids.size !== blocks.length || stored.some((v) => v !== undefined)) {
					throw new LevelStoreError('LEDGER_DB_DUPLICATE', `${this.path}: a block of the batch is already stored`);
				}
				const writes: Write[] = [];
				const newest = new Map<AuthorId, StoredBlock>();
				for (const b of blocks) {
					writes.push({ type: 'put', key: blockKey(b.id), value: encodeBlock(b) });
					writes.push({ type: 'put', key: chainKey(b.author, b.seq, b.id), value: new Uint8Array(0) });
					writes.push({ type: 'put', key: orderKeyOf(b.clock, b.id), value: new Uint8Array(0) });
					if (beats(b, newest.get(b.author))) newest.set(b.author, b);
				}
				const authors = [...newest.keys()];
				const heads = authors.length ? await this.db.getMany(authors.map((a) => `h/${a}`)) : [];
				authors.forEach((author, i) => {
					const b = newest.get(author)!;
					const current = heads[i] === undefined ? undefined : (parseJson(heads[i]) as { seq: number; id: BlockId });
					if (beats(b, current)) writes.push({ type: 'put', key: `h/${author}`, value: json({ seq: b.seq, id: b.id, clock: b.clock }) });
				});
				if (blocks.length) writes.push({ type: 'put', key: COUNT, value: json(this.#count + blocks.length) });
				for (const [key, value] of Object.entries(meta)) writes.push({ type: 'put', key: `m/${key}`, value: json(value) });
				writes.push(...factWrites(facts, []));
				return writes;
			},
			() => (this.#count += blocks.length)
		);
	}

	async get(id: BlockId) {
		const bytes = await this.db.get(blockKey(id));
		return bytes === undefined ? undefined : decodeBlock(id, bytes);
	}

	async getMany(ids: readonly BlockId[]) {
		if (ids.length === 0) return [];
		const values = await this.db.getMany(ids.map(blockKey));
		return values.map((bytes, i) => (bytes === undefined ? undefined : decodeBlock(ids[i]!, bytes)));
	}

	/** The blocks of the index entries `keys` (which exist: indexes are written with their blocks). */
	async #blocksOf(keys: string[]): Promise<StoredBlock[]> {
		return (await this.getMany(keys.map(lastSegment) as BlockId[])).filter((b): b is StoredBlock => b !== undefined);
	}

	async at(author: AuthorId, seq: number) {
		const prefix = `c/${author}/${num(seq)}/`;
		const [key] = await this.db.keys({ gte: prefix, lt: prefix.slice(0, -1) + END, limit: 1 }).all();
		return key === undefined ? undefined : this.get(lastSegment(key) as BlockId);
	}

	async range(author: AuthorId, fromSeq: number, limit: number) {
		if (limit <= 0) return [];
		const keys = await this.db.keys({ gte: `c/${author}/${num(Math.max(0, fromSeq))}/`, lt: `c/${author}${END}`, limit }).all();
		return this.#blocksOf(keys);
	}

	async ordered(after: OrderKey | null, limit: number) {
		if (limit <= 0) return [];
		const range = after ? { gt: orderKeyOf(after[0], after[1]) } : { gte: 'o/' };
		const keys = await this.db.keys({ ...range, lt: `o${END}`, limit }).all();
		return this.#blocksOf(keys);
	}

	async heads(): Promise<Head[]> {
		const entries = await this.db.iterator({ gte: 'h/', lt: `h${END}` }).all();
		return entries.map(([key, value]) => {
			const h = parseJson(value) as { seq: number; id: BlockId; clock: number };
			return { author: key.slice(2) as AuthorId, seq: h.seq, id: h.id, clock: h.clock };
		});
	}

	async count() {
		return this.#count;
	}

	putEvidence(e: Evidence) {
		const value = cbor({ a: e.author, s: e.seq, w: e.conflictsWith, x: e.bytes, t: e.seenAt });
		return this.#write(async () => [{ type: 'put', key: `e/${e.id}`, value }]);
	}

	async evidence(): Promise<Evidence[]> {
		const entries = await this.db.iterator({ gte: 'e/', lt: `e${END}` }).all();
		return entries.map(([key, value]) => {
			const r = decodeCanonical(value) as unknown as { a: AuthorId; s: number; w: BlockId; x: Uint8Array; t: number };
			return { id: key.slice(2) as BlockId, author: r.a, seq: r.s, conflictsWith: r.w, bytes: r.x, seenAt: r.t };
		});
	}

	async getMeta<T>(key: string) {
		const value = await this.db.get(`m/${key}`);
		return value === undefined ? undefined : (parseJson(value) as T);
	}

	putMeta(key: string, value: unknown) {
		const bytes = json(value);
		return this.#write(async () => [{ type: 'put', key: `m/${key}`, value: bytes }]);
	}

	putCheckpoint(c: Checkpoint) {
		const value = cbor({ n: c.count, x: c.state });
		return this.#write(async () => [{ type: 'put', key: checkpointKey(c.position), value }]);
	}

	async checkpointAtOrBefore(position: OrderKey | null) {
		const upper = position ? { lte: checkpointKey(position) } : { lt: `k${END}` };
		const [entry] = await this.db.iterator({ gte: 'k/', ...upper, reverse: true, limit: 1 }).all();
		if (!entry) return undefined;
		const [key, value] = entry;
		const [, clock, id] = key.split('/') as [string, string, BlockId];
		const r = decodeCanonical(value) as unknown as { n: number; x: Uint8Array };
		return { position: [Number.parseInt(clock, 16), id] as OrderKey, count: r.n, state: r.x };
	}

	dropCheckpointsAfter(position: OrderKey) {
		return this.#write(async () => {
			const keys = await this.db.keys({ gt: checkpointKey(position), lt: `k${END}` }).all();
			return keys.map((key): Write => ({ type: 'del', key }));
		});
	}

	async checkpointPositions() {
		const keys = await this.db.keys({ gte: 'k/', lt: `k${END}` }).all();
		return keys.map((key): OrderKey => {
			const [, clock, id] = key.split('/') as [string, string, BlockId];
			return [Number.parseInt(clock, 16), id];
		});
	}

	dropCheckpoints(positions: readonly OrderKey[]) {
		return this.#write(async () => positions.map((p): Write => ({ type: 'del', key: checkpointKey(p) })));
	}

	writeFacts(put: readonly FactRow[], drop: readonly FactRow[], meta: Readonly<Record<string, unknown>> = {}) {
		const metaWrites = Object.entries(meta).map(([key, value]): Write => ({ type: 'put', key: `m/${key}`, value: json(value) }));
		return this.#write(async () => [...factWrites(put, drop), ...metaWrites]);
	}

	async facts(fold: string, key: string, after: FactPosition | null, limit: number, reverse = false) {
		if (limit <= 0) return [];
		const prefix = factPrefix(fold, key);
		const bounds = reverse
			? { gte: prefix, ...(after ? { lt: factKey(fold, key, after) } : { lt: afterFacts(fold, key) }) }
			: { ...(after ? { gt: factKey(fold, key, after) } : { gte: prefix }), lt: afterFacts(fold, key) };
		const entries = await this.db.iterator({ ...bounds, reverse, limit }).all();
		return entries.map(([stored, value]) => factRowOf(fold, key, stored, value));
	}

	async lastFactsOfKeys(fold: string, keys: readonly string[], before: FactPosition) {
		return (await Promise.all(keys.map((key) => this.facts(fold, key, before, 1, true)))).map((rows) => rows[0]);
	}

	async factsOfKeys(fold: string, keys: readonly string[]) {
		return Promise.all(keys.map((key) => this.facts(fold, key, null, Infinity)));
	}

	async factKeys(fold: string, after: string | null, limit: number) {
		const keys: string[] = [];
		const foldEnd = `x\0${fold}\u0001`;
		let from = after === null ? `x\0${fold}\0` : afterFacts(fold, after);
		while (keys.length < limit) {
			const [next] = await this.db.keys({ gte: from, lt: foldEnd, limit: 1 }).all();
			if (next === undefined) break;
			const key = next.slice(fold.length + 3, next.indexOf('\0', fold.length + 3));
			keys.push(key);
			from = afterFacts(fold, key);
		}
		return keys;
	}

	clearFacts(fold: string, meta: Readonly<Record<string, unknown>> = {}) {
		const metaWrites = Object.entries(meta).map(([key, value]): Write => ({ type: 'put', key: `m/${key}`, value: json(value) }));
		return this.#write(async () => {
			const keys = await this.db.keys({ gte: `x\0${fold}\0`, lt: `x\0${fold}\u0001` }).all();
			return [...keys.map((key): Write => ({ type: 'del', key })), ...metaWrites];
		});
	}

	async close() {
		await this.#queue;
		await this.db.close();
	}
}
