/**
 * The ledger's causal membership index: every author's small integer index (what the
 * per-block version vectors are keyed by) and the membership events of every accepted
 * block, void ones included (filtered when used), in total order. Whether an event counts
 * (its block void or not) is the {@link VoidSet}'s business; this index answers "who is
 * a member, with which role" for a given set of live events.
 */
import {
	compareEvents,
	cutoffsOf,
	effectiveChanges,
	membershipEventsOf,
	membershipOf,
	quorumOf,
	type MembershipEvent,
	type Roster
} from '../membership.js';
import type { Causal } from '../fold.js';
import type { LedgerStore } from '../storage/store.js';
import type { AuthorId, Block, BlockId } from '../types.js';
import { vvGet } from './version-vector.js';

const META_AUTHORS = 'authors';
const META_MEMBERSHIP = 'membership';

/** What {@link MembershipIndex.restore} rolls back to when a batch fails. */
export interface MembershipSnapshot {
	readonly authors: number;
	readonly events: MembershipEvent[];
}

export class MembershipIndex {
	#authors: AuthorId[] = [];
	#authorIndex = new Map<AuthorId, number>();
	#events: MembershipEvent[] = [];
	/** The last roster made, with the events and the void-set version it was made from. */
	#rosterCache: { events: readonly MembershipEvent[]; version: object; roster: Roster } | null = null;

	get events(): readonly MembershipEvent[] {
		return this.#events;
	}

	/**
	 * Reads the index from the store. Changes stored before cut-offs existed (for
	 * revocations, then for roles) get theirs from the changing block's past; returns true
	 * when it filled any in (the void set must then be recomputed).
	 */
	async load(store: LedgerStore): Promise<boolean> {
		this.#authors = (await store.getMeta<AuthorId[]>(META_AUTHORS)) ?? [];
		this.#authorIndex = new Map(this.#authors.map((a, i) => [a, i]));
		this.#events = (await store.getMeta<MembershipEvent[]>(META_MEMBERSHIP)) ?? [];
		let legacy = false;
		for (const [i, e] of this.#events.entries()) {
			if ((e.kind !== 'revoke' && e.kind !== 'role' && e.kind !== 'add') || e.cutoff !== undefined) continue;
			const row = await store.get(e.block);
			this.#events[i] = { ...e, cutoff: !row ? -1 : e.member === e.author ? e.seq - 1 : vvGet(row.vv, this.indexOf(e.member)) };
			legacy = true;
		}
		if (legacy) await store.putMeta(META_MEMBERSHIP, this.#events);
		this.#rosterCache = null; // the events above were filled in place
		return legacy;
	}

	/** The author's index in version vectors, -1 when it has written nothing this node holds. */
	indexOf(author: AuthorId): number {
		return this.#authorIndex.get(author) ?? -1;
	}

	/** What a block with causal version vector `vv` has seen (folds ask it: `Causal`). */
	causal(vv: readonly number[]): Causal {
		return { seen: (author, seq) => vvGet(vv, this.indexOf(author as AuthorId)) >= seq };
	}

	/** The author's index, given the next free one when it is new. */
	register(author: AuthorId): number {
		let index = this.#authorIndex.get(author);
		if (index === undefined) {
			index = this.#authors.length;
			this.#authors.push(author);
			this.#authorIndex.set(author, index);
		}
		return index;
	}

	/**
	 * Adds the membership events of an accepted block, each change with its cut-off (the
	 * member's highest seq in `pastVV`, the block's causal past). Returns the events added.
	 */
	add(block: Block, pastVV: readonly number[]): MembershipEvent[] {
		const events = membershipEventsOf(block).map((e) =>
			e.kind === 'revoke' || e.kind === 'role' || e.kind === 'add' ? { ...e, cutoff: vvGet(pastVV, this.indexOf(e.member)) } : e
		);
		if (events.length > 0) this.#events = [...this.#events, ...events].sort(compareEvents);
		return events;
	}

	/** Roster and revoked keys from the events that `counted` admits. */
	membership(counted: (e: MembershipEvent) => boolean): { roster: Map<AuthorId, string>; revoked: Set<AuthorId> } {
		return membershipOf(this.#events, counted);
	}

	/**
	 * Roster and revoked keys as the causal past `pastVV` alone shows them: its events,
	 * without those its own revocations cut off. Decides whether a block is stored, so it
	 * never looks at blocks outside that past (every node decides the same).
	 */
	causalMembership(pastVV: readonly number[]): { roster: Map<AuthorId, string>; revoked: Set<AuthorId> } {
		const inPast = (e: MembershipEvent) => vvGet(pastVV, this.indexOf(e.author)) >= e.seq;
		const cut = cutoffsOf(this.#events, inPast);
		return membershipOf(this.#events, (e) => inPast(e) && !((cut.get(e.author) ?? Infinity) < e.seq));
	}

	/**
	 * Members and roles from the live events (total order). `version` names what `live`
	 * answers from (the void set's {@link VoidSet.version}): the roster is made again only
	 * when it or the events changed (both are replaced, never changed in place), not for
	 * every handshake and block that asks.
	 */
	roster(live: (e: MembershipEvent) => boolean, version: object): Roster {
		const cached = this.#rosterCache;
		if (cached && cached.events === this.#events && cached.version === version) return cached.roster;
		const roster = membershipOf(this.#events, live).roster;
		this.#rosterCache = { events: this.#events, version, roster };
		return roster;
	}

	/** Admins who must sign a membership change (genesis `quorum`; 1 when none is set). */
	get quorum(): number {
		return quorumOf(this.#events);
	}

	/**
	 * Live membership changes not yet approved by the quorum (M-of-N networks), with the
	 * admins who signed so far; the genesis block `net` needs no approval.
	 */
	pendingChanges(live: (e: MembershipEvent) => boolean, net: BlockId): { event: MembershipEvent; approvedBy: AuthorId[] }[] {
		if (this.quorum <= 1) return [];
		const effective = new Set(effectiveChanges(this.#events, live).map((c) => `${c.event.block}/${c.event.index}/${c.event.member}`));
		return this.#events
			.filter(
				(e) =>
					(e.kind === 'add' || e.kind === 'role' || e.kind === 'revoke') &&
					live(e) &&
					e.block !== net &&
					!effective.has(`${e.block}/${e.index}/${e.member}`)
			)
			.map((event) => ({
				event,
				approvedBy: [
					event.author,
					...new Set(
						this.#events
							.filter(
								(a) =>
									a.kind === 'approve' &&
									live(a) &&
									a.target?.block === event.block &&
									a.target.index === event.index &&
									a.author !== event.author
							)
							.map((a) => a.author)
					)
				]
			}));
	}

	snapshot(): MembershipSnapshot {
		return { authors: this.#authors.length, events: this.#events };
	}

	restore(before: MembershipSnapshot): void {
		for (const a of this.#authors.splice(before.authors)) this.#authorIndex.delete(a);
		this.#events = before.events;
	}

	/** Store metadata changed since `before`, to write with the batch. */
	changedMeta(before: MembershipSnapshot): Record<string, unknown> {
		const meta: Record<string, unknown> = {};
		if (this.#authors.length !== before.authors) meta[META_AUTHORS] = this.#authors;
		if (this.#events !== before.events) meta[META_MEMBERSHIP] = this.#events;
		return meta;
	}
}
