/**
 * Members of a clinic network, as the app shows and adds them. Who may write is the
 * core's business (causal roster, `member.add` signed by an admin); this module gives the
 * roles a name, checks what a person types before it becomes a transaction, and keeps
 * the optional member names (the core roster holds keys and roles only) in a fold.
 */
import { fromHex, toHex, type AuthorId, type Block, type Fold, type Tx } from '$lib/core/index.js';

/** Roles an admin can give, in the order the form offers them. */
export const MEMBER_ROLES = ['clinician', 'front-desk', 'billing', 'payer', 'researcher', 'patient', 'admin', 'peer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const MEMBER_NAME_MAX_CHARS = 200;
const HEX64 = /^[0-9a-f]{64}$/;

/** A public key as typed or pasted: spaces removed, lower case. */
export function normalizeMemberKey(text: string): string {
	return text.replace(/\s+/g, '').toLowerCase();
}

/** What is wrong with a typed public key, or null when it is 64 hex characters. */
export function memberKeyProblem(text: string): string | null {
	const key = normalizeMemberKey(text);
	if (key === '') return 'Enter the public key of the node to add (64 hexadecimal characters, shown on that node’s screen).';
	if (!/^[0-9a-f]*$/.test(key)) return 'A public key has only the characters 0-9 and a-f.';
	if (!HEX64.test(key)) return `A public key is 64 characters long; this one has ${key.length}.`;
	return null;
}

/** What is wrong with an optional member name, or null. */
export function memberNameProblem(name: string): string | null {
	const trimmed = name.trim();
	if (trimmed.length > MEMBER_NAME_MAX_CHARS)
		return `The name is ${trimmed.length} characters long; the limit is ${MEMBER_NAME_MAX_CHARS}.`;
	return null;
}

export function isMemberRole(role: string): role is MemberRole {
	return (MEMBER_ROLES as readonly string[]).includes(role);
}

/** The `member.add` transaction for a checked key, role and optional name. */
export function memberAddTx(key: string, role: MemberRole, name: string): Tx {
	const trimmed = name.trim();
	return { t: 'member.add', key: fromHex(normalizeMemberKey(key)), role, ...(trimmed ? { name: trimmed } : {}) };
}

/** Names of members by key: the founder gets the network's name, `member.add` names the others (the latest wins). */
export type MemberNames = Record<string, string>;

/** Fold of member names, in ledger order, registered by every app node (browser and peer alike may). */
export const memberNamesFold: Fold<MemberNames> = {
	name: 'member-names',
	version: 1,
	affectedBy: (type) => type === 'genesis' || type === 'member.add',
	init: () => ({}),
	apply(state, block: Block) {
		for (const tx of block.txs) {
			// The founding clinic is known by the network's name until an admin names it otherwise.
			if (tx.t === 'genesis' && typeof tx.name === 'string') state[block.author] = tx.name;
			if (tx.t === 'member.add' && tx.key instanceof Uint8Array && typeof tx.name === 'string') {
				state[toHex(tx.key)] = tx.name;
			}
		}
		return state;
	},
	encode: (state) => ({ ...state }),
	decode: (value) => ({ ...(value as MemberNames) })
};

/** The clinic each device belongs to (`member.add` with `clinic`), by device key; the latest wins. */
export type MemberClinics = Record<string, string>;

export const memberClinicsFold: Fold<MemberClinics> = {
	name: 'member-clinics',
	version: 1,
	affectedBy: (type) => type === 'member.add',
	init: () => ({}),
	apply(state, block: Block) {
		for (const tx of block.txs) {
			if (tx.t === 'member.add' && tx.key instanceof Uint8Array && tx.clinic instanceof Uint8Array) state[toHex(tx.key)] = toHex(tx.clinic);
		}
		return state;
	},
	encode: (state) => ({ ...state }),
	decode: (value) => ({ ...(value as MemberClinics) })
};

/** One member as the members list shows it. */
export interface MemberView {
	readonly key: AuthorId;
	readonly role: string;
	readonly name: string | null;
	readonly founder: boolean;
	/** The clinic this device belongs to, when it was added as one of its devices. */
	readonly clinic: AuthorId | null;
}

/** The members list: roster entries with their names, founder first, then by name and key. */
export function memberViews(
	roster: ReadonlyMap<AuthorId, string>,
	names: MemberNames,
	founder: AuthorId | null,
	clinics: MemberClinics = {}
): MemberView[] {
	return [...roster.entries()]
		.map(([key, role]) => ({
			key,
			role,
			name: names[key] ?? null,
			founder: key === founder,
			clinic: (clinics[key] as AuthorId | undefined) ?? null
		}))
		.sort(
			(a, b) => Number(b.founder) - Number(a.founder) || (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || (a.key < b.key ? -1 : 1)
		);
}
