/** Membership use cases: found a network, join it, invites, members and admin approvals. */
export { ADMIN_ACTION, approveChange, changeRole, isAdmin, notAnAdmin, revokeMember, withdrawInvite } from './admin-actions.js';
export { addMember, addMemberProblem, type AddedMember } from './add-member.js';
export { createNetwork, foundingProblem, parseCoAdmins, type Founded, type FoundingInput } from './create-network.js';
export { createInvite, inviteInputRefusal, NO_SYNC_SETTINGS, type InviteInput, type InviteSettings } from './invite-use-cases.js';
export { approveJoin, JOIN_REFUSED_MESSAGE, joinNetwork, joinRequest, joinSettings, refuseJoin } from './join.js';
export { MembershipRefusal, type MembershipRefusalCode } from './refusal.js';
export { readMembership, type Membership, type PendingChange, type Revocation } from './roster-view.js';
