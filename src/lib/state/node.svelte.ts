/**
 * This browser's node, as the UI sees it: the one seam between components and the core.
 * It opens the identity and the ledger, keeps a view of the blocks in total order, and
 * turns every core error into a message a person can act on.
 *
 * One browser holds one network, in the IndexedDB database {@link LEDGER_DB}. Only one
 * tab at a time runs the node (a Web Lock): two ledgers appending to one store as the
 * same author would race for the same sequence numbers.
 */
import {
	IndexedDBStore,
	Ledger,
	LedgerError,
	compareOrder,
	createSigner,
	orderKey,
	type AuthorId,
	type Block,
	type BlockId,
	type ReasonCode,
	type Rejection,
	type Signer,
	type Summary
} from '$lib/core/index.js';
import { authorIdOf, loadOrCreateIdentity } from '$lib/domain/identity.js';
import { networkNameProblem } from '$lib/domain/network.js';
import { noteProblem, noteTx } from '$lib/domain/note.js';
import { summarizeTx, type TxSummary } from '$lib/domain/tx-summary.js';

/** The ledger database of this origin; it holds at most one network. */
export const LEDGER_DB = 'clinic-ledger';
const NODE_LOCK = 'clinic-ledger-node';

export type NodeStatus = 'loading' | 'no-network' | 'ready' | 'error';

/**
 * How far this node has checked a block in this session: `verified` when it was accepted
 * (validated on the way in) or passed a full verification, `failed` when a verification
 * found it broken, `unchecked` when it was loaded from storage and not yet re-verified.
 */
export type BlockCheck = 'verified' | 'failed' | 'unchecked';

/** A block as the ledger view shows it. */
export interface BlockView {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	/** Advisory wall-clock time of the author, ms. */
	readonly time: number;
	readonly txs: readonly TxSummary[];
	readonly check: BlockCheck;
	readonly failure?: { readonly code: ReasonCode; readonly detail: string };
}

/** The public half of the node identity; the secret key never reaches the UI. */
export interface NodeIdentity {
	readonly author: AuthorId;
	readonly createdAt: number;
}

export interface VerificationResult {
	readonly checked: number;
	readonly failures: readonly Rejection[];
	readonly finishedAt: number;
}

/** A full re-check of the stored ledger: automatic on open, or asked for. */
export interface Verification {
	readonly trigger: 'open' | 'manual';
	readonly running: boolean;
	readonly checked: number;
	readonly total: number;
	readonly result: VerificationResult | null;
	readonly error: string | null;
}

/** A core or storage error as a sentence, with the reason code when there is one. */
function messageOf(error: unknown): string {
	if (error instanceof LedgerError) return `${error.detail} (${error.code})`;
	if (error instanceof Error) return error.message;
	return String(error);
}

export class NodeState {
	status = $state<NodeStatus>('loading');
	/** Why the node could not start (status 'error'). */
	error = $state<string | null>(null);
	/** Something the person should know while loading, e.g. another tab holds the node. */
	notice = $state<string | null>(null);
	identity = $state.raw<NodeIdentity | null>(null);
	network = $state.raw<{ id: BlockId; name: string } | null>(null);
	verifierName = $state<string | null>(null);
	/** Accepted blocks in total order (clock, id). */
	blocks = $state.raw<BlockView[]>([]);
	summary = $state.raw<Summary | null>(null);
	/** Blocks refused since the node opened, by reason code. */
	rejected = $state.raw<Partial<Record<ReasonCode, number>>>({});
	verification = $state.raw<Verification | null>(null);

	creating = $state(false);
	createError = $state<string | null>(null);
	appending = $state(false);
	entryError = $state<string | null>(null);
	/** The last block this node appended, once it is durable and shown. */
	lastAppended = $state.raw<{ id: BlockId; seq: number } | null>(null);

	#signer: Signer | null = null;
	#store: IndexedDBStore | null = null;
	#ledger: Ledger | null = null;
	#checks = new Map<BlockId, Pick<BlockView, 'check' | 'failure'>>();
	/** View updates run one after another so a full reload never interleaves with an append. */
	#view: Promise<void> = Promise.resolve();
	#unsubscribe: (() => void)[] = [];
	#releaseLock: (() => void) | null = null;
	#abort = new AbortController();
	#verifying: Promise<void> | null = null;

	/** The open ledger, when status is 'ready'. */
	get ledger(): Ledger | null {
		return this.#ledger;
	}

	/** Opens identity and ledger. Call once; {@link stop} when the page goes away. */
	async start(): Promise<void> {
		try {
			const identity = await loadOrCreateIdentity();
			this.identity = { author: authorIdOf(identity), createdAt: identity.createdAt };
			this.#signer = await createSigner(identity.secretKey);
			// The signer keeps its own copy (a non-extractable key where WebCrypto has Ed25519).
			identity.secretKey.fill(0);
			if (!(await this.#acquireLock())) return;
			const store = await IndexedDBStore.open(LEDGER_DB);
			if (this.#abort.signal.aborted) {
				await store.close();
				return;
			}
			this.#store = store;
			// An empty store holds no network (joining by invite, which starts from an empty store too, comes later).
			if ((await store.count()) === 0) {
				this.status = 'no-network';
				return;
			}
			const ledger = await Ledger.open({ store, signer: this.#signer }).catch((error: unknown) => {
				// Opening folds every stored block: one that no longer decodes stops it.
				if (error instanceof LedgerError) throw new Error(`A block stored in this browser is damaged (${error.code}: ${error.detail}). Nothing was changed or deleted.`);
				throw error;
			});
			if (this.#abort.signal.aborted) {
				await ledger.close();
				return;
			}
			await this.#attach(ledger);
			void this.verifyAll('open');
		} catch (error) {
			this.error = messageOf(error);
			this.status = 'error';
		}
	}

	/** Closes the ledger and lets another tab take over. */
	async stop(): Promise<void> {
		this.#abort.abort();
		for (const off of this.#unsubscribe) off();
		this.#unsubscribe = [];
		const ledger = this.#ledger;
		const store = this.#store;
		this.#ledger = null;
		this.#store = null;
		try {
			if (ledger) await ledger.close();
			else if (store) await store.close();
		} finally {
			this.#releaseLock?.();
			this.#releaseLock = null;
		}
	}

	/** Founds a network named after the clinic; this node becomes its first admin. */
	async createNetwork(name: string): Promise<boolean> {
		const problem = networkNameProblem(name);
		this.createError = problem;
		// One genesis only: a second click while the first is being written does nothing.
		if (problem || this.creating) return false;
		if (this.status !== 'no-network' || !this.#store || !this.#signer) {
			this.createError = 'This browser already holds a network.';
			return false;
		}
		this.creating = true;
		try {
			const ledger = await Ledger.create({ store: this.#store, signer: this.#signer, genesis: { name: name.trim() } });
			// The genesis was validated by the ledger as it was stored.
			for (const head of ledger.heads()) this.#checks.set(head.id, { check: 'verified' });
			await this.#attach(ledger);
			return true;
		} catch (error) {
			this.createError = `The network could not be created: ${messageOf(error)}`;
			return false;
		} finally {
			this.creating = false;
		}
	}

	/**
	 * Appends a free-text entry as one signed block. Resolves true once the block is
	 * durable in IndexedDB and shown in {@link blocks}; false with {@link entryError} set
	 * when the text is refused or the write fails (then nothing was stored).
	 */
	async addEntry(text: string): Promise<boolean> {
		const problem = noteProblem(text);
		this.entryError = problem;
		if (problem) return false;
		const ledger = this.#ledger;
		if (!ledger) {
			this.entryError = 'Create or join a network before adding entries.';
			return false;
		}
		this.appending = true;
		try {
			const block = await ledger.append([noteTx(text)]);
			await this.#view;
			this.lastAppended = { id: block.id, seq: block.seq };
			return true;
		} catch (error) {
			this.entryError = `The entry was not added: ${messageOf(error)}`;
			return false;
		} finally {
			this.appending = false;
		}
	}

	/**
	 * Re-checks every stored block (encoding, hash, signature, network, chain, clock) with
	 * progress in {@link verification}. A second call while one runs joins it.
	 */
	verifyAll(trigger: Verification['trigger'] = 'manual'): Promise<void> {
		this.#verifying ??= this.#runVerification(trigger).finally(() => {
			this.#verifying = null;
		});
		return this.#verifying;
	}

	async #runVerification(trigger: Verification['trigger']): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		const previous = this.verification?.result ?? null;
		this.verification = { trigger, running: true, checked: 0, total: ledger.size, result: previous, error: null };
		try {
			const { checked, failures } = await ledger.verifyAll((done, total) => {
				this.verification = { trigger, running: true, checked: done, total, result: previous, error: null };
			});
			const failed = new Map(failures.filter((f) => f.id !== undefined).map((f) => [f.id!, f]));
			for (const block of this.blocks) {
				const failure = failed.get(block.id);
				this.#checks.set(block.id, failure ? { check: 'failed', failure: { code: failure.code, detail: failure.detail } } : { check: 'verified' });
			}
			this.blocks = this.blocks.map((b) => ({ ...b, ...this.#checks.get(b.id)! }));
			this.verification = { trigger, running: false, checked, total: checked, result: { checked, failures, finishedAt: Date.now() }, error: null };
		} catch (error) {
			const current = this.verification;
			this.verification = { trigger, running: false, checked: current?.checked ?? 0, total: current?.total ?? 0, result: previous, error: `Verification stopped: ${messageOf(error)}` };
		}
	}

	/** Waits for the node lock; false when the page went away first. */
	async #acquireLock(): Promise<boolean> {
		if (typeof navigator === 'undefined' || !navigator.locks) return true;
		const held = new Promise<void>((release) => (this.#releaseLock = release));
		const granted = (options: LockOptions) =>
			new Promise<boolean>((resolve, reject) => {
				navigator.locks
					.request(NODE_LOCK, options, (lock) => {
						resolve(lock !== null);
						return lock ? held : undefined;
					})
					.catch(reject);
			});
		if (await granted({ ifAvailable: true })) return true;
		this.notice = 'This ledger is open in another tab of this browser. This tab takes over as soon as that one is closed.';
		try {
			await granted({ signal: this.#abort.signal });
		} catch (error) {
			if (this.#abort.signal.aborted) return false;
			throw error;
		}
		this.notice = null;
		return true;
	}

	async #attach(ledger: Ledger): Promise<void> {
		this.#ledger = ledger;
		this.verifierName = ledger.verifierName;
		this.#unsubscribe.push(
			ledger.on('accepted', (blocks) => this.#onAccepted(blocks)),
			ledger.on('rejected', () => {
				this.rejected = ledger.rejectedCounts();
			})
		);
		this.rejected = ledger.rejectedCounts();
		this.#queueView(() => this.#loadAll());
		await this.#view;
		this.network = { id: ledger.net, name: this.summary?.name ?? '' };
		this.status = 'ready';
	}

	#onAccepted(accepted: readonly Block[]): void {
		for (const block of accepted) this.#checks.set(block.id, { check: 'verified' });
		this.#queueView(async () => {
			const sorted = [...accepted].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
			const first = sorted[0];
			const last = this.blocks.at(-1);
			if (first && last && compareOrder(orderKey(first), orderKey(last)) <= 0) {
				// A block from a peer landed before blocks already shown: reread in order.
				await this.#loadAll();
				return;
			}
			this.blocks = [...this.blocks, ...sorted.map((b) => this.#toView(b))];
			this.#readSummary();
		});
	}

	#queueView(update: () => Promise<void>): void {
		this.#view = this.#view.then(update).catch((error: unknown) => {
			this.error = `The ledger view could not be updated: ${messageOf(error)}`;
		});
	}

	async #loadAll(): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		const views: BlockView[] = [];
		for await (const block of ledger.blocks()) views.push(this.#toView(block));
		this.blocks = views;
		this.#readSummary();
	}

	#readSummary(): void {
		const summary = this.#ledger?.state().summary as Summary | undefined;
		// The fold updates its state in place: copy, so the view sees a new value.
		this.summary = summary ? { name: summary.name, blocks: summary.blocks, txs: { ...summary.txs } } : null;
	}

	#toView(block: Block): BlockView {
		return {
			id: block.id,
			author: block.author,
			seq: block.seq,
			clock: block.clock,
			time: block.time,
			txs: block.txs.map(summarizeTx),
			...(this.#checks.get(block.id) ?? { check: 'unchecked' })
		};
	}
}
