/**
 * Transactions of the claims contracts and their rules. A rule checks one transaction on
 * its own (shape, the policy's rules, the FHIR claim); what depends on other
 * transactions (the coverage a claim names, duplicates, the version in force) is the
 * claims fold's business, which records it.
 *
 * | type                | roles                         | fields |
 * |---------------------|-------------------------------|--------|
 * | contract.deploy     | payer                         | plan, version, policy |
 * | coverage.enroll     | payer                         | id, plan, patient, start, end? |
 * | auth.grant          | payer                         | id, coverage, code, start, end |
 * | claim.submit        | clinician, billing, front-desk, admin | claim (FHIR Claim JSON) |
 * | claim.correct       | clinician, billing, front-desk, admin | original (claim id), claim |
 * | claim.appeal        | clinician, billing, front-desk, admin | original, reason, preAuthRef? |
 * | payment.record      | billing, front-desk, admin    | patient, amount, claim?, ref? |
 * | remittance.record   | payer                         | claim, amount, ref? |
 * | patient.deceased    | clinician, admin              | patient, date |
 */
import type { CborValue, Tx, TxRule } from '$lib/core/index.js';
import { parseClaim } from './claim.js';
import { dayOf } from './dates.js';
import { MAX_CENTS, parsePolicy, PLAN_ID, SERVICE_CODE } from './policy.js';
import { RuleError } from './rule-logic.js';

/** Who bills: a clinic's clinicians, billing and front-desk devices, and its admin node (a small clinic's founding node bills too). */
export const CLAIM_ROLES = ['clinician', 'billing', 'front-desk', 'admin'] as const;
export const PAYER_ROLES = ['payer'] as const;
/** Who records a patient's payment at the clinic. */
export const PAYMENT_ROLES = ['billing', 'front-desk', 'admin'] as const;
/** A claim's id: the hex id of the block that submitted it, a dash, the transaction's index. */
export const CLAIM_ID = /^[0-9a-f]{64}-\d{1,4}$/;
const ID = /^[A-Za-z0-9._-]{1,64}$/;

function onlyFields(tx: Tx, allowed: readonly string[]): string | null {
	for (const key of Object.keys(tx)) if (key !== 't' && !allowed.includes(key)) return `unexpected field ${key}`;
	return null;
}

const isKey = (v: CborValue | undefined) => v instanceof Uint8Array && v.length === 32;
const isAmount = (v: CborValue | undefined) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= MAX_CENTS;
const optionalRef = (v: CborValue | undefined) => v === undefined || (typeof v === 'string' && v.trim() !== '' && v.length <= 100);

const contractDeploy: TxRule = {
	type: 'contract.deploy',
	roles: PAYER_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['plan', 'version', 'policy']);
		if (extra) return extra;
		if (typeof tx.plan !== 'string' || !PLAN_ID.test(tx.plan)) return 'plan: expected 1-64 letters, digits, . _ -';
		if (typeof tx.version !== 'number' || !Number.isSafeInteger(tx.version) || tx.version < 1)
			return 'version: expected a positive integer';
		try {
			parsePolicy(tx.policy);
			return null;
		} catch (error) {
			if (error instanceof RuleError) return error.message;
			throw error;
		}
	}
};

const coverageEnroll: TxRule = {
	type: 'coverage.enroll',
	roles: PAYER_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['id', 'plan', 'patient', 'start', 'end']);
		if (extra) return extra;
		if (typeof tx.id !== 'string' || !ID.test(tx.id)) return 'id: expected 1-64 letters, digits, . _ -';
		if (typeof tx.plan !== 'string' || !PLAN_ID.test(tx.plan)) return 'plan: expected a plan id';
		if (!isKey(tx.patient)) return 'patient: expected a 32-byte patient key';
		const start = dayOf(tx.start);
		if (start === null) return 'start: expected a date YYYY-MM-DD';
		if (tx.end !== undefined && tx.end !== null && (dayOf(tx.end) ?? -Infinity) < start)
			return 'end: expected a date YYYY-MM-DD on or after start';
		return null;
	}
};

const authGrant: TxRule = {
	type: 'auth.grant',
	roles: PAYER_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['id', 'coverage', 'code', 'start', 'end']);
		if (extra) return extra;
		if (typeof tx.id !== 'string' || !ID.test(tx.id)) return 'id: expected 1-64 letters, digits, . _ -';
		if (typeof tx.coverage !== 'string' || !ID.test(tx.coverage)) return 'coverage: expected a coverage id';
		if (typeof tx.code !== 'string' || !SERVICE_CODE.test(tx.code)) return 'code: expected a service code';
		const start = dayOf(tx.start);
		if (start === null) return 'start: expected a date YYYY-MM-DD';
		if ((dayOf(tx.end) ?? -Infinity) < start) return 'end: expected a date YYYY-MM-DD on or after start';
		return null;
	}
};

function claimProblem(claim: CborValue | undefined): string | null {
	if (typeof claim !== 'string') return 'claim: expected FHIR Claim JSON text';
	const { errors } = parseClaim(claim);
	return errors.length === 0 ? null : errors.map((e) => `claim.${e}`).join('; ');
}

const claimSubmit: TxRule = {
	type: 'claim.submit',
	roles: CLAIM_ROLES,
	check(tx) {
		return onlyFields(tx, ['claim']) ?? claimProblem(tx.claim);
	}
};

const claimCorrect: TxRule = {
	type: 'claim.correct',
	roles: CLAIM_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['original', 'claim']);
		if (extra) return extra;
		if (typeof tx.original !== 'string' || !CLAIM_ID.test(tx.original)) return 'original: expected a claim id (block id-index)';
		return claimProblem(tx.claim);
	}
};

const claimAppeal: TxRule = {
	type: 'claim.appeal',
	roles: CLAIM_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['original', 'reason', 'preAuthRef']);
		if (extra) return extra;
		if (typeof tx.original !== 'string' || !CLAIM_ID.test(tx.original)) return 'original: expected a claim id (block id-index)';
		if (typeof tx.reason !== 'string' || tx.reason.trim() === '' || tx.reason.length > 2000) return 'reason: expected 1-2000 characters';
		if (tx.preAuthRef !== undefined) {
			if (!Array.isArray(tx.preAuthRef) || tx.preAuthRef.length > 20) return 'preAuthRef: expected a list of authorization ids';
			for (const [i, r] of tx.preAuthRef.entries())
				if (typeof r !== 'string' || !ID.test(r)) return `preAuthRef[${i}]: expected an authorization id`;
		}
		return null;
	}
};

const paymentRecord: TxRule = {
	type: 'payment.record',
	roles: PAYMENT_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['patient', 'amount', 'claim', 'ref']);
		if (extra) return extra;
		if (!isKey(tx.patient)) return 'patient: expected a 32-byte patient key';
		if (!isAmount(tx.amount)) return 'amount: expected a positive whole number of cents';
		if (tx.claim !== undefined && (typeof tx.claim !== 'string' || !CLAIM_ID.test(tx.claim))) return 'claim: expected a claim id';
		if (!optionalRef(tx.ref)) return 'ref: expected 1-100 characters';
		return null;
	}
};

const remittanceRecord: TxRule = {
	type: 'remittance.record',
	roles: PAYER_ROLES,
	check(tx) {
		const extra = onlyFields(tx, ['claim', 'amount', 'ref']);
		if (extra) return extra;
		if (typeof tx.claim !== 'string' || !CLAIM_ID.test(tx.claim)) return 'claim: expected a claim id';
		if (!isAmount(tx.amount)) return 'amount: expected a positive whole number of cents';
		if (!optionalRef(tx.ref)) return 'ref: expected 1-100 characters';
		return null;
	}
};

const patientDeceased: TxRule = {
	type: 'patient.deceased',
	roles: ['clinician', 'admin'],
	check(tx) {
		const extra = onlyFields(tx, ['patient', 'date']);
		if (extra) return extra;
		if (!isKey(tx.patient)) return 'patient: expected a 32-byte patient key';
		if (dayOf(tx.date) === null) return 'date: expected a date YYYY-MM-DD';
		return null;
	}
};

/** Every transaction type of the claims contracts. */
export const CONTRACT_RULES: readonly TxRule[] = [
	contractDeploy,
	coverageEnroll,
	authGrant,
	claimSubmit,
	claimCorrect,
	claimAppeal,
	paymentRecord,
	remittanceRecord,
	patientDeceased
];
