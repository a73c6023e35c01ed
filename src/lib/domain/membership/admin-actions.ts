/**
 * The membership changes only an admin may sign: withdraw an invite, approve a proposed
 * change, revoke a member, change a role. Each is one block appended by `ledger`'s own
 * signer, refused with a {@link MembershipRefusal} (nothing written) when this node is not
 * an admin of its copy of the roster.
 */
import { fromHex, type AuthorId, type Block, type BlockId, type Ledger, type Tx } from '$lib/core/index.js';
import { isMemberRole } from '../members.js';
import { MembershipRefusal } from './refusal.js';

/** What each admin action is called in messages ("… was not done", "… failed"). */
export const ADMIN_ACTION = {
	createInvite: 'Creating the invite',
	withdrawInvite: 'Withdrawing the invite',
	approveJoin: 'Approving the request',
	approveChange: 'Approving the change',
	revokeMember: 'Revoking the member',
	changeRole: 'Changing the role'
} as const;

/** The refusal given to a node that is not an admin (or holds no ledger) for `what`. */
export function notAnAdmin(what: string): MembershipRefusal {
	return new MembershipRefusal('NOT_AN_ADMIN', `Only an admin of the network can do this; this node is not one. ${what} was not done.`);
}

/** True when `ledger`'s own author is an admin in its copy of the roster. */
export function isAdmin(ledger: Ledger): boolean {
	return !!ledger.author && ledger.roster().get(ledger.author) === 'admin';
}

/** Appends `txs` as one block, after checking that this node is an admin. */
export async function adminAppend(ledger: Ledger, txs: Tx[], what: string): Promise<Block> {
	if (!isAdmin(ledger)) throw notAnAdmin(what);
	return ledger.append(txs);
}

const withReason = (reason: string): { reason?: string } => (reason.trim() ? { reason: reason.trim() } : {});

/** Withdraws an invite (`invite.revoke`): its link can no longer admit anyone. */
export function withdrawInvite(ledger: Ledger, tokenHashHex: string, reason = ''): Promise<Block> {
	return adminAppend(ledger, [{ t: 'invite.revoke', token: fromHex(tokenHashHex), ...withReason(reason) }], ADMIN_ACTION.withdrawInvite);
}

/** Approves another admin's proposed membership change (networks with a quorum). */
export function approveChange(ledger: Ledger, block: BlockId, index: number): Promise<Block> {
	return adminAppend(ledger, [{ t: 'member.approve', block: fromHex(block), index }], ADMIN_ACTION.approveChange);
}

/** Revokes a member: its blocks after what this node has seen of it are void on every node. */
export function revokeMember(ledger: Ledger, key: AuthorId, reason = ''): Promise<Block> {
	return adminAppend(ledger, [{ t: 'member.revoke', key: fromHex(key), ...withReason(reason) }], ADMIN_ACTION.revokeMember);
}

/** Changes a member's role from now on (its earlier blocks keep the role they were written under). */
export async function changeRole(ledger: Ledger, key: AuthorId, role: string): Promise<Block> {
	if (!isMemberRole(role)) throw new MembershipRefusal('MEMBER_INPUT_INVALID', 'Choose a role.');
	return adminAppend(ledger, [{ t: 'member.role', key: fromHex(key), role }], ADMIN_ACTION.changeRole);
}
