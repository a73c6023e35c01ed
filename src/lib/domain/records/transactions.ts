/**
 * Record and access transactions. Clinical data enter the ledger only as ciphertext
 * (`record.put`); the data keys that open them travel wrapped for each reader
 * (`key.wrap`). Requests, emergency access and reads are transactions too, so the
 * patient sees them. Field layout: docs/data-formats.md "Records".
 *
 * What is in clear, on purpose: the patient's pseudonymous key, the category, the key
 * id and epoch, the record id and the block that amended it, sizes. No names, no codes,
 * no resource type.
 */
import { toHex, type CborValue, type Tx, type TxRule } from '$lib/core/index.js';
import { isCategory, type Category } from '../privacy/envelope.js';
import { PURPOSES } from '../privacy/consent.js';
import { RECORD_SALT_BYTES, recordIdOf } from './record-id.js';

/** Roles that write clinical records; front desk writes demographics only. */
export const RECORD_WRITERS = ['clinician', 'front-desk', 'admin'] as const;
export const FRONT_DESK_CATEGORIES: readonly Category[] = ['demographics'];
/**
 * Roles that may write `key.wrap`: those a patient can give keys to (any grantee of a
 * treatment, payment or operations grant, the devices of a granted clinic) and so may pass
 * them on. Researchers get study keys, not data keys; headless peers hold ciphertext only.
 */
export const KEY_HOLDERS = ['clinician', 'front-desk', 'admin', 'billing', 'payer', 'patient'] as const;
/** Largest sealed record (a DocumentReference with a 5 MB attachment, base64, plus room). */
export const MAX_RECORD_BYTES = 7 * 1024 * 1024;
export const MAX_WRAPS = 64;
export const MAX_LOG_ENTRIES = 500;

const bytes = (v: CborValue | undefined, n: number): v is Uint8Array => v instanceof Uint8Array && v.length === n;
const uint = (v: CborValue | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const text = (v: CborValue | undefined, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

function only(tx: Tx, allowed: readonly string[]): string | null {
	for (const key of Object.keys(tx)) if (key !== 't' && !allowed.includes(key)) return `unexpected field ${key}`;
	return null;
}

function categoriesProblem(v: CborValue | undefined): string | null {
	if (!Array.isArray(v) || v.length === 0 || !v.every(isCategory)) return 'categories: expected a non-empty list of categories';
	if (new Set(v).size !== v.length) return 'categories: listed twice';
	return null;
}

export const recordPutRule: TxRule = {
	type: 'record.put',
	roles: RECORD_WRITERS,
	check(tx, { role }) {
		const extra = only(tx, ['patient', 'category', 'epoch', 'kid', 'rid', 'salt', 'prev', 'nonce', 'ct']);
		if (extra) return extra;
		if (!bytes(tx.patient, 32)) return 'patient: expected a 32-byte patient key';
		if (!isCategory(tx.category)) return 'category: unknown category';
		if (role === 'front-desk' && !FRONT_DESK_CATEGORIES.includes(tx.category))
			return `category: front desk may write ${FRONT_DESK_CATEGORIES.join(', ')} only`;
		if (!uint(tx.epoch)) return 'epoch: expected a whole number';
		if (!bytes(tx.kid, 16)) return 'kid: expected a 16-byte key id';
		if (!bytes(tx.rid, 16)) return 'rid: expected a 16-byte record id';
		if (tx.salt !== undefined) {
			if (!bytes(tx.salt, RECORD_SALT_BYTES)) return `salt: expected ${RECORD_SALT_BYTES} bytes`;
			if (toHex(recordIdOf(toHex(tx.patient), tx.category, tx.salt)) !== toHex(tx.rid))
				return 'rid: not the commitment to this patient, category and salt';
		}
		if (tx.prev !== undefined && !bytes(tx.prev, 32)) return 'prev: expected the 32-byte id of the block holding the amended version';
		if (!bytes(tx.nonce, 24)) return 'nonce: expected 24 bytes';
		if (!(tx.ct instanceof Uint8Array) || tx.ct.length < 17 || tx.ct.length > MAX_RECORD_BYTES)
			return `ct: expected 17 to ${MAX_RECORD_BYTES} bytes of ciphertext`;
		return null;
	}
};

export const keyWrapRule: TxRule = {
	type: 'key.wrap',
	roles: KEY_HOLDERS,
	check(tx) {
		const extra = only(tx, ['patient', 'category', 'epoch', 'kid', 'wraps', 'grant', 'breakglass']);
		if (extra) return extra;
		if (!bytes(tx.patient, 32)) return 'patient: expected a 32-byte patient key';
		if (!isCategory(tx.category)) return 'category: unknown category';
		if (!uint(tx.epoch)) return 'epoch: expected a whole number';
		if (!bytes(tx.kid, 16)) return 'kid: expected a 16-byte key id';
		if (tx.grant !== undefined && !bytes(tx.grant, 16)) return 'grant: expected a 16-byte grant id';
		if (tx.breakglass !== undefined && !bytes(tx.breakglass, 16)) return 'breakglass: expected a 16-byte id';
		if (!Array.isArray(tx.wraps) || tx.wraps.length === 0 || tx.wraps.length > MAX_WRAPS)
			return `wraps: expected 1 to ${MAX_WRAPS} wrapped keys`;
		for (const [i, w] of tx.wraps.entries()) {
			const m = w as Record<string, CborValue>;
			if (m === null || typeof m !== 'object' || Array.isArray(m) || m instanceof Uint8Array) return `wraps[${i}]: expected map`;
			if (!bytes(m.reader, 32)) return `wraps[${i}].reader: expected a 32-byte key`;
			if (!bytes(m.eph, 32) || !bytes(m.nonce, 24) || !bytes(m.wrapped, 48))
				return `wraps[${i}]: expected eph (32), nonce (24) and wrapped (48) bytes`;
		}
		return null;
	}
};

export const accessRequestRule: TxRule = {
	type: 'access.request',
	roles: ['clinician', 'front-desk', 'admin', 'billing'],
	check(tx) {
		const extra = only(tx, ['id', 'patient', 'categories', 'purpose', 'reason']);
		if (extra) return extra;
		if (!bytes(tx.id, 16)) return 'id: expected 16 bytes';
		if (!bytes(tx.patient, 32)) return 'patient: expected a 32-byte patient key';
		const problem = categoriesProblem(tx.categories);
		if (problem) return problem;
		if (typeof tx.purpose !== 'string' || !(PURPOSES as readonly string[]).includes(tx.purpose) || tx.purpose === 'research')
			return 'purpose: expected treatment, payment or operations (research goes through a study)';
		if (!text(tx.reason, 500)) return 'reason: expected 1-500 characters';
		return null;
	}
};

/** Emergency access: allowed to clinicians, always logged and shown to the patient. */
export const breakGlassRule: TxRule = {
	type: 'access.breakglass',
	roles: ['clinician', 'admin'],
	check(tx) {
		const extra = only(tx, ['id', 'patient', 'categories', 'reason']);
		if (extra) return extra;
		if (!bytes(tx.id, 16)) return 'id: expected 16 bytes';
		if (!bytes(tx.patient, 32)) return 'patient: expected a 32-byte patient key';
		const problem = categoriesProblem(tx.categories);
		if (problem) return problem;
		if (!text(tx.reason, 500)) return 'reason: an emergency access needs a reason (1-500 characters)';
		return null;
	}
};

export const LOG_ACTIONS = ['read', 'export', 'print'] as const;
export type LogAction = (typeof LOG_ACTIONS)[number];

/** Reads of decrypted data, logged locally by the reading node and batched here. */
export const accessLogRule: TxRule = {
	type: 'access.log',
	check(tx) {
		const extra = only(tx, ['entries']);
		if (extra) return extra;
		if (!Array.isArray(tx.entries) || tx.entries.length === 0 || tx.entries.length > MAX_LOG_ENTRIES)
			return `entries: expected 1 to ${MAX_LOG_ENTRIES}`;
		for (const [i, e] of tx.entries.entries()) {
			const m = e as Record<string, CborValue>;
			if (m === null || typeof m !== 'object' || Array.isArray(m) || m instanceof Uint8Array) return `entries[${i}]: expected map`;
			for (const key of Object.keys(m))
				if (!['patient', 'category', 'rid', 'action', 'at'].includes(key)) return `entries[${i}]: unexpected field ${key}`;
			if (!bytes(m.patient, 32)) return `entries[${i}].patient: expected a 32-byte patient key`;
			if (!isCategory(m.category)) return `entries[${i}].category: unknown category`;
			if (m.rid !== undefined && !bytes(m.rid, 16)) return `entries[${i}].rid: expected 16 bytes`;
			if (typeof m.action !== 'string' || !(LOG_ACTIONS as readonly string[]).includes(m.action))
				return `entries[${i}].action: expected ${LOG_ACTIONS.join(', ')}`;
			if (!uint(m.at)) return `entries[${i}].at: expected a time in ms`;
		}
		return null;
	}
};

export const RECORD_RULES: readonly TxRule[] = [recordPutRule, keyWrapRule, accessRequestRule, breakGlassRule, accessLogRule];
