/**
 * Transaction rules: each transaction type states what a valid instance looks like and
 * who may sign it, judged against the roster at the block's causal position. Unknown
 * types are refused, so every node that accepts a block understood all of it.
 */
import type { CborValue } from './codec.js';
import { ADMIN, type Roster } from './membership.js';
import type { Block, Tx } from './types.js';
import { toHex } from './bytes.js';

/** What a rule sees besides the transaction. */
export interface TxRuleContext {
	readonly block: Block;
	/** Members and roles at the block's causal position (before the block itself). */
	readonly roster: Roster;
	/** The block author's role. */
	readonly role: string;
}

export interface TxRule {
	readonly type: string;
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
		const extra = onlyFields(tx, ['name', 'members']);
		if (extra) return extra;
		if (!isText(tx.name, 200)) return 'name: expected 1-200 characters';
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

const memberAdd: TxRule = {
	type: 'member.add',
	check(tx, { role }) {
		if (role !== ADMIN) return 'only an admin may add members';
		const extra = onlyFields(tx, ['key', 'role', 'name']);
		if (extra) return extra;
		if (!isKey(tx.key)) return 'key: expected 32-byte public key';
		if (typeof tx.role !== 'string' || !ROLE.test(tx.role)) return 'role: invalid role';
		if (tx.name !== undefined && !isText(tx.name, 200)) return 'name: expected 1-200 characters';
		return null;
	}
};

const memberRevoke: TxRule = {
	type: 'member.revoke',
	check(tx, { role, roster }) {
		if (role !== ADMIN) return 'only an admin may revoke members';
		const extra = onlyFields(tx, ['key', 'reason']);
		if (extra) return extra;
		if (!isKey(tx.key)) return 'key: expected 32-byte public key';
		const target = toHex(tx.key);
		if (!roster.has(target as never)) return 'key: not a member';
		const admins = [...roster.values()].filter((r) => r === ADMIN).length;
		if (roster.get(target as never) === ADMIN && admins === 1) return 'key: cannot revoke the last admin';
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
export const CORE_RULES: readonly TxRule[] = [genesis, memberAdd, memberRevoke, note];
