/**
 * Studies on the ledger.
 *
 * - `study.register` (researcher): title, protocol summary, ethics approval reference,
 *   data categories, inclusion criteria, end date, privacy budget (ε in thousandths; 0
 *   for exact answers with suppression only), k for extracts and whether row-level
 *   extracts are asked for.
 * - `study.approve` (admin): this admin's clinic takes part. It may carry the study key
 *   (pseudonyms are keyed with it) wrapped for clinic members, each wrap with the key's
 *   id (a commitment to the key, keys.ts); never for a researcher, patient or payer, so
 *   the researcher cannot recompute a pseudonym from a patient key.
 * - `study.consent` (any member writes it; the patient signs it, like consent.grant):
 *   links the patient's research grant (purpose 'research', grantee the researcher) to
 *   the study. Withdrawal is `consent.revoke` of that grant: from then on the patient is
 *   never counted again.
 * - `study.query` (the study's researcher): a query spec (JSON) and the ε it spends.
 * - `study.result` (a clinic node): its answer, sealed for the researcher.
 */
import { fromHex, toHex, verifyNoble, ADMIN, type AuthorId, type CborValue, type Tx, type TxRule } from '$lib/core/index.js';
import { isCategory, type Category } from '../privacy/envelope.js';
import { studyConsentMessage } from '../privacy/study-consent.js';
import { parseQuerySpec, SPEC_MAX_CHARS } from './spec.js';

/** Roles a study key may be wrapped for: the clinic side. */
export const KEY_HOLDER_ROLES: readonly string[] = [ADMIN, 'clinician', 'peer'];
/** Roles whose nodes answer queries. */
export const ANSWER_ROLES: readonly string[] = [ADMIN, 'clinician', 'peer'];
/** Largest budget a study may set: ε = 100 (in thousandths). */
export const MAX_BUDGET = 100_000;
const MAX_CT = 2_000_000;

export interface StudyInput {
	title: string;
	protocol: string;
	ethics: string;
	categories: Category[];
	criteria: string;
	/** ms since the epoch. */
	ends: number;
	/** ε in thousandths; 0: exact answers (suppression only). */
	budget: number;
	k: number;
	rows: boolean;
}

const text = (v: CborValue | undefined, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;
const bytes = (v: CborValue | undefined, n: number): v is Uint8Array => v instanceof Uint8Array && v.length === n;
const int = (v: CborValue | undefined, min: number, max: number): v is number =>
	typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
function only(tx: Tx, allowed: readonly string[]): string | null {
	for (const key of Object.keys(tx)) if (key !== 't' && !allowed.includes(key)) return `unexpected field ${key}`;
	return null;
}

/** The `study.register` transaction for a new study (its id is random). */
export function registerStudyTx(input: StudyInput, id: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): Tx {
	return {
		t: 'study.register',
		id,
		title: input.title.trim(),
		protocol: input.protocol.trim(),
		ethics: input.ethics.trim(),
		categories: [...input.categories].sort(),
		criteria: input.criteria.trim(),
		ends: input.ends,
		budget: input.budget,
		k: input.k,
		rows: input.rows
	};
}

/** What is wrong with a study as typed, or null. */
export function studyProblem(input: StudyInput, now: number): string | null {
	return studyRegisterRule.check(registerStudyTx(input, new Uint8Array(16)), { block: { time: now } } as never);
}

export const studyRegisterRule: TxRule = {
	type: 'study.register',
	roles: ['researcher'],
	check(tx, { block }) {
		const extra = only(tx, ['id', 'title', 'protocol', 'ethics', 'categories', 'criteria', 'ends', 'budget', 'k', 'rows']);
		if (extra) return extra;
		if (!bytes(tx.id, 16)) return 'id: expected 16 bytes';
		if (!text(tx.title, 200)) return 'title: expected 1-200 characters';
		if (!text(tx.protocol, 5000)) return 'protocol: expected a summary of 1-5000 characters';
		if (!text(tx.ethics, 200)) return 'ethics: expected the ethics approval reference (1-200 characters)';
		if (
			!Array.isArray(tx.categories) ||
			tx.categories.length === 0 ||
			!tx.categories.every(isCategory) ||
			new Set(tx.categories).size !== tx.categories.length
		)
			return 'categories: expected one or more data categories, each once';
		if (!text(tx.criteria, 2000)) return 'criteria: expected the inclusion criteria (1-2000 characters)';
		if (!int(tx.ends, 0, Number.MAX_SAFE_INTEGER) || tx.ends <= block.time) return 'ends: expected an end date after the registration';
		if (!int(tx.budget, 0, MAX_BUDGET)) return `budget: expected ε in thousandths, 0-${MAX_BUDGET}`;
		if (!int(tx.k, 2, 100)) return 'k: expected 2-100';
		if (typeof tx.rows !== 'boolean') return 'rows: expected true or false';
		if (tx.rows && tx.budget > 0)
			return 'rows: row-level extracts are not differentially private; a study with a budget asks for aggregates only';
		return null;
	}
};

/** A study key wrapped for one member (envelope.ts wrapKey). */
export interface KeyWrap {
	eph: Uint8Array;
	nonce: Uint8Array;
	wrapped: Uint8Array;
	/** The key's id, a commitment to it (keys.ts `studyKeyId`); absent in approvals written before key ids. */
	kid?: Uint8Array;
}

export function approveStudyTx(study: string, keys: Record<string, KeyWrap> = {}): Tx {
	const wraps: Record<string, CborValue> = {};
	for (const [member, w] of Object.entries(keys))
		wraps[member] = { eph: w.eph, nonce: w.nonce, wrapped: w.wrapped, ...(w.kid ? { kid: w.kid } : {}) };
	return { t: 'study.approve', study: fromHex(study), keys: wraps };
}

export const studyApproveRule: TxRule = {
	type: 'study.approve',
	roles: [ADMIN],
	check(tx, { roster }) {
		const extra = only(tx, ['study', 'keys']);
		if (extra) return extra;
		if (!bytes(tx.study, 16)) return 'study: expected the 16-byte study id';
		const keys = tx.keys;
		if (keys === null || typeof keys !== 'object' || Array.isArray(keys) || keys instanceof Uint8Array) return 'keys: expected a map';
		const entries = Object.entries(keys);
		if (entries.length > 1000) return 'keys: at most 1000 wraps';
		for (const [member, w] of entries) {
			if (!/^[0-9a-f]{64}$/.test(member)) return `keys.${member}: expected a member key`;
			const role = roster.get(member as AuthorId);
			if (role === undefined || !KEY_HOLDER_ROLES.includes(role))
				return `keys.${member.slice(0, 8)}: the study key goes to clinic members only (admin, clinician, peer), not ${role ?? 'non-members'}`;
			const m = w as Record<string, CborValue>;
			if (
				m === null ||
				typeof m !== 'object' ||
				!bytes(m.eph, 32) ||
				!bytes(m.nonce, 24) ||
				!bytes(m.wrapped, 48) ||
				Object.keys(m).length !== (m.kid === undefined ? 3 : 4)
			)
				return `keys.${member.slice(0, 8)}: expected {eph, nonce, wrapped, kid}`;
			if (m.kid !== undefined && !bytes(m.kid, 16)) return `keys.${member.slice(0, 8)}.kid: expected the 16-byte key id`;
		}
		return null;
	}
};

export const studyConsentRule: TxRule = {
	type: 'study.consent',
	check(tx) {
		const extra = only(tx, ['study', 'grant', 'patient', 'sig']);
		if (extra) return extra;
		if (!bytes(tx.study, 16) || !bytes(tx.grant, 16)) return 'study, grant: expected 16-byte ids';
		if (!bytes(tx.patient, 32)) return 'patient: expected a 32-byte patient key';
		if (!bytes(tx.sig, 64)) return 'sig: expected a 64-byte signature';
		if (!verifyNoble(tx.sig, studyConsentMessage(toHex(tx.study), toHex(tx.grant), toHex(tx.patient)), tx.patient))
			return 'sig: not the patient’s signature over this study consent';
		return null;
	}
};

export function studyQueryTx(
	study: string,
	spec: string,
	epsilon: number,
	id: Uint8Array = crypto.getRandomValues(new Uint8Array(16))
): Tx {
	return { t: 'study.query', study: fromHex(study), id, spec, epsilon };
}

export const studyQueryRule: TxRule = {
	type: 'study.query',
	roles: ['researcher'],
	check(tx) {
		const extra = only(tx, ['study', 'id', 'spec', 'epsilon']);
		if (extra) return extra;
		if (!bytes(tx.study, 16) || !bytes(tx.id, 16)) return 'study, id: expected 16-byte ids';
		if (typeof tx.spec !== 'string' || tx.spec.length > SPEC_MAX_CHARS)
			return `spec: expected JSON of at most ${SPEC_MAX_CHARS} characters`;
		try {
			parseQuerySpec(tx.spec);
		} catch (error) {
			return (error as Error).message;
		}
		if (!int(tx.epsilon, 0, MAX_BUDGET)) return `epsilon: expected ε in thousandths, 0-${MAX_BUDGET}`;
		return null;
	}
};

/** A result sealed for the researcher: the data key wrapped for them, the answer under it. */
export interface SealedResult {
	eph: Uint8Array;
	knonce: Uint8Array;
	wrapped: Uint8Array;
	nonce: Uint8Array;
	ct: Uint8Array;
}

export function studyResultTx(study: string, query: string, sealed: SealedResult): Tx {
	return {
		t: 'study.result',
		study: fromHex(study),
		query: fromHex(query),
		eph: sealed.eph,
		knonce: sealed.knonce,
		wrapped: sealed.wrapped,
		nonce: sealed.nonce,
		ct: sealed.ct
	};
}

export const studyResultRule: TxRule = {
	type: 'study.result',
	roles: ANSWER_ROLES,
	check(tx) {
		const extra = only(tx, ['study', 'query', 'eph', 'knonce', 'wrapped', 'nonce', 'ct']);
		if (extra) return extra;
		if (!bytes(tx.study, 16) || !bytes(tx.query, 16)) return 'study, query: expected 16-byte ids';
		if (!bytes(tx.eph, 32) || !bytes(tx.knonce, 24) || !bytes(tx.wrapped, 48)) return 'eph, knonce, wrapped: expected a wrapped key';
		if (!bytes(tx.nonce, 24)) return 'nonce: expected 24 bytes';
		if (!(tx.ct instanceof Uint8Array) || tx.ct.length < 16 || tx.ct.length > MAX_CT) return 'ct: expected the sealed answer';
		return null;
	}
};

export const STUDY_RULES: readonly TxRule[] = [studyRegisterRule, studyApproveRule, studyConsentRule, studyQueryRule, studyResultRule];
