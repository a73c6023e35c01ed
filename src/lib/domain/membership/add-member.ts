/**
 * Adding a member by its public key (admins only): one `member.add` block. With a quorum
 * of admins the addition is a proposal until enough other admins approve it.
 */
import type { AuthorId, BlockId, Ledger } from '$lib/core/index.js';
import { isMemberRole, memberAddTx, memberKeyProblem, memberNameProblem, normalizeMemberKey } from '../members.js';
import { MembershipRefusal } from './refusal.js';

export interface AddedMember {
	readonly key: AuthorId;
	readonly role: string;
	readonly blockId: BlockId;
	/** True while the addition waits for more admins' approvals. */
	readonly pending: boolean;
}

/** What is wrong with a typed key, role and name, or null. */
export function addMemberProblem(key: string, role: string, name: string): string | null {
	return memberKeyProblem(key) ?? (isMemberRole(role) ? null : 'Choose a role.') ?? memberNameProblem(name);
}

/** Adds `key` as `role`, named `name`; refused (nothing written) on bad input, a non-admin node or a key already in that role. */
export async function addMember(ledger: Ledger, key: string, role: string, name: string): Promise<AddedMember> {
	const problem = addMemberProblem(key, role, name);
	if (problem || !isMemberRole(role)) throw new MembershipRefusal('MEMBER_INPUT_INVALID', problem ?? 'Choose a role.');
	const roster = ledger.roster();
	const self = ledger.author;
	if (!self || roster.get(self) !== 'admin')
		throw new MembershipRefusal('NOT_AN_ADMIN', 'Only an admin of the network can add members; this node is not one.');
	const normalized = normalizeMemberKey(key) as AuthorId;
	if (roster.get(normalized) === role) throw new MembershipRefusal('ALREADY_MEMBER', `This key is already a member, as ${role}.`);
	const block = await ledger.append([memberAddTx(normalized, role, name)]);
	return { key: normalized, role, blockId: block.id, pending: ledger.roster().get(normalized) !== role };
}
