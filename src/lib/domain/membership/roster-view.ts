/**
 * Membership as this node's copy of the ledger shows it: members with their names and
 * clinics, this node's role, invites, the quorum, changes waiting for approvals and
 * revocations. Plain data read from the ledger, for the members screen and the peer.
 */
import type { AuthorId, BlockId, Ledger } from '$lib/core/index.js';
import type { InviteRecord, Invites } from '../invites.js';
import { memberViews, type MemberClinics, type MemberNames, type MemberView } from '../members.js';

/** A membership change waiting for more admins' approvals (networks with a quorum). */
export interface PendingChange {
	readonly block: BlockId;
	readonly index: number;
	readonly kind: string;
	readonly member: AuthorId;
	readonly role: string;
	readonly approvedBy: AuthorId[];
}

/** A revoked member and the seq after which its blocks are void. */
export interface Revocation {
	readonly key: AuthorId;
	readonly cutoff: number;
	readonly name: string | null;
}

export interface Membership {
	readonly members: MemberView[];
	/** This node's role; null while it is not (known to be) a member. */
	readonly role: string | null;
	/** Invites on the ledger, newest first. */
	readonly invites: InviteRecord[];
	readonly quorum: number;
	readonly pendingChanges: PendingChange[];
	readonly revocations: Revocation[];
}

/** Reads membership from `ledger`; `founder` is the genesis author when known. */
export function readMembership(ledger: Ledger, founder: AuthorId | null): Membership {
	const state = ledger.state();
	const roster = ledger.roster();
	const names = (state['member-names'] ?? {}) as MemberNames;
	return {
		members: memberViews(roster, names, founder, (state['member-clinics'] ?? {}) as MemberClinics),
		role: (ledger.author && roster.get(ledger.author)) ?? null,
		invites: Object.values((state.invites ?? {}) as Invites)
			.map((i) => ({ ...i }))
			.sort((a, b) => b.createdAt - a.createdAt),
		quorum: ledger.quorum,
		pendingChanges: ledger.pendingChanges().map(({ event, approvedBy }) => ({
			block: event.block,
			index: event.index,
			kind: event.kind,
			member: event.member,
			role: event.role,
			approvedBy
		})),
		revocations: [...ledger.revocations()].map(([key, cutoff]) => ({ key, cutoff, name: names[key] ?? null }))
	};
}
