/**
 * The node's view of its ledger: the newest accepted blocks in total order (clock, id) with
 * how far each was checked, how many the ledger holds, the summary fold, the network's name
 * and the refused-block counts. Only the newest {@link TAIL} blocks are held: a ledger of
 * years holds millions, and the screen draws the newest few hundred. View updates run one
 * after another so a full reload never interleaves with an append.
 */
import {
	compareOrder,
	describeError,
	orderKey,
	type AuthorId,
	type Block,
	type BlockId,
	type Ledger,
	type OrderKey,
	type ReasonCode,
	type Rejection,
	type Summary
} from '$lib/core/index.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import type { BlockView } from './node-types.js';

/** Blocks the view holds at most: the newest, in ledger order (the Ledger screen draws 50 of them, up to all with "Show older"). */
export const TAIL = 300;

/**
 * The newest `limit` blocks of `ledger` in ledger order, read from the store without
 * reading the rest: from a clock far enough back that at least `limit` blocks follow it
 * (the highest clock is a head's; the span back doubles until enough are found).
 */
export async function newestBlocks(ledger: Ledger, limit: number): Promise<Block[]> {
	const top = Math.max(-1, ...ledger.heads().map((h) => h.clock));
	for (let span = limit; ; span *= 2) {
		const from = top - span;
		// Strictly after (from, any id): every block whose clock is above `from`.
		const after = from < 0 ? null : ([from, 'g'] as unknown as OrderKey);
		const held: Block[] = [];
		for await (const block of ledger.blocks(after)) {
			held.push(block);
			if (held.length > 2 * limit) held.splice(0, held.length - limit);
		}
		if (held.length >= limit || after === null) return held.slice(-limit);
	}
}

/** Two lists in ledger order merged into one; a block in both is kept once. */
function mergeViews(shown: readonly BlockView[], added: readonly BlockView[]): BlockView[] {
	const merged: BlockView[] = [];
	let i = 0;
	for (const view of added) {
		while (i < shown.length && compareOrder(orderKey(shown[i]!), orderKey(view)) < 0) merged.push(shown[i++]!);
		if (i < shown.length && shown[i]!.id === view.id) continue;
		merged.push(view);
	}
	while (i < shown.length) merged.push(shown[i++]!);
	return merged;
}

export interface LedgerViewHooks {
	/** The network's name before the genesis arrives (from the link this node joined by). */
	fallbackName(): string;
	/** Called after every update, with the genesis author when the genesis is shown. */
	onRead(ledger: Ledger, founder: AuthorId | null): void;
	onError(message: string): void;
}

export class LedgerView {
	/** The newest accepted blocks (at most {@link TAIL}) in total order (clock, id). */
	#blocks = $state.raw<BlockView[]>([]);
	get blocks() {
		return this.#blocks;
	}
	/** Blocks the ledger holds (all of them, not only those in {@link blocks}). */
	#size = $state(0);
	get size() {
		return this.#size;
	}
	/** The genesis block's author, once known (the genesis may be far older than the blocks held). */
	#founder: AuthorId | null = null;
	#summary = $state.raw<Summary | null>(null);
	get summary() {
		return this.#summary;
	}
	#network = $state.raw<{ id: BlockId; name: string } | null>(null);
	get network() {
		return this.#network;
	}
	/** Blocks refused since the node opened, by reason code. */
	#rejected = $state.raw<Partial<Record<ReasonCode, number>>>({});
	get rejected() {
		return this.#rejected;
	}
	#verifierName = $state<string | null>(null);
	get verifierName() {
		return this.#verifierName;
	}
	#verifierWorkers = $state(0);
	/** Web Workers checking signatures (0: the page's thread). */
	get verifierWorkers() {
		return this.#verifierWorkers;
	}

	#ledger: Ledger | null = null;
	#checks = new Map<BlockId, Pick<BlockView, 'check' | 'failure'>>();
	#queue: Promise<void> = Promise.resolve();
	#offs: (() => void)[] = [];
	readonly #hooks: LedgerViewHooks;

	constructor(hooks: LedgerViewHooks) {
		this.#hooks = hooks;
	}

	/** Follows `ledger`; resolves once every stored block is shown. Blocks in `verified` were checked as they were stored. */
	attach(ledger: Ledger, verified: readonly BlockId[] = []): Promise<void> {
		for (const id of verified) this.#checks.set(id, { check: 'verified' });
		this.#ledger = ledger;
		this.#verifierName = ledger.verifierName;
		this.#verifierWorkers = ledger.verifierWorkers;
		this.#offs.push(
			ledger.on('accepted', (blocks) => this.#onAccepted(blocks)),
			ledger.on('rejected', () => {
				this.#rejected = ledger.rejectedCounts();
			}),
			// A revocation made blocks shown before void: redraw them with why.
			ledger.on('voided', () => this.#enqueue(() => this.#loadAll()))
		);
		this.#rejected = ledger.rejectedCounts();
		this.#enqueue(() => this.#loadAll());
		return this.settled();
	}

	detach(): void {
		for (const off of this.#offs) off();
		this.#offs = [];
		this.#ledger = null;
		this.#founder = null;
	}

	/** Resolves once every update queued so far has run. */
	settled(): Promise<void> {
		return this.#queue;
	}

	/** Marks the blocks a full verification checked: failed ones with why, the rest verified. */
	markVerified(failures: readonly Rejection[]): void {
		const failed = new Map(failures.filter((f) => f.id !== undefined).map((f) => [f.id!, f]));
		for (const block of this.#blocks) {
			const failure = failed.get(block.id);
			this.#checks.set(
				block.id,
				failure ? { check: 'failed', failure: { code: failure.code, detail: failure.detail } } : { check: 'verified' }
			);
		}
		this.#blocks = this.#blocks.map((b) => ({ ...b, ...this.#checks.get(b.id)! }));
	}

	#onAccepted(accepted: readonly Block[]): void {
		for (const block of accepted) this.#checks.set(block.id, { check: 'verified' });
		this.#enqueue(async () => {
			const views = [...accepted].sort((a, b) => compareOrder(orderKey(a), orderKey(b))).map((b) => this.#toView(b));
			const first = views[0];
			const last = this.#blocks.at(-1);
			if (!first) return;
			if (!last || compareOrder(orderKey(first), orderKey(last)) > 0) this.#blocks = [...this.#blocks, ...views];
			// Blocks from a peer that sort among those already shown: merge them in order (a
			// catch-up interleaves with this node's own blocks batch after batch).
			else this.#blocks = mergeViews(this.#blocks, views);
			// A block older than every one held stays out once the view is full: it is not among the newest.
			if (this.#blocks.length > TAIL) this.#blocks = this.#blocks.slice(-TAIL);
			if (this.#ledger) {
				const genesis = accepted.find((b) => b.id === this.#ledger!.net);
				if (genesis) this.#founder = genesis.author;
			}
			this.#read();
		});
	}

	#enqueue(update: () => Promise<void>): void {
		this.#queue = this.#queue.then(update).catch((error: unknown) => {
			this.#hooks.onError(`The ledger view could not be updated: ${describeError(error)}`);
		});
	}

	async #loadAll(): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		const newest = await newestBlocks(ledger, TAIL);
		this.#blocks = newest.map((b) => this.#toView(b));
		if (this.#founder === null) {
			const genesis = newest[0]?.id === ledger.net ? newest[0] : await ledger.store.get(ledger.net);
			if (genesis) this.#founder = genesis.author;
		}
		this.#read();
	}

	/** Summary and network name as of every accepted block; then the hook reads the rest. */
	#read(): void {
		const ledger = this.#ledger;
		if (!ledger) return;
		const summary = ledger.state().summary as Summary | undefined;
		// The fold updates its state in place: copy, so the view sees a new value.
		this.#summary = summary ? { name: summary.name, blocks: summary.blocks, txs: { ...summary.txs } } : null;
		// Before the genesis arrives (joined, not yet synced) the link's name stands in.
		this.#network = { id: ledger.net, name: summary?.name || this.#hooks.fallbackName() };
		this.#size = ledger.size;
		this.#hooks.onRead(ledger, this.#founder);
	}

	#toView(block: Block): BlockView {
		const voidReason = this.#ledger?.voidReason(block.id);
		return {
			id: block.id,
			author: block.author,
			seq: block.seq,
			clock: block.clock,
			time: block.time,
			txs: block.txs.map(summarizeTx),
			...(this.#checks.get(block.id) ?? { check: 'unchecked' }),
			...(voidReason !== undefined ? { void: voidReason } : {})
		};
	}
}
