/**
 * Who may write, decided at each block's causal position: the roster a block is judged
 * by is the fold, in total order, of the membership transactions in that block's causal
 * past (its own ancestors), never of what happened to arrive first. A member revoked in
 * a block's past cannot author it; blocks the member made before the revocation stay valid.
 *
 * Revocation also has a cut-off that does not depend on causality: a `member.revoke` of
 * key K records the highest seq of K in the revoking block's causal past (what the admin
 * had seen of K). Every block of K after that seq is void on every node, whether it was
 * made concurrently with the revocation or after it, and whether a node received it
 * before or after the revocation (nodes that accepted it earlier re-evaluate it then).
 * So a revoked device cannot keep writing by ignoring its revocation. See docs/membership.md.
 */
import { toHex } from './bytes.js';
import type { AuthorId, Block, BlockId } from './types.js';

/** The privileged role: may add, change and revoke members. */
export const ADMIN = 'admin';

/** One membership change, as found in an accepted block. */
export interface MembershipEvent {
	readonly block: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	/** Index of the transaction inside its block: several changes may share a block. */
	readonly index: number;
	/** 'approve': an admin's approval of another admin's change (M-of-N networks); 'quorum': the genesis rule. */
	readonly kind: 'add' | 'revoke' | 'role' | 'approve' | 'quorum';
	readonly member: AuthorId;
	readonly role: string;
	/**
	 * Revocations, role changes and adds: the member's highest seq in the changing block's
	 * causal past (-1 when none), i.e. what the admin had seen of it. After it, a revoked
	 * member's blocks are void and a changed member's blocks are judged with the new role,
	 * whether or not they hold the change in their past. Filled in when the block is
	 * accepted (it depends on the block's past, not on the transaction alone).
	 */
	readonly cutoff?: number;
	/** 'approve' only: the change approved, as (block, index of its transaction). */
	readonly target?: { readonly block: BlockId; readonly index: number };
	/** 'quorum' only: admins who must sign a membership change (the proposer included). */
	readonly quorum?: number;
}

/** Members and their roles at some position. */
export type Roster = ReadonlyMap<AuthorId, string>;

/** Membership changes carried by an (already validated) block, in transaction order. */
export function membershipEventsOf(block: Block): MembershipEvent[] {
	const events: MembershipEvent[] = [];
	// Object literals, not spreads of a shared base: V8 takes microseconds per spread, and a
	// genesis lists every member (99 members: 1.1 ms per block with spreads, 0.02 without).
	const event = (index: number, kind: MembershipEvent['kind'], member: AuthorId, role: string) => ({
		block: block.id,
		author: block.author,
		seq: block.seq,
		clock: block.clock,
		index,
		kind,
		member,
		role
	});
	block.txs.forEach((tx, index) => {
		if (tx.t === 'genesis') {
			events.push(event(index, 'add', block.author, ADMIN));
			if (typeof tx.quorum === 'number' && tx.quorum > 1) events.push({ ...event(index, 'quorum', block.author, ''), quorum: tx.quorum });
			const members = Array.isArray(tx.members) ? tx.members : [];
			for (const m of members) {
				const entry = m as { key: Uint8Array; role: string };
				events.push(event(index, 'add', toHex(entry.key) as AuthorId, entry.role));
			}
		} else if (tx.t === 'member.add') {
			events.push(event(index, 'add', toHex(tx.key as Uint8Array) as AuthorId, tx.role as string));
		} else if (tx.t === 'member.role') {
			events.push(event(index, 'role', toHex(tx.key as Uint8Array) as AuthorId, tx.role as string));
		} else if (tx.t === 'member.approve') {
			events.push({
				...event(index, 'approve', block.author, ''),
				target: { block: toHex(tx.block as Uint8Array) as BlockId, index: tx.index as number }
			});
		} else if (tx.t === 'member.revoke') {
			events.push(event(index, 'revoke', toHex(tx.key as Uint8Array) as AuthorId, ''));
		}
	});
	return events;
}

/** Total order of events: the block order (clock, id), then position in the block. */
export function compareEvents(a: MembershipEvent, b: MembershipEvent): number {
	return a.clock - b.clock || (a.block < b.block ? -1 : a.block > b.block ? 1 : 0) || a.index - b.index;
}

/** Admins who must sign a membership change: the genesis rule, 1 when it sets none. */
export function quorumOf(events: readonly MembershipEvent[]): number {
	return events.find((e) => e.kind === 'quorum')?.quorum ?? 1;
}

type Position = Pick<MembershipEvent, 'clock' | 'block' | 'index'>;
const comparePositions = (a: Position, b: Position) =>
	a.clock - b.clock || (a.block < b.block ? -1 : a.block > b.block ? 1 : 0) || a.index - b.index;

/**
 * The membership changes in effect among the `events` that `inPast` admits, each at the
 * position where it took effect, in that order. With a quorum of M admins (genesis
 * `quorum`), a change by one admin is a proposal: it takes effect where its (M-1)-th
 * approval by another admin is (or the proposal itself, if later), and only for blocks
 * whose causal past holds the proposal and those approvals. The genesis is never a proposal.
 */
export function effectiveChanges(
	events: readonly MembershipEvent[],
	inPast: (event: MembershipEvent) => boolean
): { event: MembershipEvent; at: Position }[] {
	const quorum = quorumOf(events);
	const approvals = new Map<string, MembershipEvent[]>();
	if (quorum > 1) {
		for (const e of events) {
			if (e.kind !== 'approve' || !e.target || !inPast(e)) continue;
			const key = `${e.target.block}/${e.target.index}`;
			approvals.set(key, [...(approvals.get(key) ?? []), e]);
		}
	}
	const changes: { event: MembershipEvent; at: Position }[] = [];
	for (const e of events) {
		if (e.kind === 'approve' || e.kind === 'quorum' || !inPast(e)) continue;
		if (quorum <= 1 || e.block === genesisBlockOf(events)) {
			changes.push({ event: e, at: e });
			continue;
		}
		const seen = new Set<AuthorId>([e.author]);
		const counted: MembershipEvent[] = [];
		for (const a of [...(approvals.get(`${e.block}/${e.index}`) ?? [])].sort(comparePositions)) {
			if (seen.has(a.author)) continue;
			seen.add(a.author);
			counted.push(a);
			if (counted.length === quorum - 1) break;
		}
		if (counted.length < quorum - 1) continue;
		const last = counted[counted.length - 1]!;
		changes.push({ event: e, at: comparePositions(last, e) > 0 ? last : e });
	}
	return changes.sort((a, b) => comparePositions(a.at, b.at) || compareEvents(a.event, b.event));
}

/** The genesis block's id, from its founder event (the first event of all). */
function genesisBlockOf(events: readonly MembershipEvent[]): BlockId | undefined {
	return events.find((e) => e.seq === 0 && e.clock === 0)?.block;
}

/** The roster, and the keys ever revoked, after applying the `events` (sorted by {@link compareEvents}) that `inPast` admits. */
export function membershipOf(
	events: readonly MembershipEvent[],
	inPast: (event: MembershipEvent) => boolean
): { roster: Map<AuthorId, string>; revoked: Set<AuthorId> } {
	const roster = new Map<AuthorId, string>();
	const revoked = new Set<AuthorId>();
	for (const { event: e } of effectiveChanges(events, inPast)) {
		if (e.kind === 'revoke') {
			roster.delete(e.member);
			revoked.add(e.member);
		} else if (e.kind === 'role') {
			if (roster.has(e.member)) roster.set(e.member, e.role);
		} else if (!revoked.has(e.member)) roster.set(e.member, e.role);
	}
	return { roster, revoked };
}

/**
 * Revocation cut-offs among the `events` that `counted` admits, taken in the order the
 * revocations took effect: a revocation counts unless its own block is beyond a cut-off
 * already counted (of two admins revoking each other concurrently, the first in (clock,
 * id) order wins). `initial` seeds cut-offs known otherwise (equivocations); a member
 * revoked twice keeps the lower cut-off.
 */
export function cutoffsOf(
	events: readonly MembershipEvent[],
	counted: (event: MembershipEvent) => boolean,
	initial: ReadonlyMap<AuthorId, number> = new Map()
): Map<AuthorId, number> {
	const cutoffs = new Map(initial);
	for (const { event: e } of effectiveChanges(events, counted)) {
		if (e.kind !== 'revoke' || e.cutoff === undefined) continue;
		const authorCut = cutoffs.get(e.author);
		if (authorCut !== undefined && e.seq > authorCut) continue;
		const current = cutoffs.get(e.member);
		cutoffs.set(e.member, current === undefined ? e.cutoff : Math.min(current, e.cutoff));
	}
	return cutoffs;
}
