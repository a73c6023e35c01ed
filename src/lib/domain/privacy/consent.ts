/**
 * Consent: grants signed by the patient's own key, whoever's node writes them to the
 * ledger (the patient's device, or a clinic scanning the patient's key card). A grant
 * names the grantee (a member key), the categories, the purpose and an expiry; a
 * revocation names the grant. The signature is inside the transaction, so every node
 * checks it is the patient's, not only the block author's.
 */
import {
	CodedError,
	decodeCanonical,
	encodeCanonical,
	fromHex,
	toHex,
	verifyNoble,
	type CborValue,
	type Tx,
	type TxRule
} from '$lib/core/index.js';
import { isCategory, type Category } from './envelope.js';

export const PURPOSES = ['treatment', 'payment', 'operations', 'research'] as const;
export type Purpose = (typeof PURPOSES)[number];

const GRANT_DOMAIN = new TextEncoder().encode('clinic-ledger/consent-grant/v1');
const REVOKE_DOMAIN = new TextEncoder().encode('clinic-ledger/consent-revoke/v1');
const MAX_GRANT_DAYS = 5 * 366;
const DAY = 86_400_000;

/** A patient's permission for one reader, as signed. */
export interface Grant {
	/** Random id (hex, 16 bytes). */
	readonly id: string;
	/** Patient key (hex ed25519). */
	readonly patient: string;
	/** Member key (hex) allowed to read. */
	readonly grantee: string;
	readonly categories: readonly Category[];
	readonly purpose: Purpose;
	/** ms since the epoch; the grant is void after it. */
	readonly expires: number;
	readonly issued: number;
	/** The access request (hex id) this grant answers, if any. */
	readonly request?: string;
}

function grantBody(g: Grant): CborValue {
	return {
		id: g.id,
		patient: g.patient,
		grantee: g.grantee,
		categories: [...g.categories].sort(),
		purpose: g.purpose,
		expires: g.expires,
		issued: g.issued,
		...(g.request ? { request: g.request } : {})
	};
}

const withDomain = (domain: Uint8Array, value: CborValue) => new Uint8Array([...domain, ...encodeCanonical(value)]);

/** What the patient signs for a grant. */
export const grantMessage = (g: Grant) => withDomain(GRANT_DOMAIN, grantBody(g));
/** What the patient signs to revoke grant `id`. */
export const revokeMessage = (patient: string, id: string, time: number) => withDomain(REVOKE_DOMAIN, { patient, id, time });

/** The `consent.grant` transaction, with the patient's signature over {@link grantMessage}. */
export function grantTx(grant: Grant, signature: Uint8Array): Tx {
	return { t: 'consent.grant', grant: encodeCanonical(grantBody(grant)), sig: signature };
}

/** The `consent.revoke` transaction, with the patient's signature over {@link revokeMessage}. */
export function revokeGrantTx(patient: string, id: string, time: number, signature: Uint8Array): Tx {
	return { t: 'consent.revoke', patient: fromHex(patient), id: fromHex(id), time, sig: signature };
}

/** A `consent.grant` whose grant or signature does not check: code `GRANT_INVALID`. */
export class GrantError extends CodedError {
	override readonly name = 'GrantError';
	constructor(message: string) {
		super('GRANT_INVALID', message);
	}
}

/** The grant carried by a `consent.grant` transaction, checked (signature included); throws a {@link GrantError} with why not. */
export function grantOf(tx: Tx): Grant {
	if (!(tx.grant instanceof Uint8Array) || !(tx.sig instanceof Uint8Array) || tx.sig.length !== 64)
		throw new GrantError('grant and sig: expected bytes');
	const v = decodeCanonical(tx.grant) as Record<string, CborValue>;
	const hex = (x: CborValue | undefined, n: number) => typeof x === 'string' && new RegExp(`^[0-9a-f]{${n}}$`).test(x);
	if (!v || !hex(v.id, 32) || !hex(v.patient, 64) || !hex(v.grantee, 64)) throw new GrantError('grant: bad id, patient or grantee');
	if (
		!Array.isArray(v.categories) ||
		v.categories.length === 0 ||
		!v.categories.every(isCategory) ||
		new Set(v.categories).size !== v.categories.length
	)
		throw new GrantError('grant: categories');
	if (typeof v.purpose !== 'string' || !(PURPOSES as readonly string[]).includes(v.purpose)) throw new GrantError('grant: purpose');
	if (typeof v.expires !== 'number' || typeof v.issued !== 'number' || v.expires <= v.issued || v.expires - v.issued > MAX_GRANT_DAYS * DAY)
		throw new GrantError('grant: expires must follow issued, within 5 years');
	if (v.request !== undefined && !hex(v.request, 32)) throw new GrantError('grant: bad request id');
	for (const key of Object.keys(v))
		if (!['id', 'patient', 'grantee', 'categories', 'purpose', 'expires', 'issued', 'request'].includes(key))
			throw new GrantError(`grant: unexpected field ${key}`);
	const grant: Grant = {
		id: v.id as string,
		patient: v.patient as string,
		grantee: v.grantee as string,
		categories: v.categories as Category[],
		purpose: v.purpose as Purpose,
		expires: v.expires,
		issued: v.issued,
		...(v.request ? { request: v.request as string } : {})
	};
	if (!verifyNoble(tx.sig, grantMessage(grant), fromHex(grant.patient)))
		throw new GrantError('sig: not the patient’s signature over this grant');
	return grant;
}

export const consentGrantRule: TxRule = {
	type: 'consent.grant',
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'grant', 'sig'].includes(key)) return `unexpected field ${key}`;
		try {
			grantOf(tx);
			return null;
		} catch (error) {
			return (error as Error).message;
		}
	}
};

export const consentRevokeRule: TxRule = {
	type: 'consent.revoke',
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'patient', 'id', 'time', 'sig'].includes(key)) return `unexpected field ${key}`;
		if (!(tx.patient instanceof Uint8Array) || tx.patient.length !== 32 || !(tx.id instanceof Uint8Array) || tx.id.length !== 16)
			return 'patient, id: expected 32 and 16 bytes';
		if (typeof tx.time !== 'number' || !(tx.sig instanceof Uint8Array) || tx.sig.length !== 64) return 'time, sig: expected';
		if (!verifyNoble(tx.sig, revokeMessage(toHex(tx.patient), toHex(tx.id), tx.time), tx.patient))
			return 'sig: not the patient’s signature';
		return null;
	}
};

/** Grants in force for `reader` over `patient`'s `category` at `now` (ms). */
export function grantsFor(
	grants: readonly (Grant & { revoked: boolean })[],
	reader: string,
	patient: string,
	category: Category,
	now: number
): Grant[] {
	return grants.filter(
		(g) => !g.revoked && g.grantee === reader && g.patient === patient && g.categories.includes(category) && now < g.expires
	);
}

/**
 * Who gets the data key of `patient`'s `category` when a record is sealed at `now`: the
 * patient, and every grantee with a grant in force for that category. Nobody else.
 */
export function readersFor(grants: readonly (Grant & { revoked: boolean })[], patient: string, category: Category, now: number): string[] {
	const readers = new Set<string>([patient]);
	for (const g of grants)
		if (!g.revoked && g.patient === patient && g.categories.includes(category) && now < g.expires) readers.add(g.grantee);
	return [...readers].sort();
}
