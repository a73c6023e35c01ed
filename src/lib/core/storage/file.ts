/**
 * File-backed {@link LedgerStore}: an append-only log replayed into a {@link MemoryStore} at
 * open. Node only. The headless peer kept its ledger in one before it moved to LevelDB
 * (level.ts); the peer reads it once to migrate (peer/ledger-store.ts).
 *
 * Layout: {@link LOG_MAGIC}, then one record per write operation. A record is
 * `length (u32, big-endian) ‖ sha256(length ‖ payload) ‖ payload`, the payload being the
 * canonical CBOR of the operation. An `append` is ONE record holding its blocks and its
 * meta entries, so a power cut can never keep the blocks without the roster, authors or
 * void set written with them. Each record is fsynced before its operation resolves; at
 * open, a record cut short or failing its checksum at the tail (a write the crash tore,
 * never acknowledged) is dropped whole and the file truncated to the last whole record.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { bytesEqual, utf8 } from '../bytes.js';
import { decodeCanonical, encodeCanonical, type CborValue } from '../codec.js';
import { CodedError } from '../errors.js';
import type { FactPosition, FactRow } from '../index-fold.js';
import type { AuthorId, BlockId } from '../types.js';
import { MemoryStore } from './memory.js';
import type { Checkpoint, Evidence, LedgerStore, OrderKey, StoredBlock } from './store.js';

/** First bytes of a ledger file; names the record format. */
export const LOG_MAGIC = utf8('clinic-ledger/log/v2\n');
const LENGTH_BYTES = 4;
const HASH_BYTES = 32;
const RECORD_HEADER = LENGTH_BYTES + HASH_BYTES;

type BlockEntry = { id: BlockId; author: AuthorId; seq: number; clock: number; bytes: Uint8Array; vv: number[] };

/** An index-fold row as logged: fold, key, clock, block, n, value. */
type FactEntry = [fold: string, key: string, clock: number, block: BlockId, n: number, value: CborValue];

type Operation =
	| { k: 'a'; blocks: BlockEntry[]; meta: [key: string, json: string][]; facts?: FactEntry[] }
	| { k: 'f'; put: FactEntry[]; drop: FactEntry[]; meta: [key: string, json: string][] }
	| { k: 'x'; fold: string; meta: [key: string, json: string][] }
	| { k: 'm'; key: string; json: string }
	| { k: 'c'; clock: number; id: BlockId; count: number; state: Uint8Array }
	| { k: 'd'; clock: number; id: BlockId }
	| { k: 'D'; at: [clock: number, id: BlockId][] }
	| { k: 'e'; id: BlockId; author: AuthorId; seq: number; with: BlockId; bytes: Uint8Array; at: number };

const factEntry = (r: FactRow): FactEntry => [r.fold, r.key, r.clock, r.block, r.n, r.value];
const factRow = ([fold, key, clock, block, n, value]: FactEntry): FactRow => ({ fold, key, clock, block, n, value });
const metaEntries = (meta: Readonly<Record<string, unknown>>) =>
	Object.entries(meta).map(([key, value]): [string, string] => [key, JSON.stringify(value)]);
const metaOf = (entries: [string, string][]) => Object.fromEntries(entries.map(([key, json]) => [key, JSON.parse(json) as unknown]));

/**
 * The ledger file cannot be used as it is. `code` is stable: `LEDGER_FILE_FORMAT` (not a
 * ledger log of this version), `LEDGER_FILE_DAMAGED` (an acknowledged record fails its
 * checksum: the disk changed it, which a crash cannot do), `LEDGER_FILE_WRITE_FAILED` (an
 * earlier write or fsync failed: what reached the disk is unknown until the file is
 * reopened, which keeps only whole records).
 */
export class LedgerFileError extends CodedError {
	override readonly name = 'LedgerFileError';
	declare readonly code: 'LEDGER_FILE_FORMAT' | 'LEDGER_FILE_DAMAGED' | 'LEDGER_FILE_WRITE_FAILED';
	constructor(code: 'LEDGER_FILE_FORMAT' | 'LEDGER_FILE_DAMAGED' | 'LEDGER_FILE_WRITE_FAILED', message: string) {
		super(code, message);
	}
}

function checksum(length: Uint8Array, payload: Uint8Array): Uint8Array {
	return createHash('sha256').update(length).update(payload).digest();
}

/** The record at `offset`, or null when the bytes there are not a whole record with a matching checksum. */
function readRecord(data: Uint8Array, offset: number): { payload: Uint8Array; end: number } | null {
	if (offset + RECORD_HEADER > data.length) return null;
	const lengthBytes = data.subarray(offset, offset + LENGTH_BYTES);
	const length = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, LENGTH_BYTES).getUint32(0);
	const end = offset + RECORD_HEADER + length;
	if (end > data.length) return null;
	const payload = data.subarray(offset + RECORD_HEADER, end);
	if (!bytesEqual(checksum(lengthBytes, payload), data.subarray(offset + LENGTH_BYTES, offset + RECORD_HEADER))) return null;
	return { payload, end };
}

function encodeRecord(operation: Operation): Uint8Array {
	const payload = encodeCanonical(operation as unknown as CborValue);
	const out = new Uint8Array(RECORD_HEADER + payload.length);
	new DataView(out.buffer).setUint32(0, payload.length);
	out.set(checksum(out.subarray(0, LENGTH_BYTES), payload), LENGTH_BYTES);
	out.set(payload, RECORD_HEADER);
	return out;
}

/** Makes a newly created file's directory entry durable too (a file fsync alone does not). */
function fsyncDirectory(path: string): void {
	const fd = openSync(dirname(path), 'r');
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

export class FileStore implements LedgerStore {
	readonly kind = 'file';
	#memory = new MemoryStore();
	#fd: number;
	/** Bytes of whole, acknowledged records (with the magic): where the next record goes. */
	#end = 0;
	/** Writes run one at a time so the duplicate check and the write see the same index. */
	#queue: Promise<unknown> = Promise.resolve();
	#failed: Error | undefined;
	/** Keys of every meta entry written, for a migration to copy them all. */
	#metaKeys = new Set<string>();

	private constructor(readonly path: string) {
		this.#fd = openSync(path, 'a+');
	}

	/**
	 * Opens (creating when missing or empty) the ledger file at `path`. Rejects with a
	 * {@link LedgerFileError} when the file is not a ledger log of this version or an
	 * acknowledged record in it is damaged.
	 */
	static async open(path: string): Promise<FileStore> {
		const store = new FileStore(path);
		try {
			await store.#load();
		} catch (error) {
			closeSync(store.#fd);
			throw error;
		}
		return store;
	}

	async #load(): Promise<void> {
		const data = readFileSync(this.path);
		const head = data.subarray(0, LOG_MAGIC.length);
		if (!bytesEqual(head, LOG_MAGIC.subarray(0, head.length))) {
			throw new LedgerFileError(
				'LEDGER_FILE_FORMAT',
				`${this.path} is not a ledger log of this version (it does not start with "clinic-ledger/log/v2"): the peer's ledger is a copy of the network's, so move the file away and the peer syncs it again`
			);
		}
		if (data.length < LOG_MAGIC.length) {
			// New, or a creation the crash cut short: nothing in it was ever acknowledged.
			ftruncateSync(this.#fd, 0);
			writeSync(this.#fd, LOG_MAGIC);
			fsyncSync(this.#fd);
			fsyncDirectory(this.path);
			this.#end = LOG_MAGIC.length;
			return;
		}
		let offset = LOG_MAGIC.length;
		while (offset < data.length) {
			const record = readRecord(data, offset);
			if (!record) break;
			await this.#apply(decodeCanonical(record.payload) as unknown as Operation);
			offset = record.end;
		}
		if (offset < data.length) this.#dropTail(data, offset);
		this.#end = offset;
	}

	/**
	 * Only the last record can be torn: each write is fsynced before the next begins. A bad
	 * record followed by a whole one was acknowledged, so dropping it would lose data.
	 */
	#dropTail(data: Uint8Array, offset: number): void {
		const length =
			offset + LENGTH_BYTES <= data.length ? new DataView(data.buffer, data.byteOffset + offset, LENGTH_BYTES).getUint32(0) : 0;
		const next = offset + RECORD_HEADER + length;
		if (next < data.length && readRecord(data, next)) {
			throw new LedgerFileError(
				'LEDGER_FILE_DAMAGED',
				`${this.path}: the record at byte ${offset} fails its checksum and whole records follow it: the disk damaged acknowledged data. Move the file away and the peer syncs the ledger again`
			);
		}
		ftruncateSync(this.#fd, offset);
		fsyncSync(this.#fd);
	}

	async #apply(op: Operation): Promise<void> {
		switch (op.k) {
			case 'a':
				for (const [key] of op.meta) this.#metaKeys.add(key);
				return this.#memory.append(op.blocks, metaOf(op.meta), (op.facts ?? []).map(factRow));
			case 'f':
				for (const [key] of op.meta) this.#metaKeys.add(key);
				return this.#memory.writeFacts(op.put.map(factRow), op.drop.map(factRow), metaOf(op.meta));
			case 'x':
				for (const [key] of op.meta) this.#metaKeys.add(key);
				return this.#memory.clearFacts(op.fold, metaOf(op.meta));
			case 'm':
				this.#metaKeys.add(op.key);
				return this.#memory.putMeta(op.key, JSON.parse(op.json));
			case 'c':
				return this.#memory.putCheckpoint({ position: [op.clock, op.id], count: op.count, state: op.state });
			case 'd':
				return this.#memory.dropCheckpointsAfter([op.clock, op.id]);
			case 'D':
				return this.#memory.dropCheckpoints(op.at);
			case 'e':
				return this.#memory.putEvidence({
					id: op.id,
					author: op.author,
					seq: op.seq,
					conflictsWith: op.with,
					bytes: op.bytes,
					seenAt: op.at
				});
		}
	}

	/** Queues `check` (may throw to refuse), then writes `op` durably, then applies it to memory. */
	#commit(op: Operation, check: () => Promise<void> = async () => {}): Promise<void> {
		const run = this.#queue.then(async () => {
			if (this.#failed)
				throw new LedgerFileError(
					'LEDGER_FILE_WRITE_FAILED',
					`${this.path}: an earlier write failed (${this.#failed.message}); reopen the store`
				);
			await check();
			this.#write(encodeRecord(op));
			await this.#apply(op);
		});
		this.#queue = run.catch(() => undefined);
		return run;
	}

	#write(record: Uint8Array): void {
		try {
			for (let done = 0; done < record.length;) done += writeSync(this.#fd, record, done);
			fsyncSync(this.#fd);
			this.#end += record.length;
		} catch (error) {
			// After a failed fsync the page cache may hold anything: cut back to the last
			// acknowledged record and write nothing more until reopened.
			this.#failed = error as Error;
			try {
				ftruncateSync(this.#fd, this.#end);
			} catch {
				// the reopen drops the partial record anyway
			}
			throw error;
		}
	}

	append(blocks: readonly StoredBlock[], meta: Readonly<Record<string, unknown>> = {}, facts: readonly FactRow[] = []): Promise<void> {
		const op: Operation = {
			k: 'a',
			blocks: blocks.map((b) => ({ id: b.id, author: b.author, seq: b.seq, clock: b.clock, bytes: b.bytes, vv: [...b.vv] })),
			meta: metaEntries(meta),
			// Absent when empty: records of logs written before index folds read the same.
			...(facts.length > 0 ? { facts: facts.map(factEntry) } : {})
		};
		// A refused batch never reaches the log: replaying it would fail the same way.
		return this.#commit(op, async () => {
			const probe = await this.#memory.getMany(blocks.map((b) => b.id));
			if (probe.some((b) => b !== undefined) || new Set(blocks.map((b) => b.id)).size !== blocks.length) {
				throw new CodedError('STORE_DUPLICATE_BLOCK', 'FileStore: block already stored');
			}
		});
	}

	get(id: BlockId) {
		return this.#memory.get(id);
	}
	getMany(ids: readonly BlockId[]) {
		return this.#memory.getMany(ids);
	}
	at(author: AuthorId, seq: number) {
		return this.#memory.at(author, seq);
	}
	range(author: AuthorId, fromSeq: number, limit: number) {
		return this.#memory.range(author, fromSeq, limit);
	}
	ordered(after: OrderKey | null, limit: number) {
		return this.#memory.ordered(after, limit);
	}
	heads() {
		return this.#memory.heads();
	}
	count() {
		return this.#memory.count();
	}
	evidence() {
		return this.#memory.evidence();
	}
	getMeta<T>(key: string) {
		return this.#memory.getMeta<T>(key);
	}
	checkpointAtOrBefore(position: OrderKey | null) {
		return this.#memory.checkpointAtOrBefore(position);
	}
	facts(fold: string, key: string, after: FactPosition | null, limit: number, reverse?: boolean) {
		return this.#memory.facts(fold, key, after, limit, reverse);
	}
	lastFactsOfKeys(fold: string, keys: readonly string[], before: FactPosition) {
		return this.#memory.lastFactsOfKeys(fold, keys, before);
	}
	factsOfKeys(fold: string, keys: readonly string[]) {
		return this.#memory.factsOfKeys(fold, keys);
	}

	factKeys(fold: string, after: string | null, limit: number) {
		return this.#memory.factKeys(fold, after, limit);
	}
	writeFacts(put: readonly FactRow[], drop: readonly FactRow[], meta: Readonly<Record<string, unknown>> = {}) {
		return this.#commit({ k: 'f', put: put.map(factEntry), drop: drop.map(factEntry), meta: metaEntries(meta) });
	}
	clearFacts(fold: string, meta: Readonly<Record<string, unknown>> = {}) {
		return this.#commit({ k: 'x', fold, meta: metaEntries(meta) });
	}
	/** The key of every meta entry the file holds (not part of {@link LedgerStore}: for migrations). */
	metaKeys(): string[] {
		return [...this.#metaKeys];
	}

	putEvidence(e: Evidence) {
		return this.#commit({ k: 'e', id: e.id, author: e.author, seq: e.seq, with: e.conflictsWith, bytes: e.bytes, at: e.seenAt });
	}
	putMeta(key: string, value: unknown) {
		return this.#commit({ k: 'm', key, json: JSON.stringify(value) });
	}
	putCheckpoint(c: Checkpoint) {
		return this.#commit({ k: 'c', clock: c.position[0], id: c.position[1], count: c.count, state: c.state });
	}
	dropCheckpointsAfter(position: OrderKey) {
		return this.#commit({ k: 'd', clock: position[0], id: position[1] });
	}
	checkpointPositions() {
		return this.#memory.checkpointPositions();
	}
	dropCheckpoints(positions: readonly OrderKey[]) {
		return this.#commit({ k: 'D', at: positions.map((p): [number, BlockId] => [p[0], p[1]]) });
	}
	async close() {
		await this.#queue;
		closeSync(this.#fd);
		await this.#memory.close();
	}
}
