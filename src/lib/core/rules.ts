/**
 * Transaction rules: each transaction type states what a valid instance looks like and
 * which roles may sign it, judged against the roster at the block's causal position.
 * Unknown types are refused, so every node that accepts a block understood all of it.
 * A signer without a listed role is refused `NOT_AUTHORIZED`; a malformed transaction
 * `TX_INVALID`.
 */
import type { CborValue } from './codec.js';
import { ADMIN, type Roster } from './membership.js';
import type { AuthorId, Block, Tx } from './types.js';
import { toHex } from './bytes.js';

/** What a rule sees besides the transaction. */
export interface TxRuleContext {
	readonly block: Block;
	/** Members and roles at the block's causal position (before the block itself). */
	readonly roster: Roster;
	/** The block author's role. */
	readonly role: string;
	/** Keys revoked in the block's causal past (a revoked key is never a member again). */
	readonly revoked: ReadonlySet<AuthorId>;
}

export interface TxRule {
	readonly type: string;
	/** Roles that may sign this type; absent: any member. */
	readonly roles?: readonly string[];
	/** Null when valid, otherwise what is wrong, naming the field. */
	check(tx: Tx, context: TxRuleContext): string | null;
}

const ROLE = /^[a-z][a-z-]{0,31}$/;
const isKey = (v: CborValue | undefined): v is Uint8Array => v instanceof Uint8Array && v.length === 32;
const isText = (v: CborValue | undefined, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

function onlyFields(tx: Tx, allowed: readonly string[]): string | null {
	for (const key of Object.keys(tx)) if (key !== 't' && !allowed.includes(key)) return `unexpected field ${key}`;
	return null;
}

const genesis: TxRule = {
	type: 'genesis',
	check(tx, { block }) {
		if (block.net !== null) return 'genesis may only appear in the genesis block';
		const extra = onlyFields(tx, ['name', 'members', 'quorum']);
		if (extra) return extra;
		if (!isText(tx.name, 200)) return 'name: expected 1-200 characters';
		if (tx.quorum !== undefined) {
			const admins = 1 + (Array.isArray(tx.members) ? tx.members.filter((m) => (m as { role?: unknown }).role === ADMIN).length : 0);
			if (typeof tx.quorum !== 'number' || !Number.isSafeInteger(tx.quorum) || tx.quorum < 1 || tx.quorum > admins)
				return `quorum: expected 1 to ${admins} (the founding admins)`;
		}
		if (tx.members === undefined) return null;
		if (!Array.isArray(tx.members)) return 'members: expected array';
		for (const [i, m] of tx.members.entries()) {
			if (m === null || typeof m !== 'object' || Array.isArray(m) || m instanceof Uint8Array) return `members[${i}]: expected map`;
			if (!isKey(m.key)) return `members[${i}].key: expected 32-byte public key`;
			if (typeof m.role !== 'string' || !ROLE.test(m.role)) return `members[${i}].role: invalid role`;
		}
		return null;
	}
};

/**
 * Adds a member (or, for a key already a member, sets its role). `clinic` names the
 * clinic member a device belongs to; `invite` is the hash of the one-time invite token
 * the member joined with, kept for the audit trail.
 */
const memberAdd: TxRule = {
	type: 'member.add',
	roles: [ADMIN],
	check(tx, { roster, revoked }) {
		const extra = onlyFields(tx, ['key', 'role', 'name', 'clinic', 'invite']);
		if (extra) return extra;
		if (!isKey(tx.key)) return 'key: expected 32-byte public key';
		if (typeof tx.role !== 'string' || !ROLE.test(tx.role)) return 'role: invalid role';
		if (tx.name !== undefined && !isText(tx.name, 200)) return 'name: expected 1-200 characters';
		if (revoked.has(toHex(tx.key) as AuthorId)) return 'key: this key was revoked and cannot be added again; the device needs a new key';
		if (tx.clinic !== undefined) {
			if (!isKey(tx.clinic)) return 'clinic: expected 32-byte public key';
			if (!roster.has(toHex(tx.clinic) as AuthorId)) return 'clinic: not a member';
		}
		if (tx.invite !== undefined && !isKey(tx.invite)) return 'invite: expected 32-byte token hash';
		return null;
	}
};

const adminsOf = (roster: TxRuleContext['roster']) => [...roster.values()].filter((r) => r === ADMIN).length;

/** Changes a member's role. */
const memberRole: TxRule = {
	type: 'member.role',
	roles: [ADMIN],
	check(tx, { roster }) {
		const extra = onlyFields(tx, ['key', 'role']);
		if (extra) return extra;
		if (!isKey(tx.key)) return 'key: expected 32-byte public key';
		if (typeof tx.role !== 'string' || !ROLE.test(tx.role)) return 'role: invalid role';
		const target = toHex(tx.key) as AuthorId;
		const current = roster.get(target);
		if (current === undefined) return 'key: not a member';
		if (current === tx.role) return `role: already ${current}`;
		if (current === ADMIN && adminsOf(roster) === 1) return 'key: cannot demote the last admin';
		return null;
	}
};

const memberRevoke: TxRule = {
	type: 'member.revoke',
	roles: [ADMIN],
	check(tx, { roster }) {
		const extra = onlyFields(tx, ['key', 'reason']);
		if (extra) return extra;
		if (!isKey(tx.key)) return 'key: expected 32-byte public key';
		if (tx.reason !== undefined && !isText(tx.reason, 500)) return 'reason: expected 1-500 characters';
		const target = toHex(tx.key) as AuthorId;
		if (!roster.has(target)) return 'key: not a member';
		if (roster.get(target) === ADMIN && adminsOf(roster) === 1) return 'key: cannot revoke the last admin';
		return null;
	}
};

/**
 * An admin's approval of another admin's membership change, in networks whose genesis
 * sets a quorum: the change takes effect once the quorum of admins signed it. An
 * approval of something that is not a change (or the approver's own) counts for nothing.
 */
const memberApprove: TxRule = {
	type: 'member.approve',
	roles: [ADMIN],
	check(tx) {
		const extra = onlyFields(tx, ['block', 'index']);
		if (extra) return extra;
		if (!isKey(tx.block)) return 'block: expected a 32-byte block id';
		if (typeof tx.index !== 'number' || !Number.isSafeInteger(tx.index) || tx.index < 0 || tx.index > 10_000)
			return 'index: expected a transaction index';
		return null;
	}
};

/** A free-text entry: the first real transaction, used to exercise the ledger end to end. */
const note: TxRule = {
	type: 'note',
	check(tx) {
		const extra = onlyFields(tx, ['text']);
		if (extra) return extra;
		if (!isText(tx.text, 10_000)) return 'text: expected 1-10000 characters';
		return null;
	}
};

/** The transaction types the core itself understands. */
export const CORE_RULES: readonly TxRule[] = [genesis, memberAdd, memberRole, memberRevoke, memberApprove, note];
