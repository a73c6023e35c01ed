/**
 * Supply-chain transactions: the item master, stock movements, recalls and the rule
 * parameters. Each rule checks one transaction's shape and who may sign it; whether the
 * movement makes sense against the stock (enough on hand, lot not expired or recalled,
 * transfer known) needs fold state, so the supply fold judges it and records the
 * outcome, and the Inventory tab refuses before writing (docs/supply.md).
 */
import { ADMIN, type CborValue, type Tx, type TxRule } from '$lib/core/index.js';
import { gtinProblem, isGs1Text } from './gs1.js';

/** Roles that move stock (receive, transfer, waste, adjust, reorder points). */
export const STOCK_ROLES = [ADMIN, 'clinician', 'front-desk'] as const;
/** Roles that give a dose to a patient and follow up recalls with patients. */
export const CLINICAL_ROLES = [ADMIN, 'clinician'] as const;

export const MAX_QTY = 1_000_000;
export const MAX_SERIALS = 1_000;
export const LOCATION_MAX_CHARS = 60;
export const DEFAULT_LOCATION = 'main';
export const ADMINISTRATION_KINDS = ['immunization', 'medication'] as const;
export type AdministrationKind = (typeof ADMINISTRATION_KINDS)[number];
export const CONTACT_STATUSES = ['pending', 'contacted', 'unreachable'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

type Check = (value: CborValue) => string | null;

const text =
	(max: number): Check =>
	(v) =>
		typeof v === 'string' && v.trim().length > 0 && v.length <= max ? null : `expected 1-${max} characters`;
const bytes =
	(n: number, what: string): Check =>
	(v) =>
		v instanceof Uint8Array && v.length === n ? null : `expected ${what} (${n} bytes)`;
const int =
	(min: number, max: number): Check =>
	(v) =>
		typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? null : `expected a whole number from ${min} to ${max}`;
const oneOf =
	(values: readonly string[]): Check =>
	(v) =>
		typeof v === 'string' && values.includes(v) ? null : `expected one of ${values.join(', ')}`;

const gtin: Check = (v) => (typeof v === 'string' ? gtinProblem(v) : 'expected a GTIN-14 string');
const gs1Text: Check = (v) =>
	typeof v === 'string' && isGs1Text(v) ? null : 'expected 1-20 characters of the GS1 set (letters, digits, !"%&\'()*+,-./:;<=>?_)';
const isoDate: Check = (v) => (typeof v === 'string' && isIsoDate(v) ? null : 'expected a date YYYY-MM-DD');
const location: Check = (v) =>
	typeof v === 'string' && v.trim().length > 0 && v.length <= LOCATION_MAX_CHARS && v === v.trim()
		? null
		: `expected 1-${LOCATION_MAX_CHARS} characters without surrounding spaces`;
const delta: Check = (v) => int(-MAX_QTY, MAX_QTY)(v) ?? (v === 0 ? 'expected a change other than 0' : null);
const serials: Check = (v) => {
	if (!Array.isArray(v) || v.length === 0 || v.length > MAX_SERIALS) return `expected a list of 1-${MAX_SERIALS} serial numbers`;
	const seen = new Set<string>();
	for (const [i, s] of v.entries()) {
		const problem = gs1Text(s);
		if (problem) return `[${i}]: ${problem}`;
		if (seen.has(s as string)) return `[${i}]: serial ${String(s)} listed twice`;
		seen.add(s as string);
	}
	return null;
};
const encounter: Check = (v) => {
	if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return 'expected a map {block, rid}';
	for (const key of Object.keys(v)) if (key !== 'block' && key !== 'rid') return `unexpected field ${key}`;
	return bytes(32, 'the block id of the encounter record')(v.block ?? null) ?? bytes(16, 'the record id of the encounter')(v.rid ?? null);
};

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(value: string): boolean {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
	if (!m) return false;
	const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
	return date.toISOString().slice(0, 10) === value;
}

/** A rule from field checks: `?` after a name marks an optional field; any other field is refused. */
function rule(type: string, roles: readonly string[], fields: Record<string, Check>, extra?: (tx: Tx) => string | null): TxRule {
	const specs = Object.entries(fields).map(([name, check]) => ({ name: name.replace(/\?$/, ''), optional: name.endsWith('?'), check }));
	const allowed = new Set(specs.map((s) => s.name));
	return {
		type,
		roles,
		check(tx) {
			for (const key of Object.keys(tx)) if (key !== 't' && !allowed.has(key)) return `unexpected field ${key}`;
			for (const { name, optional, check } of specs) {
				const value = tx[name];
				if (value === undefined) {
					if (optional) continue;
					return `${name}: missing`;
				}
				const problem = check(value);
				if (problem) return `${name}${problem.startsWith('[') ? '' : ': '}${problem}`;
			}
			return extra ? extra(tx) : null;
		}
	};
}

/** The item master: what a GTIN is (name, form, strength, storage conditions); the latest wins. */
export const itemRule = rule('supply.item', CLINICAL_ROLES, {
	gtin,
	name: text(200),
	'form?': text(100),
	'strength?': text(100),
	'storage?': text(200)
});

/** Stock received from a supplier into one of the signer's clinic's locations. */
export const receiveRule = rule(
	'supply.receive',
	STOCK_ROLES,
	{ gtin, lot: gs1Text, expiry: isoDate, qty: int(1, MAX_QTY), supplier: text(200), 'location?': location, 'serials?': serials },
	(tx) =>
		Array.isArray(tx.serials) && tx.serials.length !== tx.qty
			? `serials: ${tx.serials.length} serial numbers for a quantity of ${String(tx.qty)}`
			: null
);

/** Stock sent to another clinic (`to`, a member key); it is in transit until that clinic signs `supply.transfer.receive`. */
export const transferSendRule = rule('supply.transfer.send', STOCK_ROLES, {
	id: bytes(16, 'a transfer id'),
	to: bytes(32, 'the receiving clinic’s member key'),
	gtin,
	lot: gs1Text,
	qty: int(1, MAX_QTY),
	'location?': location
});

/** The receiving clinic's signed receipt of a transfer, into one of its locations. */
export const transferReceiveRule = rule('supply.transfer.receive', STOCK_ROLES, { id: bytes(16, 'a transfer id'), 'location?': location });

/**
 * A dose given (vaccine: FHIR Immunization) or a medicine dispensed or administered
 * (FHIR MedicationAdministration) to a patient, linked to the encounter record it
 * happened in (block id and record id of its `record.put`).
 */
export const administerRule = rule('supply.administer', CLINICAL_ROLES, {
	patient: bytes(32, 'the patient key'),
	gtin,
	lot: gs1Text,
	kind: oneOf(ADMINISTRATION_KINDS),
	'qty?': int(1, MAX_QTY),
	'serial?': gs1Text,
	'encounter?': encounter,
	'location?': location
});

/** Stock thrown away (broken, expired, cold chain lost), with the reason. */
export const wasteRule = rule('supply.waste', STOCK_ROLES, {
	gtin,
	lot: gs1Text,
	qty: int(1, MAX_QTY),
	reason: text(500),
	'location?': location
});

/** A correction after a count (positive or negative), with the reason. */
export const adjustRule = rule('supply.adjust', STOCK_ROLES, { gtin, lot: gs1Text, delta, reason: text(500), 'location?': location });

/** A recall of a lot, by an admin (the network's stand-in for the supplier): no further use anywhere. */
export const recallRule = rule('supply.recall', [ADMIN], { gtin, lot: gs1Text, reason: text(500) });

/** Where following up one affected patient of a recall stands. */
export const contactRule = rule('supply.contact', CLINICAL_ROLES, {
	gtin,
	lot: gs1Text,
	patient: bytes(32, 'the patient key'),
	status: oneOf(CONTACT_STATUSES),
	'note?': text(500)
});

/** Network-wide rule parameters: how far ahead expiry alerts look, how long a transfer may stay in transit. */
export const policyRule = rule('supply.policy', [ADMIN], { 'horizonDays?': int(1, 3650), 'transitDays?': int(1, 365) }, (tx) =>
	tx.horizonDays === undefined && tx.transitDays === undefined ? 'expected horizonDays or transitDays' : null
);

/** The signer's clinic's reorder point for an item (0 turns it off). */
export const reorderRule = rule('supply.reorder', STOCK_ROLES, { gtin, level: int(0, MAX_QTY) });

export const SUPPLY_RULES: readonly TxRule[] = [
	itemRule,
	receiveRule,
	transferSendRule,
	transferReceiveRule,
	administerRule,
	wasteRule,
	adjustRule,
	recallRule,
	contactRule,
	policyRule,
	reorderRule
];

/** Drops optional fields left empty so a builder's output is what the rule expects. */
function tx(t: string, fields: Record<string, CborValue | undefined>): Tx {
	const out: Record<string, CborValue> = { t };
	for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== '') out[key] = value;
	return out as Tx;
}

export const itemTx = (f: { gtin: string; name: string; form?: string; strength?: string; storage?: string }) => tx('supply.item', f);
export const receiveTx = (f: {
	gtin: string;
	lot: string;
	expiry: string;
	qty: number;
	supplier: string;
	location?: string;
	serials?: string[];
}) => tx('supply.receive', { ...f, serials: f.serials?.length ? f.serials : undefined });
export const transferSendTx = (f: { id: Uint8Array; to: Uint8Array; gtin: string; lot: string; qty: number; location?: string }) =>
	tx('supply.transfer.send', f);
export const transferReceiveTx = (f: { id: Uint8Array; location?: string }) => tx('supply.transfer.receive', f);
export const administerTx = (f: {
	patient: Uint8Array;
	gtin: string;
	lot: string;
	kind: AdministrationKind;
	qty?: number;
	serial?: string;
	encounter?: { block: Uint8Array; rid: Uint8Array };
	location?: string;
}) => tx('supply.administer', { ...f, qty: f.qty === 1 ? undefined : f.qty });
export const wasteTx = (f: { gtin: string; lot: string; qty: number; reason: string; location?: string }) => tx('supply.waste', f);
export const adjustTx = (f: { gtin: string; lot: string; delta: number; reason: string; location?: string }) => tx('supply.adjust', f);
export const recallTx = (f: { gtin: string; lot: string; reason: string }) => tx('supply.recall', f);
export const contactTx = (f: { gtin: string; lot: string; patient: Uint8Array; status: ContactStatus; note?: string }) =>
	tx('supply.contact', f);
export const policyTx = (f: { horizonDays?: number; transitDays?: number }) => tx('supply.policy', f);
export const reorderTx = (f: { gtin: string; level: number }) => tx('supply.reorder', f);
