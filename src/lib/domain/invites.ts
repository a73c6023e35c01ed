/**
 * Invitations: how a new device joins a clinic network without anyone typing keys.
 *
 * 1. An admin creates an invite: a one-time token (32 random bytes) whose hash goes on
 *    the ledger in an `invite.create` transaction (role, expiry, label), so every admin
 *    device of the network knows it. The link carries the token itself, the network id,
 *    room secret and signaling URLs in its `#invite=` fragment (never sent to a server),
 *    signed by the admin so a changed link is detected before anything happens.
 * 2. The invitee opens it, chooses a display name and its node sends a signed join
 *    request (token, name, its key) over the sync link to the peers that refuse it as a
 *    non-member (`join` message, see docs/protocol.md).
 * 3. A member node checks the request against its copy of the ledger (unknown, revoked,
 *    used or expired invites are refused with a clear answer); an admin sees the pending
 *    request and approves (`member.add` with the invite's hash: the invite is used) or
 *    refuses it (`invite.revoke`: nobody can use that link again).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
	ADMIN,
	decodeCanonical,
	encodeCanonical,
	fromHex,
	toHex,
	type AuthorId,
	type Block,
	type BlockId,
	type CborValue,
	type Fold,
	type Roster,
	type Signer,
	type Tx,
	type TxRule
} from '$lib/core/index.js';
import { checkNetworkLink, InviteError, type NetworkLink } from './network-link.js';
import { isMemberRole, MEMBER_NAME_MAX_CHARS, type MemberRole } from './members.js';

const enc = new TextEncoder();
const LINK_DOMAIN = enc.encode('clinic-ledger/invite-link/v1');
const JOIN_DOMAIN = enc.encode('clinic-ledger/join-request/v1');
const TOKEN_DOMAIN = enc.encode('clinic-ledger/invite-token/v1');
const FRAGMENT_KEY = 'invite';
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
/** Longest an invite may stay valid. */
export const MAX_INVITE_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What goes on the ledger: the token's hash, never the token. */
export function tokenHash(token: Uint8Array): Uint8Array {
	return sha256(new Uint8Array([...TOKEN_DOMAIN, ...token]));
}

function withDomain(domain: Uint8Array, value: CborValue): Uint8Array {
	const body = encodeCanonical(value);
	const out = new Uint8Array(domain.length + body.length);
	out.set(domain);
	out.set(body, domain.length);
	return out;
}

// ---- Ledger: invite.create / invite.revoke and the invites fold ----------------------

const onlyFields = (tx: Tx, allowed: readonly string[]) => Object.keys(tx).find((k) => k !== 't' && !allowed.includes(k));
const isHash = (v: CborValue | undefined): v is Uint8Array => v instanceof Uint8Array && v.length === 32;

export const inviteCreateRule: TxRule = {
	type: 'invite.create',
	roles: [ADMIN],
	check(tx, { block }) {
		const extra = onlyFields(tx, ['token', 'role', 'expires', 'label', 'clinic']);
		if (extra) return `unexpected field ${extra}`;
		if (!isHash(tx.token)) return 'token: expected the 32-byte token hash';
		if (typeof tx.role !== 'string' || !isMemberRole(tx.role)) return 'role: not a member role';
		if (typeof tx.expires !== 'number' || !Number.isSafeInteger(tx.expires) || tx.expires <= block.time)
			return 'expires: expected a time after the block';
		if (tx.expires - block.time > MAX_INVITE_DAYS * DAY_MS) return `expires: at most ${MAX_INVITE_DAYS} days after the block`;
		if (tx.label !== undefined && (typeof tx.label !== 'string' || tx.label.length > MEMBER_NAME_MAX_CHARS))
			return `label: at most ${MEMBER_NAME_MAX_CHARS} characters`;
		if (tx.clinic !== undefined && !isHash(tx.clinic)) return 'clinic: expected a 32-byte member key';
		return null;
	}
};

export const inviteRevokeRule: TxRule = {
	type: 'invite.revoke',
	roles: [ADMIN],
	check(tx) {
		const extra = onlyFields(tx, ['token', 'reason']);
		if (extra) return `unexpected field ${extra}`;
		if (!isHash(tx.token)) return 'token: expected the 32-byte token hash';
		if (tx.reason !== undefined && (typeof tx.reason !== 'string' || tx.reason.length > 500)) return 'reason: at most 500 characters';
		return null;
	}
};

/** One invite as the ledger knows it. */
export interface InviteRecord {
	/** Hex of the token hash. */
	readonly token: string;
	readonly role: string;
	readonly expires: number;
	readonly label: string | null;
	/** The clinic (member key) the invited device will belong to, if any. */
	readonly clinic: AuthorId | null;
	readonly by: AuthorId;
	readonly block: BlockId;
	readonly createdAt: number;
	/** Key that joined with it (first `member.add` naming it), if any. */
	usedBy: AuthorId | null;
	revoked: { by: AuthorId; reason: string | null } | null;
}

export type Invites = Record<string, InviteRecord>;

/** Invites by token hash, in ledger order (registered by every app node). */
export const invitesFold: Fold<Invites> = {
	name: 'invites',
	version: 1,
	affectedBy: (type) => type === 'invite.create' || type === 'invite.revoke' || type === 'member.add',
	init: () => ({}),
	apply(state, block: Block) {
		for (const tx of block.txs) {
			if (tx.t === 'invite.create' && tx.token instanceof Uint8Array) {
				const token = toHex(tx.token);
				if (state[token]) continue; // the first creation counts
				state[token] = {
					token,
					role: tx.role as string,
					expires: tx.expires as number,
					label: typeof tx.label === 'string' ? tx.label : null,
					clinic: tx.clinic instanceof Uint8Array ? (toHex(tx.clinic) as AuthorId) : null,
					by: block.author,
					block: block.id,
					createdAt: block.time,
					usedBy: null,
					revoked: null
				};
			} else if (tx.t === 'invite.revoke' && tx.token instanceof Uint8Array) {
				const record = state[toHex(tx.token)];
				if (record && !record.revoked) record.revoked = { by: block.author, reason: typeof tx.reason === 'string' ? tx.reason : null };
			} else if (tx.t === 'member.add' && tx.invite instanceof Uint8Array && tx.key instanceof Uint8Array) {
				const record = state[toHex(tx.invite)];
				if (record && !record.usedBy) record.usedBy = toHex(tx.key) as AuthorId;
			}
		}
		return state;
	},
	encode: (state) =>
		Object.fromEntries(
			Object.entries(state).map(([k, r]) => [
				k,
				{
					...r,
					label: r.label ?? undefined,
					clinic: r.clinic ?? undefined,
					usedBy: r.usedBy ?? undefined,
					revoked: r.revoked ? { by: r.revoked.by, reason: r.revoked.reason ?? undefined } : undefined
				}
			])
		) as unknown as CborValue,
	decode: (value) =>
		Object.fromEntries(
			Object.entries(value as Record<string, Record<string, unknown>>).map(([k, r]) => [
				k,
				{
					...(r as unknown as InviteRecord),
					label: (r.label as string | undefined) ?? null,
					clinic: (r.clinic as AuthorId | undefined) ?? null,
					usedBy: (r.usedBy as AuthorId | undefined) ?? null,
					revoked: r.revoked
						? { by: (r.revoked as { by: AuthorId }).by, reason: ((r.revoked as { reason?: string }).reason ?? null) as string | null }
						: null
				}
			])
		)
};

/** Why an invite cannot be used now, for the person holding the link; null when it can. */
export function inviteProblem(record: InviteRecord | undefined, key: AuthorId, now: number): string | null {
	if (!record)
		return 'This invite is not in the clinic’s ledger: the link is not from this network, or the clinic that made it has not synced it yet.';
	if (record.revoked)
		return `This invite was withdrawn by the clinic${record.revoked.reason ? ` (${record.revoked.reason})` : ''}. Ask the clinic for a new one.`;
	if (record.usedBy && record.usedBy !== key)
		return 'This invite has already been used. Each invite admits one device; ask the clinic for a new one.';
	if (now > record.expires)
		return `This invite expired on ${new Date(record.expires).toISOString().slice(0, 16).replace('T', ' ')} UTC. Ask the clinic for a new one.`;
	return null;
}

/** The `invite.create` transaction for a fresh token. */
export function inviteCreateTx(token: Uint8Array, role: MemberRole, expires: number, label: string, clinic?: AuthorId | null): Tx {
	const trimmed = label.trim();
	return {
		t: 'invite.create',
		token: tokenHash(token),
		role,
		expires,
		...(trimmed ? { label: trimmed } : {}),
		...(clinic ? { clinic: fromHex(clinic) } : {})
	};
}

// ---- The link -------------------------------------------------------------------------

/** An invite link's content: the network link plus the one-time token, signed by the admin. */
export interface InviteLink extends NetworkLink {
	/** The token (hex, 32 bytes): whoever holds the link holds it. */
	readonly token: string;
	readonly role: string;
	readonly expires: number;
	/** The admin who made it. */
	readonly by: AuthorId;
	/** ed25519 signature (hex) of `by` over everything above. */
	readonly sig: string;
}

function linkSigningBytes(invite: Omit<InviteLink, 'sig'>): Uint8Array {
	return withDomain(LINK_DOMAIN, {
		net: invite.net,
		secret: invite.secret,
		signaling: [...invite.signaling],
		name: invite.name ?? '',
		token: invite.token,
		role: invite.role,
		expires: invite.expires,
		by: invite.by
	});
}

/** Signs an invite link with the admin's key. */
export async function signInviteLink(signer: Signer, invite: Omit<InviteLink, 'sig' | 'by'>): Promise<InviteLink> {
	const unsigned = { ...invite, by: toHex(signer.publicKey) as AuthorId };
	return { ...unsigned, sig: toHex(await signer.sign(linkSigningBytes(unsigned))) };
}

export function inviteLinkUrl(appUrl: string, invite: InviteLink): string {
	const base = appUrl.split('#')[0];
	const json = JSON.stringify(invite);
	const b64 = btoa(String.fromCharCode(...enc.encode(json)))
		.replace(/\+/g, '-')
		.replace(/\//g, '_')
		.replace(/=+$/, '');
	return `${base}#${FRAGMENT_KEY}=${b64}`;
}

/** True when the URL (or fragment) is an invite link. */
export function isInviteLink(urlOrFragment: string): boolean {
	const fragment = urlOrFragment.includes('#') ? urlOrFragment.slice(urlOrFragment.indexOf('#') + 1) : urlOrFragment;
	return new URLSearchParams(fragment).has(FRAGMENT_KEY);
}

const TAMPERED =
	'This invite link was changed or damaged (its signature does not match), so it was not used. Ask the clinic to send the link again.';

/**
 * Reads and checks an invite link, signature included. Throws {@link InviteError} with a
 * message for the person who opened it; nothing is stored before this succeeds.
 */
export async function parseInviteLink(
	urlOrFragment: string,
	verify: (sig: Uint8Array, message: Uint8Array, key: Uint8Array) => Promise<boolean>
): Promise<InviteLink> {
	const fragment = urlOrFragment.includes('#') ? urlOrFragment.slice(urlOrFragment.indexOf('#') + 1) : urlOrFragment;
	const payload = new URLSearchParams(fragment).get(FRAGMENT_KEY);
	if (!payload) throw new InviteError('this is not an invite link (no #invite=… part)');
	let value: Record<string, unknown>;
	try {
		const padded = payload.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (payload.length % 4)) % 4);
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))));
	} catch {
		throw new InviteError(TAMPERED);
	}
	if (!value || typeof value !== 'object') throw new InviteError(TAMPERED);
	let network: NetworkLink;
	try {
		network = checkNetworkLink(value);
	} catch {
		throw new InviteError(TAMPERED);
	}
	const { token, role, expires, by, sig } = value;
	if (
		typeof token !== 'string' ||
		!HEX64.test(token) ||
		typeof role !== 'string' ||
		!isMemberRole(role) ||
		typeof expires !== 'number' ||
		!Number.isSafeInteger(expires)
	)
		throw new InviteError(TAMPERED);
	if (typeof by !== 'string' || !HEX64.test(by) || typeof sig !== 'string' || !HEX128.test(sig)) throw new InviteError(TAMPERED);
	const invite: InviteLink = { ...network, token, role, expires, by: by as AuthorId, sig };
	if (!(await verify(fromHex(sig), linkSigningBytes(invite), fromHex(by)))) throw new InviteError(TAMPERED);
	return invite;
}

// ---- Join requests and answers ----------------------------------------------------------

/** A signed request to join, sent by the invitee's node over the sync link. */
export interface JoinRequest {
	readonly net: BlockId;
	/** The invite token (hex), proving the sender holds the link. */
	readonly token: string;
	/** Display name chosen by the invitee. */
	readonly name: string;
	readonly key: AuthorId;
	readonly time: number;
}

function joinSigningBytes(r: JoinRequest): Uint8Array {
	return withDomain(JOIN_DOMAIN, { net: r.net, token: r.token, name: r.name, key: r.key, time: r.time });
}

/** What is wrong with a display name typed by an invitee, or null. */
export function displayNameProblem(name: string): string | null {
	const trimmed = name.trim();
	if (trimmed === '') return 'Enter a display name so the clinic knows who is asking to join (e.g. “Front desk, Riverside clinic”).';
	if (trimmed.length > MEMBER_NAME_MAX_CHARS)
		return `The name is ${trimmed.length} characters long; the limit is ${MEMBER_NAME_MAX_CHARS}.`;
	return null;
}

export async function encodeJoinRequest(signer: Signer, request: Omit<JoinRequest, 'key'>): Promise<Uint8Array> {
	const full: JoinRequest = { ...request, name: request.name.trim(), key: toHex(signer.publicKey) as AuthorId };
	const sig = await signer.sign(joinSigningBytes(full));
	return encodeCanonical({ v: 1, ...full, sig });
}

/** Decodes and verifies a join request; throws with a reason when it is not a valid one for `net`. */
export async function decodeJoinRequest(
	bytes: Uint8Array,
	net: BlockId,
	verify: (sig: Uint8Array, message: Uint8Array, key: Uint8Array) => Promise<boolean>
): Promise<JoinRequest> {
	const v = decodeCanonical(bytes) as Record<string, CborValue>;
	if (!v || typeof v !== 'object' || v.v !== 1) throw new InviteError('not a join request', 'JOIN_INVALID');
	const { token, name, key, time, sig } = v;
	if (v.net !== net) throw new InviteError('join request for another network', 'JOIN_INVALID');
	if (typeof token !== 'string' || !HEX64.test(token) || typeof key !== 'string' || !HEX64.test(key))
		throw new InviteError('join request: bad token or key', 'JOIN_INVALID');
	if (typeof name !== 'string' || displayNameProblem(name) || typeof time !== 'number' || !(sig instanceof Uint8Array) || sig.length !== 64)
		throw new InviteError('join request: bad fields', 'JOIN_INVALID');
	const request: JoinRequest = { net, token, name, key: key as AuthorId, time };
	if (!(await verify(sig, joinSigningBytes(request), fromHex(key))))
		throw new InviteError('join request: signature does not verify', 'JOIN_INVALID');
	return request;
}

/** A member node's answer to a join request. */
export interface JoinReply {
	readonly status: 'pending' | 'refused';
	readonly message: string;
}

export const encodeJoinReply = (reply: JoinReply): Uint8Array => encodeCanonical({ ...reply });

export function decodeJoinReply(bytes: Uint8Array): JoinReply {
	const v = decodeCanonical(bytes) as Record<string, CborValue>;
	if (!v || (v.status !== 'pending' && v.status !== 'refused') || typeof v.message !== 'string' || v.message.length > 1000)
		throw new InviteError('not a join reply', 'JOIN_INVALID');
	return { status: v.status, message: v.message };
}

/** How a member node answers a join request from its copy of the ledger: refused (with the reason for the invitee) or pending (an admin decides). */
export function judgeJoinRequest(
	request: JoinRequest,
	invites: Invites,
	roster: Roster,
	revoked: ReadonlyMap<AuthorId, number>,
	now: number
): JoinReply & { invite?: InviteRecord } {
	if (revoked.has(request.key))
		return {
			status: 'refused',
			message: 'This device’s key was revoked from the network; it cannot join again. Reset the app on that device to get a new key.'
		};
	if (roster.has(request.key)) return { status: 'refused', message: 'This device is already a member.' };
	const record = invites[toHex(tokenHash(fromHex(request.token)))];
	const problem = inviteProblem(record, request.key, now);
	if (problem) return { status: 'refused', message: problem };
	return {
		status: 'pending',
		message: 'Your request has reached the clinic. An administrator must approve it; this page updates by itself once they do.',
		invite: record!
	};
}

/** The `member.add` that approves a request made with `invite`. */
export function approveTx(request: JoinRequest, invite: Pick<InviteRecord, 'token' | 'role' | 'clinic'>): Tx {
	return {
		t: 'member.add',
		key: fromHex(request.key),
		role: invite.role,
		name: request.name,
		invite: fromHex(invite.token),
		...(invite.clinic ? { clinic: fromHex(invite.clinic) } : {})
	};
}
