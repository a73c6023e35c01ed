/**
 * Joining a network by a link, and an admin's answer to a join request. The joining node
 * keeps the link's settings (with the invite it asks under) before it opens an empty
 * ledger for that network: the settings are what marks the empty store as "joined, waiting
 * for the genesis". Members refuse it until an admin approves its request (`member.add`
 * naming the invite) or adds its key.
 */
import { Ledger, type Block, type BlockId, type LedgerStore, type Signer } from '$lib/core/index.js';
import { APP_LEDGER } from '../app-ledger.js';
import { approveTx, displayNameProblem, encodeJoinRequest, type InviteLink, type InviteRecord, type JoinRequest } from '../invites.js';
import type { NetworkConfig, PendingJoin } from '../network-config.js';
import type { NetworkLink } from '../network-link.js';
import { ADMIN_ACTION, adminAppend, withdrawInvite } from './admin-actions.js';
import { MembershipRefusal } from './refusal.js';

/** What a refused requester is told. */
export const JOIN_REFUSED_MESSAGE =
	'An administrator refused this join request. The invite can no longer be used; ask the clinic if this is a mistake.';

/** The settings a node keeps when it joins by `link` (and asks to be admitted with `invite`, under `displayName`). */
export function joinSettings(link: NetworkLink, invite: InviteLink | null, displayName: string, now = Date.now()): NetworkConfig {
	return {
		net: link.net,
		secret: link.secret,
		signaling: [...link.signaling],
		name: link.name ?? '',
		origin: 'joined',
		savedAt: now,
		...(invite ? { join: { token: invite.token, name: displayName.trim(), role: invite.role, expires: invite.expires } } : {})
	};
}

/**
 * Joins the network of `link`: checks the display name an invite needs, keeps the
 * settings with `save` (first), then opens the empty ledger for that network.
 */
export async function joinNetwork(
	store: LedgerStore,
	signer: Signer,
	link: NetworkLink,
	invite: InviteLink | null,
	displayName: string,
	save: (config: NetworkConfig) => Promise<void>
): Promise<{ ledger: Ledger; config: NetworkConfig }> {
	const problem = invite ? displayNameProblem(displayName) : null;
	if (problem) throw new MembershipRefusal('MEMBER_INPUT_INVALID', problem);
	const config = joinSettings(link, invite, displayName);
	await save(config);
	const ledger = await Ledger.open({ store, signer, net: link.net, ...APP_LEDGER });
	return { ledger, config };
}

/** This node's signed join request for its pending `join`, to send to the peers that refuse it. */
export function joinRequest(signer: Signer, net: BlockId, join: PendingJoin, now = Date.now()): Promise<Uint8Array> {
	return encodeJoinRequest(signer, { net, token: join.token, name: join.name, time: now });
}

/** Approves a join request: `member.add` with the invite's hash, which uses the invite up. */
export function approveJoin(ledger: Ledger, request: JoinRequest, invites: readonly InviteRecord[], inviteHashHex: string): Promise<Block> {
	const invite = invites.find((i) => i.token === inviteHashHex);
	if (!invite) throw new MembershipRefusal('UNKNOWN_INVITE', 'That invite is not in this node’s ledger.');
	return adminAppend(ledger, [approveTx(request, invite)], ADMIN_ACTION.approveJoin);
}

/** Refuses a join request: the invite is withdrawn on the ledger (the caller tells the requester {@link JOIN_REFUSED_MESSAGE}). */
export function refuseJoin(ledger: Ledger, request: JoinRequest, inviteHashHex: string): Promise<Block> {
	return withdrawInvite(ledger, inviteHashHex, `join request from “${request.name}” refused`);
}
