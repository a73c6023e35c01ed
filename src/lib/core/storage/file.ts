/**
 * File-backed {@link LedgerStore} for the Node headless peer: an append-only log of
 * length-prefixed canonical CBOR records, replayed into a {@link MemoryStore} at open.
 * `append` resolves after the write is flushed with fsync. A record cut short by a crash
 * is detected at open and dropped (it was never acknowledged). Node only.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { decodeCanonical, encodeCanonical, type CborValue } from '../codec.js';
import type { AuthorId, BlockId } from '../types.js';
import { MemoryStore } from './memory.js';
import type { Checkpoint, Evidence, LedgerStore, OrderKey, StoredBlock } from './store.js';

type Entry =
	| { k: 'b'; id: BlockId; author: AuthorId; seq: number; clock: number; bytes: Uint8Array; vv: number[] }
	| { k: 'm'; key: string; json: string }
	| { k: 'c'; clock: number; id: BlockId; count: number; state: Uint8Array }
	| { k: 'd'; clock: number; id: BlockId }
	| { k: 'e'; id: BlockId; author: AuthorId; seq: number; with: BlockId; bytes: Uint8Array; at: number };

export class FileStore implements LedgerStore {
	readonly kind = 'file';
	#memory = new MemoryStore();
	#fd: number;

	private constructor(readonly path: string) {
		this.#fd = openSync(path, 'a+');
	}

	static async open(path: string): Promise<FileStore> {
		const store = new FileStore(path);
		if (existsSync(path)) await store.#replay(readFileSync(path));
		return store;
	}

	async #replay(data: Uint8Array): Promise<void> {
		const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
		let offset = 0;
		let batch: StoredBlock[] = [];
		while (offset + 4 <= data.length) {
			const length = view.getUint32(offset);
			if (offset + 4 + length > data.length) break;
			const entry = decodeCanonical(data.subarray(offset + 4, offset + 4 + length)) as unknown as Entry;
			offset += 4 + length;
			if (entry.k === 'b') {
				batch.push({ id: entry.id, author: entry.author, seq: entry.seq, clock: entry.clock, bytes: entry.bytes, vv: entry.vv });
				continue;
			}
			if (batch.length) await this.#memory.append(batch);
			batch = [];
			await this.#apply(entry);
		}
		if (batch.length) await this.#memory.append(batch);
		// A torn write at the tail was never acknowledged: drop it.
		if (offset < data.length) ftruncateSync(this.#fd, offset);
	}

	async #apply(entry: Entry): Promise<void> {
		switch (entry.k) {
			case 'm':
				return this.#memory.putMeta(entry.key, JSON.parse(entry.json));
			case 'c':
				return this.#memory.putCheckpoint({ position: [entry.clock, entry.id], count: entry.count, state: entry.state });
			case 'd':
				return this.#memory.dropCheckpointsAfter([entry.clock, entry.id]);
			case 'e':
				return this.#memory.putEvidence({ id: entry.id, author: entry.author, seq: entry.seq, conflictsWith: entry.with, bytes: entry.bytes, seenAt: entry.at });
		}
	}

	#write(entries: Entry[]): void {
		const parts = entries.map((e) => encodeCanonical(e as unknown as CborValue));
		const total = parts.reduce((n, p) => n + 4 + p.length, 0);
		const out = new Uint8Array(total);
		const view = new DataView(out.buffer);
		let offset = 0;
		for (const p of parts) {
			view.setUint32(offset, p.length);
			out.set(p, offset + 4);
			offset += 4 + p.length;
		}
		writeSync(this.#fd, out);
		fsyncSync(this.#fd);
	}

	async append(blocks: readonly StoredBlock[], meta: Readonly<Record<string, unknown>> = {}): Promise<void> {
		// Validate against the index first (duplicate ids throw) so the log never holds a refused batch.
		const probe = await this.#memory.getMany(blocks.map((b) => b.id));
		if (probe.some((b) => b !== undefined) || new Set(blocks.map((b) => b.id)).size !== blocks.length) {
			throw new Error('FileStore: block already stored');
		}
		this.#write([
			...blocks.map((b): Entry => ({ k: 'b', id: b.id, author: b.author, seq: b.seq, clock: b.clock, bytes: b.bytes, vv: [...b.vv] })),
			...Object.entries(meta).map(([key, value]): Entry => ({ k: 'm', key, json: JSON.stringify(value) }))
		]);
		await this.#memory.append(blocks, meta);
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

	async putEvidence(e: Evidence) {
		this.#write([{ k: 'e', id: e.id, author: e.author, seq: e.seq, with: e.conflictsWith, bytes: e.bytes, at: e.seenAt }]);
		await this.#memory.putEvidence(e);
	}
	async putMeta(key: string, value: unknown) {
		this.#write([{ k: 'm', key, json: JSON.stringify(value) }]);
		await this.#memory.putMeta(key, value);
	}
	async putCheckpoint(c: Checkpoint) {
		this.#write([{ k: 'c', clock: c.position[0], id: c.position[1], count: c.count, state: c.state }]);
		await this.#memory.putCheckpoint(c);
	}
	async dropCheckpointsAfter(position: OrderKey) {
		this.#write([{ k: 'd', clock: position[0], id: position[1] }]);
		await this.#memory.dropCheckpointsAfter(position);
	}
	async close() {
		closeSync(this.#fd);
		await this.#memory.close();
	}
}
