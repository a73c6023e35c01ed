/**
 * The ledger: one node's verified copy. It composes the parts in `ledger/`: the block
 * view (stored blocks' causal positions), the pending pool, the membership index, the
 * void set with its fork bookkeeping, and the fold engine; the store is the only source
 * of truth, and every in-memory structure here can be rebuilt from it.
 *
 * All mutations (append, receive) run one at a time through a queue, so the view used
 * to validate a batch is exactly what the batch is appended on top of.
 */
import { createGenesis, decodeBlock, type GenesisOptions } from './block.js';
import { detectVerifier, type Signer, type Verifier } from './crypto/verifier.js';
import { sharedWorkerVerifier, type WorkerVerifier } from './crypto/worker-verifier.js';
import { toHex } from './bytes.js';
import { challengeDigest } from './challenge.js';
import { CodedError, type ReasonCode } from './errors.js';
import { summaryFold, type Fold } from './fold.js';
import type { MembershipEvent, Roster } from './membership.js';
import { CORE_RULES, type TxRule } from './rules.js';
import { orderKey, type LedgerStore, type OrderKey, type StoredBlock } from './storage/store.js';
import type { AuthorId, Block, BlockId, Head, Tx, VersionVector } from './types.js';
import { verifyStore } from './ledger/audit.js';
import { BlockView } from './ledger/block-view.js';
import { FOLD_PAGE, FoldEngine, type ReapplyStats } from './ledger/fold-engine.js';
import { IndexEngine, withReadIndexes } from './ledger/index-engine.js';
import type { FactPosition, FactRow } from './index-fold.js';
import { MembershipIndex } from './ledger/membership-index.js';
import { PendingPool } from './ledger/pending-pool.js';
import { META_NET, Pipeline } from './ledger/pipeline.js';
import type { LedgerEvents, LedgerOptions, ReceiveResult, Rejection } from './ledger/types.js';
import { VoidSet } from './ledger/void-set.js';
import { WorkQueue } from './ledger/work-queue.js';

export type { LedgerEvents, LedgerOptions, OpenProgress, ReceiveResult, Rejection } from './ledger/types.js';

/**
 * Refuses with {@link LedgerError}s (a block this node would refuse) and {@link CodedError}s: `STORE_OTHER_NETWORK`, `STORE_NO_NETWORK`
 * (an empty store, no network id), `STORE_NOT_EMPTY` (founding in a store that holds one), `NO_SIGNING_KEY`.
 */
export class Ledger {
	#store: LedgerStore;
	#signer: Signer | undefined;
	#verifier!: Verifier;
	#rules: Map<string, TxRule>;
	#now: () => number;
	#onOpenProgress: LedgerOptions['onOpenProgress'];

	#net: BlockId | null = null;
	#view: BlockView;
	#pending: PendingPool;
	#membership = new MembershipIndex();
	#voids: VoidSet;
	#fold: FoldEngine;
	#index: IndexEngine;
	/** Made once the network and the verifier are known (in {@link Ledger.open}). */
	#pipeline!: Pipeline;

	#queue = new WorkQueue();
	#listeners: { [K in keyof LedgerEvents]: Set<LedgerEvents[K]> } = {
		accepted: new Set(),
		rejected: new Set(),
		equivocation: new Set(),
		voided: new Set()
	};

	private constructor(options: LedgerOptions) {
		this.#store = options.store;
		this.#signer = options.signer;
		this.#fold = new FoldEngine(
			options.store,
			[summaryFold as Fold<unknown>, ...(options.folds ?? [])],
			options.checkpointEvery ?? 1000,
			(id) => this.#voids.has(id),
			(vv) => this.#membership.causal(vv)
		);
		this.#rules = new Map([...CORE_RULES, ...(options.rules ?? [])].map((r) => [r.type, r]));
		this.#now = options.now ?? Date.now;
		this.#onOpenProgress = options.onOpenProgress;
		this.#pending = new PendingPool(options.pendingLimit ?? 10_000, options.pendingBytesLimit ?? 64 * 1024 * 1024);
		this.#view = new BlockView(options.store);
		this.#voids = new VoidSet(this.#membership, this.#rules);
		this.#index = new IndexEngine(
			options.store,
			withReadIndexes(options.indexes ?? [], options.folds ?? []),
			(id) => this.#voids.has(id),
			() => this.#voids.all().keys()
		);
	}

	/** Opens the ledger in `options.store`; a store holding no network yet needs `net` (an invite's): it then waits for that genesis. */
	static async open(options: LedgerOptions & { net?: BlockId }): Promise<Ledger> {
		const ledger = new Ledger(options);
		// In a page, signatures are checked in Web Workers (Chromium runs WebCrypto Ed25519 on
		// the calling thread): a catch-up keeps the page responsive and uses every core.
		ledger.#verifier = options.verifier ?? sharedWorkerVerifier() ?? (await detectVerifier());
		const stored = await options.store.getMeta<BlockId>(META_NET);
		if (stored && options.net && stored !== options.net) {
			throw new CodedError('STORE_OTHER_NETWORK', `this store holds network ${stored.slice(0, 12)}, not ${options.net.slice(0, 12)}`);
		}
		ledger.#net = stored ?? options.net ?? null;
		if (!ledger.#net)
			throw new CodedError('STORE_NO_NETWORK', 'Ledger.open: the store holds no network; create one or pass the network id to join');
		ledger.#pipeline = new Pipeline({
			net: ledger.#net,
			verifier: ledger.#verifier,
			store: ledger.#store,
			view: ledger.#view,
			membership: ledger.#membership,
			voids: ledger.#voids,
			rules: ledger.#rules,
			pending: ledger.#pending,
			fold: ledger.#fold,
			index: ledger.#index,
			now: ledger.#now,
			netStored: stored !== undefined,
			emit: (event, ...args) => ledger.#emit(event, ...args),
			queued: () => ledger.#queue.waiting > 0
		});
		await ledger.#load();
		return ledger;
	}

	/** The network a store holds, if any (a store holds at most one). */
	static storedNetwork(store: LedgerStore): Promise<BlockId | undefined> {
		return store.getMeta<BlockId>(META_NET);
	}

	/** Founds a new network in an empty store; the signer becomes its first admin. */
	static async create(options: LedgerOptions & { genesis: GenesisOptions }): Promise<Ledger> {
		if (!options.signer) throw new CodedError('NO_SIGNING_KEY', 'Ledger.create: a signer is required');
		if ((await options.store.count()) > 0 || (await options.store.getMeta(META_NET))) {
			throw new CodedError('STORE_NOT_EMPTY', 'Ledger.create: the store already holds a ledger');
		}
		const genesis = await createGenesis(options.signer, { time: (options.now ?? Date.now)(), ...options.genesis });
		const ledger = await Ledger.open({ ...options, net: genesis.id });
		const result = await ledger.receive([genesis.bytes]);
		if (result.accepted.length !== 1)
			throw new CodedError('GENESIS_REFUSED', `genesis refused: ${result.rejected[0]?.detail ?? 'unknown'}`);
		return ledger;
	}

	/** Network id: the genesis block's id. */
	get net(): BlockId {
		return this.#net!;
	}
	get verifierName(): Verifier['name'] {
		return this.#verifier.name;
	}
	/** Web Workers checking this ledger's signatures (0: on this thread). */
	get verifierWorkers(): number {
		const v = this.#verifier as Partial<WorkerVerifier>;
		return typeof v.workers === 'number' ? v.workers - (v.failedWorkers ?? 0) : 0;
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

	async #load(): Promise<void> {
		await this.#pipeline.load();
		const legacy = await this.#membership.load(this.#store);
		const unfinished = await this.#voids.load(this.#store);
		this.#view.clear();
		if (legacy || unfinished) await this.#pipeline.revalidate();
		const total = this.#pipeline.count;
		const report = this.#onOpenProgress;
		await this.#index.load(report && ((done) => report({ phase: 'index', done, total })));
		await this.#fold.refoldFrom(null, undefined, report && ((done) => report({ phase: 'fold', done, total })));
	}

	// ---- Reading -------------------------------------------------------------------

	/** The newest block of every author. */
	heads(): Head[] {
		return [...this.#pipeline.heads.values()];
	}

	/** {author: highest seq held}: what a peer compares to find what to send. */
	versionVector(): VersionVector {
		const vv: VersionVector = {};
		for (const h of this.#pipeline.heads.values()) vv[h.author] = h.seq;
		return vv;
	}

	/** Number of accepted blocks (an equivocating author's versions included). */
	get size(): number {
		return this.#pipeline.count;
	}

	/** Wire bytes of every block the holder of `vector` lacks, per author in chain order. */
	async *blocksSince(vector: VersionVector, pageSize = 500): AsyncGenerator<Uint8Array> {
		for (const head of this.#pipeline.heads.values()) {
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
		return this.#fold.state();
	}

	/** The pages `keys` of fold `fold` (core/fold.ts `FoldPages`) as of every block folded, from memory or the store; keys without one left out. */
	readPages<P>(fold: string, keys: readonly string[]): Promise<Map<string, P>> {
		return this.#fold.readPages<P>(fold, keys);
	}

	/** A page of `key`'s rows in index fold `fold`, in ledger order (the last first with `reverse`), from the store. */
	facts(fold: string, key: string, options: { after?: FactPosition | null; limit?: number; reverse?: boolean } = {}): Promise<FactRow[]> {
		return this.#index.read(fold, key, options.after ?? null, options.limit ?? FOLD_PAGE, options.reverse ?? false);
	}

	/** Every row of each of `keys` in index fold `fold`, one list per key, in one store read. */
	factsOfKeys(fold: string, keys: readonly string[]): Promise<FactRow[][]> {
		return this.#index.readKeys(fold, keys);
	}

	/** A page of the keys holding rows in index fold `fold`, in order, after `after`. */
	factKeys(fold: string, after: string | null = null, limit = FOLD_PAGE): Promise<string[]> {
		return this.#index.keys(fold, after, limit);
	}

	/** Members and roles as of all accepted blocks (total order). */
	roster(): Roster {
		return this.#membership.roster(this.#voids.live, this.#voids.version);
	}

	/** Admins who must sign a membership change (genesis `quorum`; 1 when none is set). */
	get quorum(): number {
		return this.#membership.quorum;
	}

	/**
	 * Membership changes proposed but not yet approved by the quorum (M-of-N networks),
	 * with the admins who signed so far.
	 */
	pendingChanges(): { event: MembershipEvent; approvedBy: AuthorId[] }[] {
		return this.#membership.pendingChanges(this.#voids.live, this.net);
	}

	/** Keys revoked, with the seq after which their blocks are void. */
	revocations(): ReadonlyMap<AuthorId, number> {
		return this.#voids.cutoffs();
	}

	/**
	 * Accepted blocks that have no effect, with why: blocks a revoked member made after
	 * its cut-off (kept only because other members' blocks build on them), and blocks of
	 * members whose admission was itself in such a block.
	 */
	voided(): ReadonlyMap<BlockId, string> {
		return this.#voids.all();
	}

	/** Why the block with `id` has no effect, or undefined when it counts (no copy: for per-block use). */
	voidReason(id: BlockId): string | undefined {
		return this.#voids.reason(id);
	}

	/** Rejections by reason code since this ledger was opened. */
	rejectedCounts(): Partial<Record<ReasonCode, number>> {
		return this.#pipeline.rejectedCounts();
	}

	/** Authors caught signing two blocks at one position (sorted). */
	flaggedAuthors(): AuthorId[] {
		return [...this.#voids.forks().keys()].sort();
	}

	/** Every stored block of each equivocating author from its lowest forked seq on (all versions): what sync shares so every node holds them all. */
	async *forkedBlocks(): AsyncGenerator<StoredBlock> {
		for (const [author, seq] of [...this.#voids.forks()].sort()) yield* this.#view.chain(author, seq);
	}

	/** Stored blocks that could not be decoded when folding (damaged on disk), with why. */
	damagedBlocks(): Rejection[] {
		return this.#fold.damaged();
	}

	/** Keys keyed folds re-applied in place of a rewind since open, and their blocks (`Fold.keyed`). */
	get reapplied(): Readonly<ReapplyStats> {
		return { ...this.#fold.reapplied };
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
		if (!this.#signer) throw new CodedError('NO_SIGNING_KEY', 'this node has no signing key');
		if (transcript.net !== this.net) throw new CodedError('HANDSHAKE_OTHER_NETWORK', 'handshake of another network');
		if (!transcript.parties.some((p) => p.author === this.author))
			throw new CodedError('HANDSHAKE_NOT_FOR_THIS_NODE', 'handshake does not name this node');
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
		return this.#queue.run(async () => {
			if (!this.#signer) throw new CodedError('NO_SIGNING_KEY', 'this node has no signing key');
			return this.#pipeline.appendBatch(this.#signer, batches);
		});
	}

	/**
	 * Validates and stores blocks from anywhere (a peer, a file, our own storage). Each
	 * block is accepted, parked (missing predecessors), or rejected with its reason code.
	 * Never throws for bad input; throws only if the store fails or the verifier was closed
	 * (`VERIFIER_CLOSED`: nothing of the batch is stored or refused).
	 */
	receive(input: readonly Uint8Array[], from?: string): Promise<ReceiveResult> {
		// Decoding, hashing and signatures start now, beside a batch still being written;
		// judging in context, the write and the fold wait their turn. If the intrinsic
		// checks fail (a closed verifier), the turn is still taken, so order is kept.
		const prepared = this.#pipeline.prepare(input);
		prepared.catch(() => undefined);
		return this.#queue.run(async () => this.#pipeline.admit(await prepared, from));
	}

	/** Ids that parked blocks are waiting for and this node does not hold. */
	missing(): BlockId[] {
		return this.#pending.missing();
	}

	// ---- Audit ---------------------------------------------------------------------

	/**
	 * Re-checks every stored block: encoding, hash, signature, network, chain links and clocks. Reports progress as
	 * (checked, total) per page; a promise `onProgress` returns holds the next page (pacing). Returns the failures found.
	 */
	verifyAll(
		onProgress?: (checked: number, total: number) => void | Promise<void>,
		pageSize = 500,
		signal?: AbortSignal
	): Promise<{ checked: number; failures: Rejection[] }> {
		return verifyStore(this.#store, this.net, this.#verifier, onProgress, pageSize, signal);
	}

	/** Evidence of equivocation kept by this node. */
	evidence() {
		return this.#store.evidence();
	}

	async close(): Promise<void> {
		await this.#queue.run(async () => {
			await this.#fold.checkpointNow();
			await this.#store.close();
		});
	}
}
