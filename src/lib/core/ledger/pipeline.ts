/**
 * The append pipeline: blocks signed here or received from anywhere are checked
 * (intrinsically, then in the context of what is held and staged before them), staged
 * into the indexes, and written in one durable store write per batch; then the in-memory
 * view, the void set, the equivocation evidence and the fold follow, and listeners are
 * told. A failed batch leaves the indexes as they were.
 */
import { draftBlock, normalizeDeps, peekAuthorSeq, sealBlock, type DraftBlock } from '../block.js';
import { toHex } from '../bytes.js';
import type { Signer } from '../crypto/verifier.js';
import { LedgerError, PARKING_CODES, type ReasonCode } from '../errors.js';
import { compareOrder, orderKey, type StoredBlock } from '../storage/store.js';
import type { AuthorId, Block, BlockId, Head, Tx } from '../types.js';
import { checkInContext, checkIntrinsic, type ValidationResult } from '../validate.js';
import type { Staged } from './block-view.js';
import { recordEquivocations } from './evidence.js';
import type { FoldEngine } from './fold-engine.js';
import type { IndexEngine } from './index-engine.js';
import type { MembershipSnapshot } from './membership-index.js';
import type { Candidate, PendingPool } from './pending-pool.js';
import type { LedgerEvents, ReceiveResult, Rejection } from './types.js';
import { batchContext, type ContextParts } from './validation-context.js';
import { mergeVV, vvGet } from './version-vector.js';
import { voidCode, type VoidSnapshot } from './void-set.js';

/** Store metadata key of the network id. */
export const META_NET = 'net';

/** The ledger's parts the pipeline reads and writes. */
export interface PipelineParts extends ContextParts {
	readonly pending: PendingPool;
	readonly fold: FoldEngine;
	readonly index: IndexEngine;
	readonly now: () => number;
	/** True when the store already records the network id. */
	readonly netStored: boolean;
	readonly emit: <K extends keyof LedgerEvents>(event: K, ...args: Parameters<LedgerEvents[K]>) => void;
	/** True when more work waits in the ledger's queue behind this batch: its late blocks' rewind may wait for that (FoldEngine.advance). */
	readonly queued: () => boolean;
}

/** A received batch after its intrinsic checks ({@link Pipeline.prepare}), in input order. */
export type Prepared = readonly ValidationResult[];

/** The indexes as they were before a batch, restored if it fails. */
interface Snapshot {
	readonly membership: MembershipSnapshot;
	readonly voids: VoidSnapshot;
}

export class Pipeline {
	readonly #parts: PipelineParts;
	#netStored: boolean;
	#heads = new Map<AuthorId, Head>();
	/** Accepted blocks, forks included. */
	#count = 0;
	#rejectedCounts = new Map<ReasonCode, number>();

	constructor(parts: PipelineParts) {
		this.#parts = parts;
		this.#netStored = parts.netStored;
	}

	/** Reads heads and the block count from the store. */
	async load(): Promise<void> {
		this.#heads = new Map((await this.#parts.store.heads()).map((h) => [h.author, h]));
		this.#count = await this.#parts.store.count();
	}

	get heads(): ReadonlyMap<AuthorId, Head> {
		return this.#heads;
	}

	get count(): number {
		return this.#count;
	}

	/** Rejections by reason code since the ledger was opened. */
	rejectedCounts(): Partial<Record<ReasonCode, number>> {
		return Object.fromEntries(this.#rejectedCounts);
	}

	/** Recomputes the void set from the stored blocks (see {@link VoidSet.revalidate}). */
	revalidate(): Promise<void> {
		const { store, view, voids, net } = this.#parts;
		return voids.revalidate(store, (author, seq) => view.chain(author, seq), net);
	}

	/**
	 * Signs one block per element of `batches`, chained, and stores them in one durable
	 * write. A block this node would refuse from a peer (e.g. it is no longer a member)
	 * is refused here too, with the same reason code, and nothing is stored. The next
	 * block needs only the previous one's id (the hash of its body), not its signature:
	 * every signature is asked for as soon as its block is drafted and awaited once, before
	 * the write, so a signer working elsewhere (a worker) signs while the rest are built.
	 */
	async appendBatch(signer: Signer, batches: readonly (readonly Tx[])[]): Promise<Block[]> {
		const author = toHex(signer.publicKey) as AuthorId;
		const staged: Staged = new Map();
		const drafts: DraftBlock[] = [];
		const signing: Promise<Uint8Array>[] = [];
		const rows: StoredBlock[] = [];
		const heads = new Map(this.#heads);
		const before = this.#snapshotIndexes();
		try {
			for (const txs of batches) {
				const own = heads.get(author);
				const prevMeta = own ? await this.#parts.view.meta(own.id, staged) : undefined;
				const seen = prevMeta?.vv ?? [];
				const deps = [...heads.values()]
					.filter((h) => h.author !== author && vvGet(seen, this.#parts.membership.indexOf(h.author)) < h.seq)
					.sort((a, b) => b.clock - a.clock || (a.id < b.id ? -1 : 1))
					.slice(0, 16);
				const clock = 1 + Math.max(own?.clock ?? -1, ...deps.map((d) => d.clock));
				const draft = draftBlock(signer.publicKey, {
					net: this.#parts.net,
					seq: own ? own.seq + 1 : 0,
					prev: own?.id ?? null,
					deps: normalizeDeps(deps.map((d) => d.id)),
					clock,
					time: Math.max(0, Math.floor(this.#parts.now())),
					txs
				});
				const signature = signer.sign(draft.idBytes);
				// Awaited below; until then a failure must not count as unhandled.
				signature.catch(() => undefined);
				signing.push(signature);
				const { block } = draft;
				const result = await checkInContext(block, this.#context(block, staged, heads));
				if (!result.ok) throw new LedgerError(result.code, result.detail);
				rows.push(await this.#stage(block, staged, heads, result.void, result.fork));
				drafts.push(draft);
			}
			const signatures = await Promise.all(signing);
			// sealBlock writes each signature into its draft's bytes, which the staged rows hold.
			const accepted = drafts.map((draft, i) => sealBlock(draft, signatures[i]!));
			await this.#commit(rows, accepted, heads, before);
			return accepted;
		} catch (error) {
			this.#restoreIndexes(before);
			throw error;
		}
	}

	/**
	 * The checks of a received batch that need nothing the ledger holds: the duplicate
	 * lookup, then decoding, hashing and the signature of every block not dropped. They do
	 * not touch the ledger, so the ledger runs them for the next batch while the previous
	 * one is still being written ({@link admit} takes the result, one batch at a time).
	 */
	async prepare(input: readonly Uint8Array[]): Promise<Prepared> {
		// Gossip delivers most blocks several times: known ids are dropped before any
		// hashing or signature work, looked up in one store read for the whole batch.
		// Safe even if the rest of the bytes were forged: the genuine block is stored.
		// Only blocks claiming a seq at or below their author's known head are looked up:
		// a head is the highest stored seq, so a genuine block past it is not stored, and a
		// catch-up (every block new) skips the read. The claimed author and seq
		// (peekAuthorSeq) are unverified, but skipping the lookup never accepts a duplicate:
		// every block not dropped here still goes through checkIntrinsic, then
		// checkInContext, whose first check is DUPLICATE (against the store unless the now
		// verified seq is past the committed head: see #context). A forged claim
		// of a new position on a stored id only costs its sender the hashing (the body no
		// longer hashes to the id: refused BAD_HASH, where it used to be dropped as a
		// duplicate). Bytes whose claim cannot be read are looked up as before. Heads read
		// here may be older than at admission (a batch being written meanwhile): a block
		// that batch stores then passes as new here and is caught by that DUPLICATE check.
		const claimed = input.map(peekId);
		const lookup = [
			...new Set(claimed.filter((id, i): id is BlockId => id !== null && !this.#parts.view.cached(id) && !this.#pastHead(input[i]!)))
		];
		const stored = new Set((await this.#parts.store.getMany(lookup)).flatMap((b) => (b ? [b.id] : [])));
		const known = (id: BlockId | null) => id !== null && (this.#parts.view.cached(id) || stored.has(id));
		return Promise.all(
			input.map((bytes, i): Promise<ValidationResult> | ValidationResult =>
				known(claimed[i]!)
					? { ok: false, code: 'DUPLICATE', detail: 'already stored' }
					: checkIntrinsic(bytes, this.#parts.net, this.#parts.verifier)
			)
		);
	}

	/**
	 * Judges prepared blocks against what is held: each is accepted, parked (missing
	 * predecessors), or rejected with its reason code; the accepted ones are stored in one
	 * durable write and folded. Never throws for bad input; throws only if the store fails.
	 */
	async admit(intrinsic: Prepared, from?: string): Promise<ReceiveResult> {
		const rejected: Rejection[] = [];
		let duplicates = 0;
		const candidates: Candidate[] = [];
		for (const result of intrinsic) {
			if (result.ok) candidates.push({ block: result.block, ...(from ? { from } : {}) });
			else if (result.code === 'DUPLICATE') duplicates++;
			else rejected.push(this.#reject(result, from));
		}
		// Causal order: a block's prev and deps always have a smaller clock.
		candidates.sort((a, b) => compareOrder(orderKey(a.block), orderKey(b.block)));
		const staged: Staged = new Map();
		const heads = new Map(this.#heads);
		const accepted: Block[] = [];
		const rows: StoredBlock[] = [];
		const before = this.#snapshotIndexes();
		const queue = [...candidates];
		try {
			// Not stored, so no store read when named: predecessors the batch names and the store
			// lacks (one read for all), and below, blocks parked or released in this batch.
			const absent = await this.#parts.view.absentPredecessors(candidates.map((c) => c.block));
			while (queue.length > 0) {
				const { block, from: sender } = queue.shift()!;
				// A second copy in the same batch, or a block already parked: a duplicate too.
				if (staged.has(block.id) || this.#parts.pending.has(block.id)) {
					duplicates++;
					continue;
				}
				const refusedBefore = this.#parts.pending.refusal(block.id);
				if (refusedBefore) {
					rejected.push(this.#reject({ ok: false, code: refusedBefore.code, detail: refusedBefore.detail, block }, sender));
					continue;
				}
				const result = await checkInContext(block, this.#context(block, staged, heads, absent));
				if (result.ok) {
					rows.push(await this.#stage(block, staged, heads, result.void, result.fork));
					accepted.push(block);
					// A released block's other missing predecessors are still not stored: no read for them.
					for (const waiter of this.#parts.pending.release(block.id)) {
						queue.push(waiter);
						for (const id of waiter.waitingFor) absent.add(id);
					}
				} else if (result.code === 'DUPLICATE') {
					duplicates++;
				} else if (PARKING_CODES.has(result.code)) {
					// Judged new (not a DUPLICATE), so not stored: a later block naming it reads nothing.
					absent.add(block.id);
					this.#parts.pending.park(block, result.missing ?? [], sender);
				} else {
					rejected.push(this.#reject(result, sender));
					// Refused for what the block and its past are: no node will ever accept it, nor what builds on it.
					for (const dependent of this.#parts.pending.refuseForGood(block.id, result.code, result.detail))
						rejected.push(this.#reject(dependent, dependent.from));
				}
			}
			await this.#commit(rows, accepted, heads, before, from);
		} catch (error) {
			this.#restoreIndexes(before);
			throw error;
		}
		for (const r of rejected) this.#parts.emit('rejected', r);
		return {
			accepted: accepted.map((b) => b.id),
			duplicates,
			rejected,
			pending: this.#parts.pending.size,
			missing: this.missing()
		};
	}

	/** Ids that parked blocks are waiting for and this node does not hold. */
	missing(): BlockId[] {
		return this.#parts.pending.missing();
	}

	/** Whether the block claims a seq beyond its author's known head (or an author with none yet). */
	#pastHead(bytes: Uint8Array): boolean {
		const claim = peekAuthorSeq(bytes);
		if (!claim) return false;
		const head = this.#heads.get(claim.author);
		return !head || claim.seq > head.seq;
	}

	#reject(result: Extract<ValidationResult, { ok: false }>, from?: string): Rejection {
		this.#rejectedCounts.set(result.code, (this.#rejectedCounts.get(result.code) ?? 0) + 1);
		return {
			code: result.code,
			detail: result.detail,
			...(result.block ? { id: result.block.id, author: result.block.author } : {}),
			...(from ? { from } : {})
		};
	}

	/**
	 * The context to judge `block` in. `checkInContext` opens with the DUPLICATE check,
	 * `meta(block.id)`: staged, cached, else one store read (one IndexedDB transaction per
	 * block). That read is skipped when it cannot find anything: `block` passed
	 * checkIntrinsic (blocks signed here are built from this node's own head), so its
	 * author and seq are genuine, and a committed head (`#heads`, not the batch's `heads`)
	 * is the highest seq the store holds of its author: heads are read from the store and
	 * replaced only after each durable append, and one ledger at a time writes a store (the
	 * mutation queue; one tab holds the browser's store). So a block with a greater seq is
	 * not stored, and no other block of the store has its id (the id is the hash of the
	 * body, which holds the seq). The staged blocks and the cache are still asked: a copy
	 * staged earlier in the batch is found there. A block at or below the committed head (a
	 * re-sent block, a second version of a stored position) keeps the read. A second
	 * version of a new position staged earlier in the batch has another id: neither staged
	 * nor stored, as the read would have said; `at` still finds the first and makes it a
	 * fork. Were the heads ever behind the store, the store's append refuses an id it holds
	 * (the batch fails): nothing is stored twice.
	 */
	#context(block: Block, staged: Staged, heads: Map<AuthorId, Head>, absent?: ReadonlySet<BlockId>) {
		const stored = this.#heads.get(block.author);
		return batchContext(this.#parts, staged, heads, !stored || block.seq > stored.seq ? block.id : undefined, absent);
	}

	/** Adds an accepted block to the batch view: heads, author index, causal VV, membership, forks. */
	async #stage(block: Block, staged: Staged, heads: Map<AuthorId, Head>, voidReason?: string, fork?: BlockId): Promise<StoredBlock> {
		const index = this.#parts.membership.register(block.author);
		const pastVV = await this.#parts.view.pastVV(block, staged);
		// A copy of exactly its length: grown by push, the array keeps spare room, and it is
		// kept per block in the cache (about 120 bytes more each).
		const vv = mergeVV(pastVV, [index, block.seq]).slice();
		staged.set(block.id, { id: block.id, author: block.author, seq: block.seq, clock: block.clock, vv });
		// Of several blocks at the highest seq (equivocation), the head is the smallest id: the same on every node.
		const head = heads.get(block.author);
		if (!head || block.seq > head.seq || (block.seq === head.seq && block.id < head.id))
			heads.set(block.author, { author: block.author, seq: block.seq, id: block.id, clock: block.clock });
		const events = this.#parts.membership.add(block, pastVV);
		this.#parts.voids.stage(block, voidReason, fork, events);
		return { id: block.id, author: block.author, seq: block.seq, clock: block.clock, bytes: block.bytes, vv };
	}

	#snapshotIndexes(): Snapshot {
		return { membership: this.#parts.membership.snapshot(), voids: this.#parts.voids.snapshot() };
	}

	#restoreIndexes(before: Snapshot): void {
		this.#parts.membership.restore(before.membership);
		this.#parts.voids.restore(before.voids);
	}

	/** One durable write for the batch and its index rows, then the in-memory view and the fold follow. */
	async #commit(rows: StoredBlock[], accepted: Block[], heads: Map<AuthorId, Head>, before: Snapshot, from?: string): Promise<void> {
		if (rows.length === 0) {
			// Nothing new (duplicates, refusals): folds waiting for late blocks catch up now unless more waits.
			if (this.#parts.fold.stale) await this.#parts.fold.advance([], () => undefined, this.#parts.queued());
			return;
		}
		const meta: Record<string, unknown> = {
			...this.#parts.membership.changedMeta(before.membership),
			...this.#parts.voids.changedMeta(before.voids)
		};
		if (!this.#netStored) meta[META_NET] = this.#parts.net;
		const revocation = this.#parts.voids.revalidateStaged;
		const forks = this.#parts.voids.stagedForks;
		const staged = this.#parts.index.stage(accepted);
		await this.#parts.store.append(rows, { ...meta, ...staged.meta }, staged.rows);
		this.#parts.index.committed(staged);
		this.#netStored = true;
		this.#count += rows.length;
		this.#heads = heads;
		for (const row of rows) this.#parts.view.remember({ id: row.id, author: row.author, seq: row.seq, clock: row.clock, vv: row.vv });
		if (revocation) await this.revalidate();
		if (forks.size > 0)
			await recordEquivocations(
				this.#parts.store,
				(author, seq) => this.#parts.view.chain(author, seq),
				forks,
				this.#parts.now,
				(evidence) => this.#parts.emit('equivocation', evidence)
			);
		const voidNow = this.#parts.voids.all();
		const voidedNow = [...voidNow.keys()].filter((id) => !before.voids.void.has(id));
		const restored = [...before.voids.void.keys()].filter((id) => !voidNow.has(id));
		for (const id of voidedNow) {
			const block = accepted.find((b) => b.id === id) ?? (await this.#parts.store.get(id));
			const why = voidNow.get(id)!;
			const code = voidCode(why);
			this.#rejectedCounts.set(code, (this.#rejectedCounts.get(code) ?? 0) + 1);
			this.#parts.emit('rejected', { code, detail: why, id, ...(block ? { author: block.author } : {}), ...(from ? { from } : {}) });
		}
		if (voidedNow.length > 0 || restored.length > 0) await this.#parts.index.reconcile();
		const accepting = new Set(accepted.map((b) => b.id));
		const changedEarlier = [...voidedNow, ...restored].filter((id) => !accepting.has(id));
		const earlierRows = (await this.#parts.store.getMany(changedEarlier)).filter((r): r is StoredBlock => r !== undefined);
		if (earlierRows.length > 0) {
			// Blocks folded before changed: refold from before the earliest of them and of this
			// batch (which may sort before them), from before every block of its clock: a
			// checkpoint exactly at that block includes it.
			const first = [...earlierRows, ...accepted].map((r) => orderKey(r)).sort(compareOrder)[0]!;
			await this.#parts.fold.refoldFrom([first[0], '' as BlockId]);
			this.#parts.emit('voided', voidedNow);
			this.#parts.emit('accepted', accepted, from);
			return;
		}
		const vvs = new Map(rows.map((r) => [r.id, r.vv]));
		await this.#parts.fold.advance(accepted, (id) => vvs.get(id), this.#parts.queued());
		if (voidedNow.length > 0) this.#parts.emit('voided', voidedNow);
		this.#parts.emit('accepted', accepted, from);
	}
}

/** The id a wire block claims (`83 58 20 <32 bytes>` prefix), unverified. */
function peekId(bytes: Uint8Array): BlockId | null {
	if (bytes.length < 35 || bytes[0] !== 0x83 || bytes[1] !== 0x58 || bytes[2] !== 0x20) return null;
	return toHex(bytes.subarray(3, 35)) as BlockId;
}
