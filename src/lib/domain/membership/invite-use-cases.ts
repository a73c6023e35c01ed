/**
 * Creating an invite: the token's hash goes on the ledger (`invite.create`), the token
 * itself only into the link, which this node signs. The link carries the network's sync
 * settings, so a node without them cannot make one.
 */
import { toHex, type AuthorId, type BlockId, type Ledger, type Signer } from '$lib/core/index.js';
import { inviteCreateTx, MAX_INVITE_DAYS, signInviteLink, type InviteLink } from '../invites.js';
import { isMemberRole, memberNameProblem } from '../members.js';
import { ADMIN_ACTION, adminAppend } from './admin-actions.js';
import { MembershipRefusal } from './refusal.js';

export { withdrawInvite } from './admin-actions.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface InviteInput {
	readonly role: string;
	/** Who the invite is for (shown to admins, at most a member name long). */
	readonly label: string;
	/** Days the invite stays valid (1 to {@link MAX_INVITE_DAYS}). */
	readonly days: number;
	/** The clinic (a member key) the invited device will belong to. */
	readonly clinic?: AuthorId | null;
}

/** What the link carries besides the invite: the network's current sync settings. */
export interface InviteSettings {
	readonly net: BlockId;
	readonly secret: string;
	readonly signaling: readonly string[];
	readonly name: string;
}

/** What is wrong with an invite form, as a refusal, or null. */
export function inviteInputRefusal(input: InviteInput): MembershipRefusal | null {
	if (!isMemberRole(input.role)) return new MembershipRefusal('INVITE_INPUT_INVALID', 'Choose the role the invited device will have.');
	if (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_INVITE_DAYS)
		return new MembershipRefusal('INVITE_INPUT_INVALID', `An invite is valid for 1 to ${MAX_INVITE_DAYS} days.`);
	const problem = memberNameProblem(input.label);
	return problem ? new MembershipRefusal('INVITE_INPUT_INVALID', problem) : null;
}

export const NO_SYNC_SETTINGS = 'This node has no sync settings, so an invite could not reach it. Set up sync first.';

/**
 * Writes the invite (one block, admins only) and returns its signed link; refused with
 * nothing written on bad input, without `settings`, for a clinic that is not a member, or
 * on a node that is not an admin.
 */
export async function createInvite(
	ledger: Ledger,
	signer: Signer,
	input: InviteInput,
	settings: InviteSettings | null,
	now = Date.now()
): Promise<InviteLink> {
	const refusal = inviteInputRefusal(input);
	if (refusal) throw refusal;
	if (!settings) throw new MembershipRefusal('NO_SYNC_SETTINGS', NO_SYNC_SETTINGS);
	const role = input.role as Parameters<typeof inviteCreateTx>[1];
	const clinic = input.clinic ?? null;
	if (clinic && !ledger.roster().has(clinic)) throw new MembershipRefusal('UNKNOWN_CLINIC', 'The clinic chosen is not a member.');
	const token = crypto.getRandomValues(new Uint8Array(32));
	const expires = now + input.days * DAY_MS;
	await adminAppend(ledger, [inviteCreateTx(token, role, expires, input.label, clinic)], ADMIN_ACTION.createInvite);
	return signInviteLink(signer, {
		net: settings.net,
		secret: settings.secret,
		signaling: settings.signaling,
		...(settings.name ? { name: settings.name } : {}),
		token: toHex(token),
		role: input.role,
		expires
	});
}
