/**
 * Members, invites and admin approvals as this node's ledger shows them, and the admin
 * actions on them. Each action is a use case of domain/membership/ (one block, refused
 * before anything is written when this node may not do it); this manager keeps the busy
 * flags and turns errors into text.
 */
import { describeError, type AuthorId, type BlockId, type Ledger } from '$lib/core/index.js';
import type { InviteRecord, JoinRequest } from '$lib/domain/invites.js';
import { inviteLinkUrl } from '$lib/domain/invites.js';
import type { MemberView } from '$lib/domain/members.js';
import {
	ADMIN_ACTION,
	addMember,
	approveChange,
	approveJoin,
	changeRole,
	createInvite,
	inviteInputRefusal,
	JOIN_REFUSED_MESSAGE,
	MembershipRefusal,
	NO_SYNC_SETTINGS,
	readMembership,
	refuseJoin,
	revokeMember,
	withdrawInvite,
	type AddedMember,
	type InviteSettings,
	type PendingChange,
	type Revocation
} from '$lib/domain/membership/index.js';
import type { MadeInvite, NodeContext } from './node-types.js';

export class MembersManager {
	/** Members of the network in this node's copy of the ledger. */
	#members = $state.raw<MemberView[]>([]);
	get members() {
		return this.#members;
	}
	/** This node's role in its copy of the roster; null while it is not (known to be) a member. */
	#role = $state<string | null>(null);
	get role() {
		return this.#role;
	}
	/** Invites on the ledger, newest first. */
	#invites = $state.raw<InviteRecord[]>([]);
	get invites() {
		return this.#invites;
	}
	/** Membership changes waiting for more admins' approvals (networks with a quorum). */
	#pendingChanges = $state.raw<PendingChange[]>([]);
	get pendingChanges() {
		return this.#pendingChanges;
	}
	/** Admins who must sign a membership change. */
	#quorum = $state(1);
	get quorum() {
		return this.#quorum;
	}
	/** Revoked members and the seq after which their blocks are void. */
	#revocations = $state.raw<Revocation[]>([]);
	get revocations() {
		return this.#revocations;
	}
	#addingMember = $state(false);
	get addingMember() {
		return this.#addingMember;
	}
	/** Why adding a member failed. */
	#memberError = $state<string | null>(null);
	get memberError() {
		return this.#memberError;
	}
	#lastMemberAdded = $state.raw<AddedMember | null>(null);
	get lastMemberAdded() {
		return this.#lastMemberAdded;
	}
	/** The invite made last (link and QR code shown until dismissed). */
	#lastInvite = $state.raw<MadeInvite | null>(null);
	get lastInvite() {
		return this.#lastInvite;
	}
	/** Why the last admin action (invite, approval, revocation, role change) failed. */
	#adminError = $state<string | null>(null);
	get adminError() {
		return this.#adminError;
	}
	#adminBusy = $state(false);
	get adminBusy() {
		return this.#adminBusy;
	}

	readonly #node: NodeContext;
	readonly #settings: () => InviteSettings | null;

	/** `settings`: what an invite link carries (the network's current sync settings), null without any. */
	constructor(node: NodeContext, settings: () => InviteSettings | null) {
		this.#node = node;
		this.#settings = settings;
	}

	/** Reads membership from the ledger (after every view update). */
	refresh(ledger: Ledger, founder: AuthorId | null): void {
		const read = readMembership(ledger, founder);
		this.#members = read.members;
		this.#role = read.role;
		this.#invites = read.invites;
		this.#quorum = read.quorum;
		this.#pendingChanges = read.pendingChanges;
		this.#revocations = read.revocations;
	}

	/**
	 * Adds a member (admins only): a `member.add` block signed by this node. Resolves true
	 * once the block is durable; false with {@link memberError} set otherwise.
	 */
	async addMember(key: string, role: string, name: string): Promise<boolean> {
		if (this.#addingMember) return false;
		const ledger = this.#node.ledger;
		this.#memberError = null;
		this.#addingMember = true;
		try {
			if (!ledger) throw new MembershipRefusal('NOT_AN_ADMIN', 'Create or join a network first.');
			const added = await addMember(ledger, key, role, name);
			await this.#node.settled();
			this.#lastMemberAdded = added;
			return true;
		} catch (error) {
			this.#memberError = error instanceof MembershipRefusal ? error.message : `The member was not added: ${describeError(error)}`;
			return false;
		} finally {
			this.#addingMember = false;
		}
	}

	/** Runs an admin use case on the open ledger; false with {@link adminError} set when refused or failed. */
	async #admin(what: string, run: (ledger: Ledger) => Promise<unknown>): Promise<boolean> {
		this.#adminError = null;
		if (this.#adminBusy) return false;
		const ledger = this.#node.ledger;
		if (!ledger) {
			this.#adminError = `Only an admin of the network can do this; this node is not one. ${what} was not done.`;
			return false;
		}
		this.#adminBusy = true;
		try {
			await run(ledger);
			await this.#node.settled();
			return true;
		} catch (error) {
			this.#adminError = error instanceof MembershipRefusal ? error.message : `${what} failed: ${describeError(error)}`;
			return false;
		} finally {
			this.#adminBusy = false;
		}
	}

	/**
	 * Creates an invite: its token's hash goes on the ledger (`invite.create`), the token
	 * itself only into the link, which this node signs. Shown in {@link lastInvite}.
	 */
	createInvite(role: string, label: string, days: number, clinic: AuthorId | null = null): Promise<boolean> {
		const input = { role, label, days, clinic };
		const signer = this.#node.signer;
		if (!signer) {
			this.#adminError = inviteInputRefusal(input)?.message ?? NO_SYNC_SETTINGS;
			return Promise.resolve(false);
		}
		return this.#admin(ADMIN_ACTION.createInvite, async (ledger) => {
			const link = await createInvite(ledger, signer, input, this.#settings());
			this.#lastInvite = { url: inviteLinkUrl(new URL('/', location.href).href, link), role, label: label.trim(), expires: link.expires };
		});
	}

	/** Hides the invite made last (its link and QR code). */
	dismissInvite(): void {
		this.#lastInvite = null;
	}

	/** Withdraws an invite (`invite.revoke`): its link can no longer admit anyone. */
	withdrawInvite(tokenHashHex: string, reason: string): Promise<boolean> {
		return this.#admin(ADMIN_ACTION.withdrawInvite, (ledger) => withdrawInvite(ledger, tokenHashHex, reason));
	}

	/** Approves a join request: `member.add` with the invite's hash, which uses the invite up. */
	approveJoin(request: JoinRequest, inviteHashHex: string): Promise<boolean> {
		return this.#admin(ADMIN_ACTION.approveJoin, (ledger) => approveJoin(ledger, request, this.#invites, inviteHashHex));
	}

	/** Refuses a join request: the invite is withdrawn on the ledger and the requester told. */
	async refuseJoin(request: JoinRequest, inviteHashHex: string): Promise<boolean> {
		const ok = await this.#admin(ADMIN_ACTION.withdrawInvite, (ledger) => refuseJoin(ledger, request, inviteHashHex));
		if (ok) this.#node.sync?.refuseJoin?.(request.key, JOIN_REFUSED_MESSAGE);
		return ok;
	}

	/** Approves another admin's proposed membership change (networks with a quorum). */
	approveChange(block: BlockId, index: number): Promise<boolean> {
		return this.#admin(ADMIN_ACTION.approveChange, (ledger) => approveChange(ledger, block, index));
	}

	/** Revokes a member: its blocks after what this node has seen of it are void on every node. */
	revokeMember(key: AuthorId, reason: string): Promise<boolean> {
		return this.#admin(ADMIN_ACTION.revokeMember, (ledger) => revokeMember(ledger, key, reason));
	}

	/** Changes a member's role from now on (its earlier blocks keep the role they were written under). */
	changeRole(key: AuthorId, role: string): Promise<boolean> {
		return this.#admin(ADMIN_ACTION.changeRole, (ledger) => changeRole(ledger, key, role));
	}
}
