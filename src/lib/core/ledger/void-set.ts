/**
 * Which accepted blocks have no effect, and why: blocks after a valid cut-off (a
 * revocation, or the seq at which their author equivocated), and blocks of "suspects"
 * whose admission is void or whose role a later change cut off. Kept with the fork
 * bookkeeping (who equivocated, from which seq) because a fork is one more cut-off.
 * The set depends only on the blocks held, never on the order they came in.
 */
import { decodeBlock } from '../block.js';
import type { ReasonCode } from '../errors.js';
import { cutoffsOf, type MembershipEvent } from '../membership.js';
import type { TxRule } from '../rules.js';
import type { LedgerStore, StoredBlock } from '../storage/store.js';
import type { AuthorId, Block, BlockId, Tx } from '../types.js';
import type { MembershipIndex } from './membership-index.js';
import { mergeVV, vvGet } from './version-vector.js';

const META_VOID = 'void';
/** {author: lowest seq at which it signed two blocks}: written with the batch that held the second. */
const META_FORKS = 'forks';
/** Set in the same write as a revocation, cleared once the void set is recomputed: survives a crash in between. */
const META_REVALIDATE = 'revalidate';

/** Prefix of the reason a block is void because its author was revoked before it. */
const VOID_REVOKED = 'revoked';
/** Prefix of the reason a block is void because its author equivocated at or before it. */
const VOID_FORKED = 'equivocated';
/** Prefix of the reason a block is void because a role change before it took the right it used. */
const VOID_ROLE = 'role';
const forkReason = (author: AuthorId, seq: number) =>
	`${VOID_FORKED}: author ${author.slice(0, 12)} signed two blocks at seq ${seq}; its blocks from that seq on are void`;
/** Void for a cut-off (revocation or equivocation), as opposed to a membership or role judged at the block. */
const isCutoffVoid = (why: string) => why.startsWith(VOID_REVOKED) || why.startsWith(VOID_FORKED);
/** Most recomputation rounds of the void set (each round can only follow a chain of undone admissions). */
const REVALIDATE_ROUNDS = 16;

/** The reason code a block made void is reported with. */
export function voidCode(why: string): ReasonCode {
	return why.startsWith(VOID_FORKED) ? 'EQUIVOCATION' : why.startsWith(VOID_ROLE) ? 'NOT_AUTHORIZED' : 'NOT_A_MEMBER';
}

/** An author's stored blocks from a seq on. */
export type ChainReader = (author: AuthorId, fromSeq: number) => AsyncGenerator<StoredBlock>;

/** What {@link VoidSet.restore} rolls back to when a batch fails. */
export interface VoidSnapshot {
	readonly void: ReadonlyMap<BlockId, string>;
	readonly cutoffs: Map<AuthorId, number>;
	readonly forks: Map<AuthorId, number>;
	readonly suspects: Map<AuthorId, number>;
}

export class VoidSet {
	readonly #index: MembershipIndex;
	readonly #rules: ReadonlyMap<string, TxRule>;
	/** Accepted blocks without effect, with why. */
	#void = new Map<BlockId, string>();
	/** Per revoked author, the seq after which its blocks are void (from valid revocations). */
	#cutoffs = new Map<AuthorId, number>();
	/** Per equivocating author, the lowest seq at which it signed two blocks: its blocks from there on are void. */
	#forks = new Map<AuthorId, number>();
	/**
	 * Authors whose blocks (from the given seq) may count differently from what their causal
	 * past says: admitted by a void block, or whose role changed after they had written. Their
	 * blocks are judged again with everything held ({@link VoidSet.#effectRefusal}).
	 */
	#suspects = new Map<AuthorId, number>();
	/** Set while staging a batch whose changes can change which blocks are void: the void set is recomputed and persisted with it. */
	#revalidateStaged = false;
	/** Equivocations staged in the batch being received: (author → seqs), for their evidence. */
	#stagedForks = new Map<AuthorId, Set<number>>();

	constructor(index: MembershipIndex, rules: ReadonlyMap<string, TxRule>) {
		this.#index = index;
		this.#rules = rules;
	}

	/** Reads the set from the store (after the membership index); true when a recomputation was left unfinished. */
	async load(store: LedgerStore): Promise<boolean> {
		this.#void = new Map(Object.entries((await store.getMeta<Record<string, string>>(META_VOID)) ?? {})) as Map<BlockId, string>;
		this.#forks = new Map(Object.entries((await store.getMeta<Record<string, number>>(META_FORKS)) ?? {})) as Map<AuthorId, number>;
		this.#cutoffs = this.#validCutoffs();
		this.#suspects = this.#suspectsOf(this.#void);
		return (await store.getMeta<boolean>(META_REVALIDATE)) ?? false;
	}

	/** Why the block has no effect, or undefined when it counts. */
	reason(id: BlockId): string | undefined {
		return this.#void.get(id);
	}

	has(id: BlockId): boolean {
		return this.#void.has(id);
	}

	/** Whether the event's block counts. */
	readonly live = (e: MembershipEvent): boolean => !this.#void.has(e.block);

	/** Changes whenever the set of void blocks does (the map is replaced, never changed in place): what {@link live} answers from. */
	get version(): object {
		return this.#void;
	}

	all(): ReadonlyMap<BlockId, string> {
		return new Map(this.#void);
	}

	/** Keys revoked (or forked), with the seq after which their blocks are void. */
	cutoffs(): ReadonlyMap<AuthorId, number> {
		return new Map(this.#cutoffs);
	}

	/** Equivocating authors with the lowest seq at which each signed two blocks. */
	forks(): ReadonlyMap<AuthorId, number> {
		return this.#forks;
	}

	/** Whether the staged batch asks for a recomputation (see {@link VoidSet.revalidate}). */
	get revalidateStaged(): boolean {
		return this.#revalidateStaged;
	}

	/** Equivocations in the staged batch, author → seqs. */
	get stagedForks(): ReadonlyMap<AuthorId, ReadonlySet<number>> {
		return this.#stagedForks;
	}

	/**
	 * Why `block` (valid, about to be stored) has no effect, judged with what is held:
	 * `fork` when it is a second version at its position, `pastVV` its causal past.
	 */
	async voidReason(block: Block, fork: BlockId | undefined, pastVV: () => Promise<number[]>): Promise<string | undefined> {
		const forkAt = fork !== undefined ? Math.min(block.seq, this.#forks.get(block.author) ?? Infinity) : this.#forks.get(block.author);
		if (forkAt !== undefined && block.seq >= forkAt) return forkReason(block.author, forkAt);
		const cutoff = this.#cutoffs.get(block.author);
		if (cutoff !== undefined && block.seq > cutoff) return this.#cutoffReason(block.author, cutoff);
		const from = this.#suspects.get(block.author);
		if (from === undefined || block.seq < from) return undefined;
		const vv = mergeVV(await pastVV(), [this.#index.indexOf(block.author), block.seq]);
		return this.#effectRefusal(block.author, block.seq, vv, block.txs, this.#void);
	}

	/** Records a staged block's part: a fork at its position, its void reason, its membership events. */
	stage(block: Block, voidReason: string | undefined, fork: BlockId | undefined, events: readonly MembershipEvent[]): void {
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
		// A plain admission of a new member changes no other block's standing; anything else may.
		if (
			events.some(
				(e) =>
					e.kind === 'revoke' || e.kind === 'role' || e.kind === 'approve' || e.kind === 'quorum' || (e.kind === 'add' && e.cutoff! >= 0)
			)
		) {
			this.#revalidateStaged = true;
			this.#suspects = this.#suspectsOf(this.#void);
		}
		if (this.#revalidateStaged) this.#cutoffs = this.#validCutoffs();
	}

	/** Starts a batch: nothing staged yet. */
	snapshot(): VoidSnapshot {
		this.#revalidateStaged = false;
		this.#stagedForks = new Map();
		return { void: this.#void, cutoffs: this.#cutoffs, forks: this.#forks, suspects: this.#suspects };
	}

	restore(before: VoidSnapshot): void {
		this.#void = before.void as Map<BlockId, string>;
		this.#cutoffs = before.cutoffs;
		this.#forks = before.forks;
		this.#suspects = before.suspects;
		this.#revalidateStaged = false;
		this.#stagedForks = new Map();
	}

	/** Store metadata changed since `before`, to write with the batch. */
	changedMeta(before: VoidSnapshot): Record<string, unknown> {
		const meta: Record<string, unknown> = {};
		if (this.#forks !== before.forks) meta[META_FORKS] = Object.fromEntries(this.#forks);
		if (this.#revalidateStaged) {
			meta[META_VOID] = Object.fromEntries(this.#void);
			meta[META_REVALIDATE] = true;
		}
		return meta;
	}

	/**
	 * Recomputes, from scratch, which accepted blocks are void: blocks after each valid
	 * cut-off (revocation, equivocation), and suspects' blocks that {@link #effectRefusal}
	 * refuses. Each round is a function of the previous round's set alone, starting from
	 * the empty set, so the result depends only on the blocks held, never on the order they
	 * came in; repeated until stable (at most {@link REVALIDATE_ROUNDS} rounds). Runs only
	 * when a batch brings a change that can move it (rare).
	 */
	async revalidate(store: LedgerStore, chain: ChainReader, net: BlockId): Promise<void> {
		let current = new Map<BlockId, string>();
		for (let round = 0; round < REVALIDATE_ROUNDS; round++) {
			this.#void = current;
			const cutoffs = this.#validCutoffs();
			const next = new Map<BlockId, string>();
			for (const author of [...cutoffs.keys()].sort()) {
				const cutoff = cutoffs.get(author)!;
				const why = this.#cutoffReason(author, cutoff);
				for await (const row of chain(author, cutoff + 1)) next.set(row.id, why);
			}
			const suspects = this.#suspectsOf(new Map([...current, ...next]));
			for (const author of [...suspects.keys()].sort()) {
				for await (const row of chain(author, suspects.get(author)!)) {
					if (next.has(row.id) || row.id === net) continue;
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
		await store.putMeta(META_VOID, Object.fromEntries(this.#void));
		await store.putMeta(META_REVALIDATE, false);
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
		return cutoffsOf(this.#index.events, counted, forks);
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
		for (const e of this.#index.events) {
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
	#effectRefusal(
		author: AuthorId,
		seq: number,
		vv: readonly number[],
		txs: readonly Tx[],
		voidSet: ReadonlyMap<BlockId, string>
	): string | undefined {
		const inView = (e: MembershipEvent) =>
			(e.author === author ? e.seq < seq : vvGet(vv, this.#index.indexOf(e.author)) >= e.seq) ||
			((e.kind === 'role' || e.kind === 'add') && e.member === author && (e.cutoff ?? -1) >= 0 && e.cutoff! < seq);
		const { roster } = this.#index.membership((e) => !voidSet.has(e.block) && inView(e));
		const role = roster.get(author);
		if (role === undefined)
			return `author ${author.slice(0, 12)} is not a member at this block's causal position: the block that admitted it is void`;
		for (const [i, tx] of txs.entries()) {
			const rule = this.#rules.get(tx.t);
			if (rule?.roles && !rule.roles.includes(role))
				return `${VOID_ROLE}: txs[${i}] (${tx.t}): author ${author.slice(0, 12)} has role "${role}" here (a role change cut off its earlier rights)`;
		}
		return undefined;
	}
}
