/**
 * The ledger: one node's verified copy. It owns validation, the pending pool, the
 * causal membership index and the fold; the store is the only source of truth, and
 * every in-memory structure here can be rebuilt from it.
 *
 * All mutations (append, receive) run one at a time through a queue, so the view used
 * to validate a batch is exactly what the batch is appended on top of.
 */
import { createBlock, createGenesis, decodeBlock, normalizeDeps, type GenesisOptions } from './block.js';
import { decodeCanonical, encodeCanonical, type CborValue } from './codec.js';
import { detectVerifier, type Signer, type Verifier } from './crypto/verifier.js';
import { toHex } from './bytes.js';
import { challengeDigest } from './challenge.js';
import { LedgerError, PARKING_CODES, type ReasonCode } from './errors.js';
import { summaryFold, type Fold } from './fold.js';
import { ADMIN, compareEvents, cutoffsOf, effectiveChanges, membershipEventsOf, membershipOf, quorumOf, type MembershipEvent, type Roster } from './membership.js';
import { CORE_RULES, type TxRule } from './rules.js';
import { compareOrder, orderKey, type LedgerStore, type OrderKey, type StoredBlock } from './storage/store.js';
import type { AuthorId, Block, BlockId, Head, Tx, VersionVector } from './types.js';
import { checkInContext, checkIntrinsic, type BlockMeta, type ValidationContext, type ValidationResult } from './validate.js';

export interface LedgerOptions {
	store: LedgerStore;
	/** This node's key; without one the ledger only receives. */
	signer?: Signer;
	/** Signature verifier; feature-detected (WebCrypto, else noble) when omitted. */
	verifier?: Verifier;
	/** Extra folds besides the core summary. */
	folds?: readonly Fold<unknown>[];
	/** Extra transaction types besides the core ones. */
	rules?: readonly TxRule[];
	/** Wall clock for the advisory `time` field. */
	now?: () => number;
	/** Blocks between fold checkpoints (default 1000; up to 20 times more while checkpoints take over 100 ms to write). */
	checkpointEvery?: number;
	/** Most blocks parked while waiting for missing predecessors (default 10,000). */
	pendingLimit?: number;
	/** Most bytes parked (default 64 MiB): large blocks must not exhaust memory. */
	pendingBytesLimit?: number;
}

/** One refused block, as reported by `receive` and the `rejected` event. */
export interface Rejection {
	readonly code: ReasonCode;
	readonly detail: string;
	readonly id?: BlockId;
	readonly author?: AuthorId;
	/** Who sent it (peer id), when known. */
	readonly from?: string;
}

export interface ReceiveResult {
	readonly accepted: BlockId[];
	readonly duplicates: number;
	readonly rejected: Rejection[];
	/** Blocks now waiting in the pending pool (all of it, not just this call's). */
	readonly pending: number;
	/** Ids this node should ask its peers for. */
	readonly missing: BlockId[];
}

export interface LedgerEvents {
	/** `from` is the peer the blocks came from; absent for this node's own appends. */
	accepted: (blocks: readonly Block[], from?: string) => void;
	rejected: (rejection: Rejection) => void;
	equivocation: (evidence: { author: AuthorId; seq: number; ids: [BlockId, BlockId] }) => void;
	/** Accepted blocks that a revocation (or what it undid) made void: kept, without effect. */
	voided: (ids: readonly BlockId[]) => void;
}

interface CachedMeta extends BlockMeta {
	readonly vv: readonly number[];
}

interface Pending {
	readonly block: Block;
	readonly from?: string;
	readonly waitingFor: Set<BlockId>;
}

const META_NET = 'net';
const META_AUTHORS = 'authors';
const META_MEMBERSHIP = 'membership';
const META_VOID = 'void';
/** {author: lowest seq at which it signed two blocks}: written with the batch that held the second. */
const META_FORKS = 'forks';
/** Set in the same write as a revocation, cleared once the void set is recomputed: survives a crash in between. */
const META_REVALIDATE = 'revalidate';
const FOLD_PAGE = 500;
const META_CACHE_LIMIT = 50_000;

/** Pointwise maximum of two pair-encoded version vectors. */
function mergeVV(a: readonly number[], b: readonly number[]): number[] {
	const out: number[] = [];
	let i = 0;
	let j = 0;
	while (i < a.length || j < b.length) {
		if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
			out.push(a[i]!, a[i + 1]!);
			i += 2;
		} else if (i >= a.length || b[j]! < a[i]!) {
			out.push(b[j]!, b[j + 1]!);
			j += 2;
		} else {
			out.push(a[i]!, Math.max(a[i + 1]!, b[j + 1]!));
			i += 2;
			j += 2;
		}
	}
	return out;
}

/** The id a wire block claims (`83 58 20 <32 bytes>` prefix), unverified. */
function peekId(bytes: Uint8Array): BlockId | null {
	if (bytes.length < 35 || bytes[0] !== 0x83 || bytes[1] !== 0x58 || bytes[2] !== 0x20) return null;
	return toHex(bytes.subarray(3, 35)) as BlockId;
}

/** Prefix of the reason a block is void because its author was revoked before it. */
const VOID_REVOKED = 'revoked';
/** Prefix of the reason a block is void because its author equivocated at or before it. */
const VOID_FORKED = 'equivocated';
/** Prefix of the reason a block is void because a role change before it took the right it used. */
const VOID_ROLE = 'role';
const forkReason = (author: AuthorId, seq: number) => `${VOID_FORKED}: author ${author.slice(0, 12)} signed two blocks at seq ${seq}; its blocks from that seq on are void`;
/** Void for a cut-off (revocation or equivocation), as opposed to a membership or role judged at the block. */
const isCutoffVoid = (why: string) => why.startsWith(VOID_REVOKED) || why.startsWith(VOID_FORKED);
/** Most recomputation rounds of the void set (each round can only follow a chain of undone admissions). */
const REVALIDATE_ROUNDS = 16;
/** Refused ids remembered (so they are not asked for again). */
const REFUSED_LIMIT = 10_000;

interface Snapshot {
	authors: number;
	events: MembershipEvent[];
	void: Map<BlockId, string>;
	cutoffs: Map<AuthorId, number>;
	forks: Map<AuthorId, number>;
	suspects: Map<AuthorId, number>;
}

function vvGet(vv: readonly number[], index: number): number {
	for (let i = 0; i < vv.length; i += 2) if (vv[i] === index) return vv[i + 1]!;
	return -1;
}

/** A checkpoint that takes longer than this to encode and store moves the next one further away. */
const CHEAP_CHECKPOINT_MS = 100;

export class Ledger {
	#store: LedgerStore;
	#signer: Signer | undefined;
	#verifier!: Verifier;
	#folds: readonly Fold<unknown>[];
	#rules: Map<string, TxRule>;
	#now: () => number;
	#checkpointEvery: number;
	#pendingLimit: number;
	#pendingBytesLimit: number;
	#pendingBytes = 0;

	#net: BlockId | null = null;
	/** False until the first accepted block (the genesis) records the network id in the store. */
	#netStored = false;
	#heads = new Map<AuthorId, Head>();
	#authors: AuthorId[] = [];
	#authorIndex = new Map<AuthorId, number>();
	/** Membership events of every accepted block, void ones included (filtered when used), in total order. */
	#events: MembershipEvent[] = [];
	/** Accepted blocks without effect, with why: see {@link Ledger.voided}. */
	#void = new Map<BlockId, string>();
	/** Per revoked author, the seq after which its blocks are void (from valid revocations). */
	#cutoffs = new Map<AuthorId, number>();
	/** Per equivocating author, the lowest seq at which it signed two blocks: its blocks from there on are void. */
	#forks = new Map<AuthorId, number>();
	/**
	 * Authors whose blocks (from the given seq) may count differently from what their causal
	 * past says: admitted by a void block, or whose role changed after they had written. Their
	 * blocks are judged again with everything held ({@link Ledger.#effectRefusal}).
	 */
	#suspects = new Map<AuthorId, number>();
	/** Accepted blocks, forks included. */
	#count = 0;
	/** Set while staging a batch whose changes can change which blocks are void: the void set is recomputed and persisted with it. */
	#revalidateStaged = false;
	/** Equivocations staged in the batch being received: (author → seqs), for their evidence. */
	#stagedForks = new Map<AuthorId, Set<number>>();
	/** Parked block ids per author, oldest first: the pool is shared out by author. */
	#pendingByAuthor = new Map<AuthorId, Set<BlockId>>();
	/** Ids refused for good (bounded, newest kept): never asked for again; blocks waiting for them are refused too. */
	#refused = new Map<BlockId, Rejection>();
	#metaCache = new Map<BlockId, CachedMeta>();
	#pending = new Map<BlockId, Pending>();
	#waiting = new Map<BlockId, Set<BlockId>>();
	#rejectedCounts = new Map<ReasonCode, number>();
	#damaged = new Map<BlockId, Rejection>();

	#foldPosition: OrderKey | null = null;
	#foldCount = 0;
	#lastCheckpointCount = 0;
	/** Blocks until the next checkpoint: `checkpointEvery`, longer while checkpoints are expensive to write. */
	#checkpointGap = 1000;
	#states: unknown[] = [];

	#queue: Promise<unknown> = Promise.resolve();
	#listeners: { [K in keyof LedgerEvents]: Set<LedgerEvents[K]> } = {
		accepted: new Set(),
		rejected: new Set(),
		equivocation: new Set(),
		voided: new Set()
	};

	private constructor(options: LedgerOptions) {
		this.#store = options.store;
		this.#signer = options.signer;
		this.#folds = [summaryFold as Fold<unknown>, ...(options.folds ?? [])];
		const names = new Set(this.#folds.map((f) => f.name));
		if (names.size !== this.#folds.length) throw new Error('Ledger: fold names must be unique');
		this.#rules = new Map([...CORE_RULES, ...(options.rules ?? [])].map((r) => [r.type, r]));
		this.#now = options.now ?? Date.now;
		this.#checkpointEvery = options.checkpointEvery ?? 1000;
		this.#checkpointGap = this.#checkpointEvery;
		this.#pendingLimit = options.pendingLimit ?? 10_000;
		this.#pendingBytesLimit = options.pendingBytesLimit ?? 64 * 1024 * 1024;
		this.#states = this.#folds.map((f) => f.init());
	}

	/**
	 * Opens the ledger held by `options.store`. A store that holds no network yet needs
	 * `net` (from an invite): the ledger then waits for that genesis block to arrive.
	 */
	static async open(options: LedgerOptions & { net?: BlockId }): Promise<Ledger> {
		const ledger = new Ledger(options);
		ledger.#verifier = options.verifier ?? (await detectVerifier());
		const stored = await options.store.getMeta<BlockId>(META_NET);
		if (stored && options.net && stored !== options.net) {
			throw new Error(`this store holds network ${stored.slice(0, 12)}, not ${options.net.slice(0, 12)}`);
		}
		ledger.#net = stored ?? options.net ?? null;
		ledger.#netStored = stored !== undefined;
		if (!ledger.#net) throw new Error('Ledger.open: the store holds no network; create one or pass the network id to join');
		await ledger.#load();
		return ledger;
	}

	/** The network a store holds, if any (a store holds at most one). */
	static storedNetwork(store: LedgerStore): Promise<BlockId | undefined> {
		return store.getMeta<BlockId>(META_NET);
	}

	/** Founds a new network in an empty store; the signer becomes its first admin. */
	static async create(options: LedgerOptions & { genesis: GenesisOptions }): Promise<Ledger> {
		if (!options.signer) throw new Error('Ledger.create: a signer is required');
		if ((await options.store.count()) > 0 || (await options.store.getMeta(META_NET))) {
			throw new Error('Ledger.create: the store already holds a ledger');
		}
		const genesis = await createGenesis(options.signer, { time: (options.now ?? Date.now)(), ...options.genesis });
		const ledger = await Ledger.open({ ...options, net: genesis.id });
		const result = await ledger.receive([genesis.bytes]);
		if (result.accepted.length !== 1) throw new Error(`genesis refused: ${result.rejected[0]?.detail ?? 'unknown'}`);
		return ledger;
	}

	/** Network id: the genesis block's id. */
	get net(): BlockId {
		return this.#net!;
	}

	get verifierName(): Verifier['name'] {
		return this.#verifier.name;
	}

	/** This node's author id, when it can sign. */
	get author(): AuthorId | null {
		return this.#signer ? (toHex(this.#signer.publicKey) as AuthorId) : null;
	}

	get store(): LedgerStore {
		return this.#store;
	}

	on<K extends keyof LedgerEvents>(event: K, listener: LedgerEvents[K]): () => void {
		this.#listeners[event].add(listener);
		return () => this.#listeners[event].delete(listener);
	}

	#emit<K extends keyof LedgerEvents>(event: K, ...args: Parameters<LedgerEvents[K]>): void {
		for (const listener of this.#listeners[event]) (listener as (...a: typeof args) => void)(...args);
	}

	#serial<T>(work: () => Promise<T>): Promise<T> {
		const run = this.#queue.then(work, work);
		this.#queue = run.catch(() => undefined);
		return run;
	}

	async #load(): Promise<void> {
		this.#heads = new Map((await this.#store.heads()).map((h) => [h.author, h]));
		this.#authors = (await this.#store.getMeta<AuthorId[]>(META_AUTHORS)) ?? [];
		this.#authorIndex = new Map(this.#authors.map((a, i) => [a, i]));
		this.#events = (await this.#store.getMeta<MembershipEvent[]>(META_MEMBERSHIP)) ?? [];
		this.#void = new Map(Object.entries((await this.#store.getMeta<Record<string, string>>(META_VOID)) ?? {})) as Map<BlockId, string>;
		this.#forks = new Map(Object.entries((await this.#store.getMeta<Record<string, number>>(META_FORKS)) ?? {})) as Map<AuthorId, number>;
		this.#count = await this.#store.count();
		this.#metaCache.clear();
		// Changes stored before cut-offs existed (for revocations, then for roles) get theirs from the changing block's past.
		let legacy = false;
		for (const [i, e] of this.#events.entries()) {
			if ((e.kind !== 'revoke' && e.kind !== 'role' && e.kind !== 'add') || e.cutoff !== undefined) continue;
			const row = await this.#store.get(e.block);
			this.#events[i] = { ...e, cutoff: !row ? -1 : e.member === e.author ? e.seq - 1 : vvGet(row.vv, this.#indexOf(e.member)) };
			legacy = true;
		}
		if (legacy) await this.#store.putMeta(META_MEMBERSHIP, this.#events);
		this.#cutoffs = this.#validCutoffs();
		this.#suspects = this.#suspectsOf(this.#void);
		if (legacy || (await this.#store.getMeta<boolean>(META_REVALIDATE))) await this.#revalidate();
		await this.#restoreFold();
	}

	// ---- Reading -------------------------------------------------------------------

	/** The newest block of every author. */
	heads(): Head[] {
		return [...this.#heads.values()];
	}

	/** {author: highest seq held}: what a peer compares to find what to send. */
	versionVector(): VersionVector {
		const vv: VersionVector = {};
		for (const h of this.#heads.values()) vv[h.author] = h.seq;
		return vv;
	}

	/** Number of accepted blocks (an equivocating author's versions included). */
	get size(): number {
		return this.#count;
	}

	/** Wire bytes of every block the holder of `vector` lacks, per author in chain order. */
	async *blocksSince(vector: VersionVector, pageSize = 500): AsyncGenerator<Uint8Array> {
		for (const head of this.#heads.values()) {
			let from = (vector[head.author] ?? -1) + 1;
			while (from <= head.seq) {
				const page = await this.#store.range(head.author, from, pageSize);
				if (page.length === 0) break;
				for (const b of page) yield b.bytes;
				from = page[page.length - 1]!.seq + 1;
			}
		}
	}

	/** Accepted blocks in total order (clock, id), decoded. */
	async *blocks(after: OrderKey | null = null, pageSize = FOLD_PAGE): AsyncGenerator<Block> {
		let position = after;
		for (;;) {
			const page = await this.#store.ordered(position, pageSize);
			for (const stored of page) yield decodeBlock(stored.bytes);
			if (page.length < pageSize) return;
			position = orderKey(page[page.length - 1]!);
		}
	}

	/** Folded state by fold name, as of every accepted block. */
	state(): Record<string, unknown> {
		return Object.fromEntries(this.#folds.map((f, i) => [f.name, this.#states[i]]));
	}

	/** Members and roles as of all accepted blocks (total order). */
	roster(): Roster {
		return this.#membership(() => true).roster;
	}

	/** Admins who must sign a membership change (genesis `quorum`; 1 when none is set). */
	get quorum(): number {
		return quorumOf(this.#events);
	}

	/**
	 * Membership changes proposed but not yet approved by the quorum (M-of-N networks),
	 * with the admins who signed so far.
	 */
	pendingChanges(): { event: MembershipEvent; approvedBy: AuthorId[] }[] {
		const quorum = this.quorum;
		if (quorum <= 1) return [];
		const live = (e: MembershipEvent) => !this.#void.has(e.block);
		const effective = new Set(effectiveChanges(this.#events, live).map((c) => `${c.event.block}/${c.event.index}/${c.event.member}`));
		return this.#events
			.filter((e) => (e.kind === 'add' || e.kind === 'role' || e.kind === 'revoke') && live(e) && e.block !== this.net && !effective.has(`${e.block}/${e.index}/${e.member}`))
			.map((event) => ({
				event,
				approvedBy: [event.author, ...new Set(this.#events.filter((a) => a.kind === 'approve' && live(a) && a.target?.block === event.block && a.target.index === event.index && a.author !== event.author).map((a) => a.author))]
			}));
	}

	/** Keys revoked, with the seq after which their blocks are void. */
	revocations(): ReadonlyMap<AuthorId, number> {
		return new Map(this.#cutoffs);
	}

	/**
	 * Accepted blocks that have no effect, with why: blocks a revoked member made after
	 * its cut-off (kept only because other members' blocks build on them), and blocks of
	 * members whose admission was itself in such a block.
	 */
	voided(): ReadonlyMap<BlockId, string> {
		return new Map(this.#void);
	}

	/** Why the block with `id` has no effect, or undefined when it counts (no copy: for per-block use). */
	voidReason(id: BlockId): string | undefined {
		return this.#void.get(id);
	}

	/** Rejections by reason code since this ledger was opened. */
	rejectedCounts(): Partial<Record<ReasonCode, number>> {
		return Object.fromEntries(this.#rejectedCounts);
	}

	/** Authors caught signing two blocks at one position (sorted). */
	flaggedAuthors(): AuthorId[] {
		return [...this.#forks.keys()].sort();
	}

	/** Every stored block of each equivocating author from its lowest forked seq on (all versions): what sync shares so every node holds them all. */
	async *forkedBlocks(): AsyncGenerator<StoredBlock> {
		for (const [author, seq] of [...this.#forks].sort()) yield* this.#chain(author, seq);
	}

	/** Stored blocks that could not be decoded when folding (damaged on disk), with why. */
	damagedBlocks(): Rejection[] {
		return [...this.#damaged.values()];
	}

	get pendingCount(): number {
		return this.#pending.size;
	}

	/**
	 * Answers a sync handshake: signs {@link challengeDigest} of the transcript (this
	 * network, both keys, both nonces, the link binding), never raw bytes, so the answer
	 * cannot be replayed as a block signature, on another network or on another link.
	 * Refuses a transcript that does not name this node as one of its two parties.
	 */
	async signChallenge(transcript: Parameters<typeof challengeDigest>[0]): Promise<Uint8Array> {
		if (!this.#signer) throw new Error('this node has no signing key');
		if (transcript.net !== this.net) throw new Error('handshake of another network');
		if (!transcript.parties.some((p) => p.author === this.author)) throw new Error('handshake does not name this node');
		return this.#signer.sign(challengeDigest(transcript, this.author!));
	}

	/** Verifies a peer's signature with this ledger's verifier. */
	verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
		return this.#verifier.verify(signature, message, publicKey);
	}

	// ---- Writing -------------------------------------------------------------------

	/** Signs and stores one block holding `txs`. Resolves once the block is durable. */
	async append(txs: readonly Tx[]): Promise<Block> {
		const [block] = await this.appendBatch([txs]);
		return block!;
	}

	/**
	 * Signs one block per element of `batches`, chained, and stores them in one durable
	 * write. A block this node would refuse from a peer (e.g. it is no longer a member)
	 * is refused here too, with the same reason code, and nothing is stored.
	 */
	appendBatch(batches: readonly (readonly Tx[])[]): Promise<Block[]> {
		return this.#serial(async () => {
			const signer = this.#signer;
			if (!signer) throw new Error('this node has no signing key');
			const author = toHex(signer.publicKey) as AuthorId;
			const staged = new Map<BlockId, CachedMeta>();
			const accepted: Block[] = [];
			const rows: StoredBlock[] = [];
			const heads = new Map(this.#heads);
			const before = this.#snapshotIndexes();
			try {
				for (const txs of batches) {
					const own = heads.get(author);
					const prevMeta = own ? await this.#meta(own.id, staged) : undefined;
					const seen = prevMeta?.vv ?? [];
					const deps = [...heads.values()]
						.filter((h) => h.author !== author && vvGet(seen, this.#indexOf(h.author)) < h.seq)
						.sort((a, b) => b.clock - a.clock || (a.id < b.id ? -1 : 1))
						.slice(0, 16);
					const clock = 1 + Math.max(own?.clock ?? -1, ...deps.map((d) => d.clock));
					const { block } = await createBlock(signer, {
						net: this.net,
						seq: own ? own.seq + 1 : 0,
						prev: own?.id ?? null,
						deps: normalizeDeps(deps.map((d) => d.id)),
						clock,
						time: Math.max(0, Math.floor(this.#now())),
						txs
					});
					const result = await checkInContext(block, this.#context(staged, heads));
					if (!result.ok) throw new LedgerError(result.code, result.detail);
					const row = await this.#stage(block, staged, heads, result.void, result.fork);
					rows.push(row);
					accepted.push(block);
				}
				await this.#commit(rows, accepted, heads, before);
			} catch (error) {
				this.#restoreIndexes(before);
				throw error;
			}
			return accepted;
		});
	}

	/**
	 * Validates and stores blocks from anywhere (a peer, a file, our own storage). Each
	 * block is accepted, parked (missing predecessors), or rejected with its reason code.
	 * Never throws for bad input; throws only if the store itself fails.
	 */
	receive(input: readonly Uint8Array[], from?: string): Promise<ReceiveResult> {
		return this.#serial(async () => {
			const rejected: Rejection[] = [];
			let duplicates = 0;
			// Gossip delivers most blocks several times: known ids are dropped before any
			// hashing or signature work, looked up in one store read for the whole batch.
			// Safe even if the rest of the bytes were forged: the genuine block is stored.
			const claimed = input.map(peekId);
			const lookup = [...new Set(claimed.filter((id): id is BlockId => id !== null && !this.#metaCache.has(id)))];
			const stored = new Set((await this.#store.getMany(lookup)).flatMap((b) => (b ? [b.id] : [])));
			const known = (id: BlockId | null) => id !== null && (this.#metaCache.has(id) || stored.has(id));
			const intrinsic = await Promise.all(
				input.map((bytes, i): Promise<ValidationResult> | ValidationResult =>
					known(claimed[i]!) ? { ok: false, code: 'DUPLICATE', detail: 'already stored' } : checkIntrinsic(bytes, this.net, this.#verifier)
				)
			);
			const candidates: { block: Block; from?: string }[] = [];
			for (const result of intrinsic) {
				if (result.ok) candidates.push({ block: result.block, ...(from ? { from } : {}) });
				else if (result.code === 'DUPLICATE') duplicates++;
				else rejected.push(this.#reject(result, from));
			}
			// Causal order: a block's prev and deps always have a smaller clock.
			candidates.sort((a, b) => compareOrder(orderKey(a.block), orderKey(b.block)));
			const staged = new Map<BlockId, CachedMeta>();
			const heads = new Map(this.#heads);
			const accepted: Block[] = [];
			const rows: StoredBlock[] = [];
			const before = this.#snapshotIndexes();
			const queue = [...candidates];
			try {
				while (queue.length > 0) {
					const { block, from: sender } = queue.shift()!;
					// A second copy in the same batch, or a block already parked: a duplicate too.
					if (staged.has(block.id) || this.#pending.has(block.id)) {
						duplicates++;
						continue;
					}
					const refusedBefore = this.#refused.get(block.id);
					if (refusedBefore) {
						rejected.push(this.#reject({ ok: false, code: refusedBefore.code, detail: refusedBefore.detail, block }, sender));
						continue;
					}
					const result = await checkInContext(block, this.#context(staged, heads));
					if (result.ok) {
						rows.push(await this.#stage(block, staged, heads, result.void, result.fork));
						accepted.push(block);
						for (const id of this.#release(block.id)) queue.push(id);
					} else if (result.code === 'DUPLICATE') {
						duplicates++;
					} else if (PARKING_CODES.has(result.code)) {
						this.#park(block, result.missing ?? [], sender);
					} else {
						rejected.push(this.#reject(result, sender));
						// Refused for what the block and its past are: no node will ever accept it, nor what builds on it.
						for (const dependent of this.#refuseForGood(block.id, result.code, result.detail)) rejected.push(this.#reject(dependent, dependent.from));
					}
				}
				await this.#commit(rows, accepted, heads, before, from);
			} catch (error) {
				this.#restoreIndexes(before);
				throw error;
			}
			for (const r of rejected) this.#emit('rejected', r);
			return {
				accepted: accepted.map((b) => b.id),
				duplicates,
				rejected,
				pending: this.#pending.size,
				missing: this.missing()
			};
		});
	}

	/** Ids that parked blocks are waiting for and this node does not hold. */
	missing(): BlockId[] {
		return [...this.#waiting.keys()].filter((id) => !this.#pending.has(id) && !this.#refused.has(id));
	}

	/**
	 * Remembers that `id` is refused for good and refuses the parked blocks that build on
	 * it, transitively: they can never be accepted, so nothing is asked for on their behalf.
	 */
	#refuseForGood(id: BlockId, code: ReasonCode, detail: string): (Extract<ValidationResult, { ok: false }> & { from?: string })[] {
		const out: (Extract<ValidationResult, { ok: false }> & { from?: string })[] = [];
		const queue: [BlockId, ReasonCode, string][] = [[id, code, detail]];
		while (queue.length > 0) {
			const [refusedId, refusedCode, refusedDetail] = queue.shift()!;
			if (this.#refused.size >= REFUSED_LIMIT) this.#refused.delete(this.#refused.keys().next().value!);
			this.#refused.set(refusedId, { code: refusedCode, detail: refusedDetail, id: refusedId });
			for (const waiter of [...(this.#waiting.get(refusedId) ?? [])]) {
				const entry = this.#unpark(waiter);
				if (!entry) continue;
				const why = `builds on refused block ${refusedId.slice(0, 12)} (${refusedCode})`;
				out.push({ ok: false, code: refusedCode, detail: why, block: entry.block, ...(entry.from ? { from: entry.from } : {}) });
				queue.push([waiter, refusedCode, why]);
			}
			this.#waiting.delete(refusedId);
		}
		return out;
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

	#park(block: Block, missing: readonly BlockId[], from?: string): void {
		// Bounded: drop the oldest parked block of the author holding the most of the pool, so
		// one member's blocks that never connect cannot push out the others'; sync asks again.
		while (this.#pending.size > 0 && (this.#pending.size >= this.#pendingLimit || this.#pendingBytes + block.bytes.length > this.#pendingBytesLimit)) {
			let largest: Set<BlockId> | undefined;
			for (const ids of this.#pendingByAuthor.values()) if (!largest || ids.size > largest.size) largest = ids;
			this.#unpark(largest!.values().next().value!);
		}
		const waitingFor = new Set(missing);
		this.#pending.set(block.id, { block, waitingFor, ...(from ? { from } : {}) });
		const mine = this.#pendingByAuthor.get(block.author) ?? new Set();
		mine.add(block.id);
		this.#pendingByAuthor.set(block.author, mine);
		this.#pendingBytes += block.bytes.length;
		for (const id of waitingFor) {
			const set = this.#waiting.get(id) ?? new Set();
			set.add(block.id);
			this.#waiting.set(id, set);
		}
	}

	#unpark(id: BlockId): Pending | undefined {
		const entry = this.#pending.get(id);
		if (!entry) return undefined;
		this.#pending.delete(id);
		const mine = this.#pendingByAuthor.get(entry.block.author);
		mine?.delete(id);
		if (mine?.size === 0) this.#pendingByAuthor.delete(entry.block.author);
		this.#pendingBytes -= entry.block.bytes.length;
		for (const w of entry.waitingFor) {
			const set = this.#waiting.get(w);
			set?.delete(id);
			if (set?.size === 0) this.#waiting.delete(w);
		}
		return entry;
	}

	/** Parked blocks that were waiting for `id`, to be validated again now. */
	#release(id: BlockId): { block: Block; from?: string }[] {
		const waiters = this.#waiting.get(id);
		if (!waiters) return [];
		const released: { block: Block; from?: string }[] = [];
		for (const waiter of [...waiters]) {
			const entry = this.#unpark(waiter);
			if (entry) released.push({ block: entry.block, ...(entry.from ? { from: entry.from } : {}) });
		}
		return released;
	}

	/**
	 * Writes the evidence of the equivocations in `forks` (author → seqs): every version at
	 * the position but the smallest id, against the smallest, so every node that holds the
	 * same blocks holds the same evidence; then tells the UI.
	 */
	async #recordEquivocations(forks: Map<AuthorId, Set<number>>): Promise<void> {
		for (const [author, seqs] of forks) {
			for (const seq of seqs) {
				const versions: StoredBlock[] = [];
				for await (const row of this.#chain(author, seq)) {
					if (row.seq !== seq) break;
					versions.push(row);
				}
				versions.sort((a, b) => (a.id < b.id ? -1 : 1));
				const [first, ...rest] = versions;
				if (!first) continue;
				for (const v of rest) await this.#store.putEvidence({ id: v.id, author, seq, conflictsWith: first.id, bytes: v.bytes, seenAt: this.#now() });
				this.#emit('equivocation', { author, seq, ids: [first.id, rest[rest.length - 1]!.id] });
			}
		}
	}

	// ---- Validation context --------------------------------------------------------

	#indexOf(author: AuthorId): number {
		return this.#authorIndex.get(author) ?? -1;
	}

	async #meta(id: BlockId, staged: Map<BlockId, CachedMeta>): Promise<CachedMeta | undefined> {
		const hit = staged.get(id) ?? this.#metaCache.get(id);
		if (hit) return hit;
		const stored = await this.#store.get(id);
		if (!stored) return undefined;
		const meta: CachedMeta = { id: stored.id, author: stored.author, seq: stored.seq, clock: stored.clock, vv: stored.vv };
		this.#cache(meta);
		return meta;
	}

	#cache(meta: CachedMeta): void {
		if (this.#metaCache.size >= META_CACHE_LIMIT) {
			const [oldest] = this.#metaCache.keys();
			if (oldest) this.#metaCache.delete(oldest);
		}
		this.#metaCache.set(meta.id, meta);
	}

	/** Causal version vector of everything before `block` (its prev and deps and their pasts). */
	async #pastVV(block: Block, staged: Map<BlockId, CachedMeta>): Promise<number[]> {
		let vv: number[] = [];
		for (const id of block.prev ? [block.prev, ...block.deps] : block.deps) {
			const meta = await this.#meta(id, staged);
			if (meta) vv = mergeVV(vv, meta.vv);
		}
		return vv;
	}

	/** Roster and revoked keys from the events of non-void blocks that `inPast` admits. */
	#membership(inPast: (e: MembershipEvent) => boolean) {
		return membershipOf(this.#events, (e) => !this.#void.has(e.block) && inPast(e));
	}

	/**
	 * Roster and revoked keys as the causal past `pastVV` alone shows them: its events,
	 * without those its own revocations cut off. Decides whether a block is stored, so it
	 * never looks at blocks outside that past (every node decides the same).
	 */
	#causalMembership(pastVV: readonly number[]) {
		const inPast = (e: MembershipEvent) => vvGet(pastVV, this.#indexOf(e.author)) >= e.seq;
		const cut = cutoffsOf(this.#events, inPast);
		return membershipOf(this.#events, (e) => inPast(e) && !((cut.get(e.author) ?? Infinity) < e.seq));
	}

	/**
	 * Cut-offs of the valid revocations and equivocations: see {@link cutoffsOf}. A
	 * revocation in a block void for another reason (not a cut-off) does not count.
	 */
	#validCutoffs(): Map<AuthorId, number> {
		const counted = (e: MembershipEvent) => {
			const why = this.#void.get(e.block);
			return why === undefined || isCutoffVoid(why);
		};
		const forks = new Map([...this.#forks].map(([author, seq]) => [author, seq - 1]));
		return cutoffsOf(this.#events, counted, forks);
	}

	#cutoffReason(author: AuthorId, cutoff: number): string {
		const fork = this.#forks.get(author);
		if (fork !== undefined && fork - 1 === cutoff) return forkReason(author, fork);
		return `${VOID_REVOKED}: author ${author.slice(0, 12)} was revoked; its blocks after seq ${cutoff} are void`;
	}

	/**
	 * Authors whose blocks (from the given seq) may count differently from what their
	 * causal past shows: admitted or re-roled by a void block (from seq 0), or whose role
	 * was changed by an admin who had seen some of their blocks (after those).
	 */
	#suspectsOf(voidSet: ReadonlyMap<BlockId, string>): Map<AuthorId, number> {
		const out = new Map<AuthorId, number>();
		const note = (author: AuthorId, from: number) => out.set(author, Math.min(out.get(author) ?? Infinity, from));
		for (const e of this.#events) {
			if (e.kind !== 'add' && e.kind !== 'role') continue;
			if (voidSet.has(e.block)) note(e.member, 0);
			else if ((e.cutoff ?? -1) >= 0) note(e.member, e.cutoff! + 1);
		}
		return out;
	}

	/**
	 * Why a suspect's block at (`author`, `seq`) with causal vector `vv` (its own position
	 * included) has no effect, judged with every block held: its author's admission must
	 * not be void, and its transactions must be allowed to the role the author has there,
	 * counting role changes whose cut-off (what the changing admin had seen of the author)
	 * is before the block, in its past or not.
	 */
	#effectRefusal(author: AuthorId, seq: number, vv: readonly number[], txs: readonly Tx[], voidSet: ReadonlyMap<BlockId, string>): string | undefined {
		const inView = (e: MembershipEvent) =>
			(e.author === author ? e.seq < seq : vvGet(vv, this.#indexOf(e.author)) >= e.seq) ||
			((e.kind === 'role' || e.kind === 'add') && e.member === author && (e.cutoff ?? -1) >= 0 && e.cutoff! < seq);
		const { roster } = membershipOf(this.#events, (e) => !voidSet.has(e.block) && inView(e));
		const role = roster.get(author);
		if (role === undefined) return `author ${author.slice(0, 12)} is not a member at this block's causal position: the block that admitted it is void`;
		for (const [i, tx] of txs.entries()) {
			const rule = this.#rules.get(tx.t);
			if (rule?.roles && !rule.roles.includes(role)) return `${VOID_ROLE}: txs[${i}] (${tx.t}): author ${author.slice(0, 12)} has role "${role}" here (a role change cut off its earlier rights)`;
		}
		return undefined;
	}

	/**
	 * Recomputes, from scratch, which accepted blocks are void: blocks after each valid
	 * cut-off (revocation, equivocation), and suspects' blocks that {@link #effectRefusal}
	 * refuses. Each round is a function of the previous round's set alone, starting from
	 * the empty set, so the result depends only on the blocks held, never on the order they
	 * came in; repeated until stable (at most {@link REVALIDATE_ROUNDS} rounds). Runs only
	 * when a batch brings a change that can move it (rare).
	 */
	async #revalidate(): Promise<void> {
		let current = new Map<BlockId, string>();
		for (let round = 0; round < REVALIDATE_ROUNDS; round++) {
			this.#void = current;
			const cutoffs = this.#validCutoffs();
			const next = new Map<BlockId, string>();
			for (const author of [...cutoffs.keys()].sort()) {
				const cutoff = cutoffs.get(author)!;
				const why = this.#cutoffReason(author, cutoff);
				for await (const row of this.#chain(author, cutoff + 1)) next.set(row.id, why);
			}
			const suspects = this.#suspectsOf(new Map([...current, ...next]));
			for (const author of [...suspects.keys()].sort()) {
				for await (const row of this.#chain(author, suspects.get(author)!)) {
					if (next.has(row.id) || row.id === this.net) continue;
					const why = this.#effectRefusal(author, row.seq, row.vv, decodeBlock(row.bytes).txs, current);
					if (why !== undefined) next.set(row.id, why);
				}
			}
			const stable = next.size === current.size && [...next].every(([id, why]) => current.get(id) === why);
			current = next;
			if (stable) break;
		}
		this.#void = current;
		this.#cutoffs = this.#validCutoffs();
		this.#suspects = this.#suspectsOf(current);
		await this.#store.putMeta(META_VOID, Object.fromEntries(this.#void));
		await this.#store.putMeta(META_REVALIDATE, false);
	}

	/** `author`'s stored blocks from `fromSeq` on. */
	async *#chain(author: AuthorId, fromSeq: number): AsyncGenerator<StoredBlock> {
		for (let from = fromSeq; ; ) {
			const page = await this.#store.range(author, from, FOLD_PAGE);
			yield* page;
			if (page.length < FOLD_PAGE) return;
			from = page[page.length - 1]!.seq + 1;
		}
	}

	#context(staged: Map<BlockId, CachedMeta>, heads: Map<AuthorId, Head>): ValidationContext {
		const at = async (author: AuthorId, seq: number) => {
			const head = heads.get(author);
			if (!head || seq > head.seq) return undefined;
			const stored = await this.#store.at(author, seq);
			const inBatch = [...staged.values()].filter((m) => m.author === author && m.seq === seq);
			const all = [...(stored ? [stored] : []), ...inBatch].sort((x, y) => (x.id < y.id ? -1 : 1));
			const first = all[0];
			return first ? { id: first.id, author, seq, clock: first.clock } : undefined;
		};
		return {
			net: this.net,
			verifier: this.#verifier,
			meta: (id) => this.#meta(id, staged),
			at,
			headSeq: async (author) => heads.get(author)?.seq ?? -1,
			admit: async (block) => {
				let membership: { roster: Map<AuthorId, string>; revoked: Set<AuthorId> };
				if (block.net === null) membership = { roster: new Map(), revoked: new Set() };
				else {
					membership = this.#causalMembership(await this.#pastVV(block, staged));
					if (!membership.roster.has(block.author)) return { code: 'NOT_A_MEMBER', detail: `author ${block.author.slice(0, 12)} is not a member at this block's causal position` };
				}
				const { roster, revoked } = membership;
				const role = block.net === null ? ADMIN : roster.get(block.author)!;
				for (const [i, tx] of block.txs.entries()) {
					const rule = this.#rules.get(tx.t);
					if (rule?.roles && !rule.roles.includes(role)) {
						return { code: 'NOT_AUTHORIZED', detail: `txs[${i}] (${tx.t}): a member with role "${role}" may not sign it (allowed: ${rule.roles.join(', ')})` };
					}
					const problem = rule ? rule.check(tx, { block, roster, role, revoked }) : `unknown transaction type ${tx.t}`;
					if (problem) return { code: 'TX_INVALID', detail: `txs[${i}] (${tx.t}): ${problem}` };
				}
				return null;
			},
			voidReason: async (block, fork) => {
				const forkAt = fork !== undefined ? Math.min(block.seq, this.#forks.get(block.author) ?? Infinity) : this.#forks.get(block.author);
				if (forkAt !== undefined && block.seq >= forkAt) return forkReason(block.author, forkAt);
				const cutoff = this.#cutoffs.get(block.author);
				if (cutoff !== undefined && block.seq > cutoff) return this.#cutoffReason(block.author, cutoff);
				const from = this.#suspects.get(block.author);
				if (from === undefined || block.seq < from) return undefined;
				const vv = mergeVV(await this.#pastVV(block, staged), [this.#indexOf(block.author), block.seq]);
				return this.#effectRefusal(block.author, block.seq, vv, block.txs, this.#void);
			}
		};
	}

	/** Adds an accepted block to the batch view: heads, author index, causal VV, membership, forks. */
	async #stage(block: Block, staged: Map<BlockId, CachedMeta>, heads: Map<AuthorId, Head>, voidReason?: string, fork?: BlockId): Promise<StoredBlock> {
		let index = this.#authorIndex.get(block.author);
		if (index === undefined) {
			index = this.#authors.length;
			this.#authors.push(block.author);
			this.#authorIndex.set(block.author, index);
		}
		const pastVV = await this.#pastVV(block, staged);
		const vv = mergeVV(pastVV, [index, block.seq]);
		const meta: CachedMeta = { id: block.id, author: block.author, seq: block.seq, clock: block.clock, vv };
		staged.set(block.id, meta);
		// Of several blocks at the highest seq (equivocation), the head is the smallest id: the same on every node.
		const head = heads.get(block.author);
		if (!head || block.seq > head.seq || (block.seq === head.seq && block.id < head.id)) heads.set(block.author, { author: block.author, seq: block.seq, id: block.id, clock: block.clock });
		if (fork !== undefined) {
			const seqs = this.#stagedForks.get(block.author) ?? new Set();
			this.#stagedForks.set(block.author, seqs.add(block.seq));
			if ((this.#forks.get(block.author) ?? Infinity) > block.seq) this.#forks = new Map(this.#forks).set(block.author, block.seq);
			this.#revalidateStaged = true;
		}
		if (voidReason !== undefined) {
			this.#void = new Map(this.#void).set(block.id, voidReason);
			this.#revalidateStaged = true; // persists the void set with the batch
		}
		const events = membershipEventsOf(block).map((e) => (e.kind === 'revoke' || e.kind === 'role' || e.kind === 'add' ? { ...e, cutoff: vvGet(pastVV, this.#indexOf(e.member)) } : e));
		if (events.length > 0) {
			this.#events = [...this.#events, ...events].sort(compareEvents);
			// A plain admission of a new member changes no other block's standing; anything else may.
			if (events.some((e) => e.kind === 'revoke' || e.kind === 'role' || e.kind === 'approve' || e.kind === 'quorum' || (e.kind === 'add' && e.cutoff! >= 0))) {
				this.#revalidateStaged = true;
				this.#suspects = this.#suspectsOf(this.#void);
			}
		}
		if (this.#revalidateStaged) this.#cutoffs = this.#validCutoffs();
		return { id: block.id, author: block.author, seq: block.seq, clock: block.clock, bytes: block.bytes, vv };
	}

	#snapshotIndexes(): Snapshot {
		this.#revalidateStaged = false;
		this.#stagedForks = new Map();
		return { authors: this.#authors.length, events: this.#events, void: this.#void, cutoffs: this.#cutoffs, forks: this.#forks, suspects: this.#suspects };
	}

	#restoreIndexes(before: Snapshot): void {
		for (const a of this.#authors.splice(before.authors)) this.#authorIndex.delete(a);
		this.#events = before.events;
		this.#void = before.void;
		this.#cutoffs = before.cutoffs;
		this.#forks = before.forks;
		this.#suspects = before.suspects;
		this.#revalidateStaged = false;
		this.#stagedForks = new Map();
	}

	/** One durable write for the batch, then the in-memory view and the fold follow. */
	async #commit(rows: StoredBlock[], accepted: Block[], heads: Map<AuthorId, Head>, before: Snapshot, from?: string): Promise<void> {
		if (rows.length === 0) return;
		const meta: Record<string, unknown> = {};
		if (this.#authors.length !== before.authors) meta[META_AUTHORS] = this.#authors;
		if (this.#events !== before.events) meta[META_MEMBERSHIP] = this.#events;
		if (!this.#netStored) meta[META_NET] = this.net;
		if (this.#forks !== before.forks) meta[META_FORKS] = Object.fromEntries(this.#forks);
		const revocation = this.#revalidateStaged;
		const forks = this.#stagedForks;
		if (revocation) {
			meta[META_VOID] = Object.fromEntries(this.#void);
			meta[META_REVALIDATE] = true;
		}
		await this.#store.append(rows, meta);
		this.#netStored = true;
		this.#count += rows.length;
		this.#heads = heads;
		for (const row of rows) this.#cache({ id: row.id, author: row.author, seq: row.seq, clock: row.clock, vv: row.vv });
		if (revocation) await this.#revalidate();
		if (forks.size > 0) await this.#recordEquivocations(forks);
		const voidedNow = [...this.#void.keys()].filter((id) => !before.void.has(id));
		const restored = [...before.void.keys()].filter((id) => !this.#void.has(id));
		for (const id of voidedNow) {
			const block = accepted.find((b) => b.id === id) ?? (await this.#store.get(id));
			const why = this.#void.get(id)!;
			const code: ReasonCode = why.startsWith(VOID_FORKED) ? 'EQUIVOCATION' : why.startsWith(VOID_ROLE) ? 'NOT_AUTHORIZED' : 'NOT_A_MEMBER';
			this.#rejectedCounts.set(code, (this.#rejectedCounts.get(code) ?? 0) + 1);
			this.#emit('rejected', { code, detail: why, id, ...(block ? { author: block.author } : {}), ...(from ? { from } : {}) });
		}
		const accepting = new Set(accepted.map((b) => b.id));
		const changedEarlier = [...voidedNow, ...restored].filter((id) => !accepting.has(id));
		const earlierRows = (await this.#store.getMany(changedEarlier)).filter((r): r is StoredBlock => r !== undefined);
		if (earlierRows.length > 0) {
			// Blocks folded before changed: refold from before the earliest (from before every
			// block of its clock: a checkpoint exactly at that block includes it). Covers this batch too.
			const first = earlierRows.map((r) => orderKey(r)).sort(compareOrder)[0]!;
			await this.#refoldFrom([first[0], '' as BlockId]);
			this.#emit('voided', voidedNow);
			this.#emit('accepted', accepted, from);
			return;
		}
		await this.#advanceFold(accepted);
		if (voidedNow.length > 0) this.#emit('voided', voidedNow);
		this.#emit('accepted', accepted, from);
	}

	// ---- Fold ----------------------------------------------------------------------

	#foldSignature(): string {
		return this.#folds.map((f) => `${f.name}@${f.version}`).join(',');
	}

	#encodeStates(): Uint8Array {
		return encodeCanonical({ folds: this.#foldSignature(), states: this.#folds.map((f, i) => f.encode(this.#states[i])) });
	}

	#decodeStates(bytes: Uint8Array): unknown[] | null {
		const value = decodeCanonical(bytes) as { folds: string; states: CborValue[] };
		if (value.folds !== this.#foldSignature()) return null;
		return this.#folds.map((f, i) => f.decode(value.states[i]!));
	}

	/** Starts from the latest usable checkpoint at or before `position` and folds forward to the end. */
	async #refoldFrom(position: OrderKey | null): Promise<void> {
		let checkpoint = await this.#store.checkpointAtOrBefore(position);
		let states = checkpoint ? this.#decodeStates(checkpoint.state) : null;
		if (checkpoint && !states) {
			checkpoint = undefined; // written by other fold versions: start over
		}
		this.#states = states ?? this.#folds.map((f) => f.init());
		this.#foldPosition = checkpoint?.position ?? null;
		this.#foldCount = checkpoint?.count ?? 0;
		this.#lastCheckpointCount = this.#foldCount;
		// Checkpoints after the starting point no longer match the order; with no usable
		// checkpoint that is all of them (a position before every block).
		await this.#store.dropCheckpointsAfter(this.#foldPosition ?? [-1, '' as BlockId]);
		let cursor = this.#foldPosition;
		for (;;) {
			const page = await this.#store.ordered(cursor, FOLD_PAGE);
			for (const stored of page) {
				let block: Block;
				try {
					block = decodeBlock(stored.bytes);
				} catch (error) {
					// Damaged on disk: keep the node usable, leave the block out of the state
					// and report it; "Verify all" names it too. Nothing is deleted.
					const code = error instanceof LedgerError ? error.code : 'MALFORMED';
					this.#damaged.set(stored.id, { code, detail: (error as Error).message, id: stored.id, author: stored.author });
					continue;
				}
				await this.#applyOne(block);
			}
			if (page.length < FOLD_PAGE) break;
			cursor = orderKey(page[page.length - 1]!);
		}
	}

	async #restoreFold(): Promise<void> {
		await this.#refoldFrom(null);
	}

	async #applyOne(block: Block): Promise<void> {
		// A void block keeps its place in the order but changes no state.
		if (!this.#void.has(block.id)) {
			this.#folds.forEach((f, i) => {
				this.#states[i] = f.apply(this.#states[i], block);
			});
		}
		this.#foldPosition = orderKey(block);
		this.#foldCount++;
		if (this.#foldCount - this.#lastCheckpointCount >= this.#checkpointGap) {
			const started = performance.now();
			await this.#store.putCheckpoint({ position: this.#foldPosition, count: this.#foldCount, state: this.#encodeStates() });
			this.#lastCheckpointCount = this.#foldCount;
			// A large state (thousands of patients, claims) costs seconds to encode: space its checkpoints out
			// so writing them stays a small share of folding (at most 20 times the configured gap).
			const cost = performance.now() - started;
			this.#checkpointGap = Math.min(20 * this.#checkpointEvery, Math.max(this.#checkpointEvery, Math.round((this.#checkpointEvery * cost) / CHEAP_CHECKPOINT_MS)));
		}
	}

	async #advanceFold(accepted: Block[]): Promise<void> {
		const sorted = [...accepted].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
		const first = sorted[0];
		if (!first) return;
		if (this.#foldPosition === null || compareOrder(orderKey(first), this.#foldPosition) > 0) {
			for (const block of sorted) await this.#applyOne(block);
			return;
		}
		// A block landed before blocks already folded: rewind to a checkpoint before it.
		await this.#refoldFrom(orderKey(first));
	}

	// ---- Audit ---------------------------------------------------------------------

	/**
	 * Re-checks every stored block: encoding, hash, signature, network, chain links and
	 * clocks. Reports progress as (checked, total). Returns the failures found.
	 */
	async verifyAll(onProgress?: (checked: number, total: number) => void, pageSize = 500, signal?: AbortSignal): Promise<{ checked: number; failures: Rejection[] }> {
		const total = await this.#store.count();
		const failures: Rejection[] = [];
		const clocks = new Map<BlockId, number>();
		let checked = 0;
		let position: OrderKey | null = null;
		for (;;) {
			signal?.throwIfAborted();
			const page = await this.#store.ordered(position, pageSize);
			const results = await Promise.all(page.map((s) => checkIntrinsic(s.bytes, this.net, this.#verifier)));
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
						for (const p of parents) max = Math.max(max, clocks.get(p) ?? (await this.#store.get(p))?.clock ?? Infinity);
						if (b.clock !== max + 1) failures.push({ code: 'BAD_CLOCK', detail: 'clock does not follow its parents', id: b.id });
						clocks.set(b.id, b.clock);
					}
				}
			}
			checked += page.length;
			onProgress?.(checked, total);
			if (page.length < pageSize) break;
			position = orderKey(page[page.length - 1]!);
			if (clocks.size > 200_000) clocks.clear();
		}
		return { checked, failures };
	}

	/** Evidence of equivocation kept by this node. */
	evidence() {
		return this.#store.evidence();
	}

	async close(): Promise<void> {
		await this.#serial(async () => {
			if (this.#foldCount > this.#lastCheckpointCount && this.#foldPosition) {
				await this.#store.putCheckpoint({ position: this.#foldPosition, count: this.#foldCount, state: this.#encodeStates() });
			}
			await this.#store.close();
		});
	}
}
