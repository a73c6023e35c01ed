/**
 * The billing use cases: what a payer, a clinic and its front desk write about contracts,
 * coverage, claims and money. Plain functions over the ledger that the Billing screen,
 * the headless peer and the tests call the same way. Each checks its input first and
 * writes ONE block (a refusal, here or by the ledger, leaves nothing behind); the outcome
 * of a claim is the claims fold's, computed from that block on every node.
 */
import { CodedError, fromHex, type Block, type Ledger, type Tx } from '$lib/core/index.js';
import { claimResource, parseClaim, type ClaimForm } from './claim.js';
import type { ClaimsState } from './claims-state.js';
import { samplePolicy } from './sample.js';

export type BillingInputCode = 'BAD_PATIENT_KEY' | 'INVALID_CLAIM' | 'BAD_PAYMENT';

/** A billing write refused before anything was written; the message says what to fix. */
export class BillingInputError extends CodedError {
	override readonly name = 'BillingInputError';
	declare readonly code: BillingInputCode;
	constructor(code: BillingInputCode, message: string) {
		super(code, message);
	}
}

const PATIENT_KEY = /^[0-9a-f]{64}$/;

/** The cost-sharing terms of a policy as a payer types them: dollars, percent, days. */
export interface PolicyInput {
	plan: string;
	name: string;
	start: string;
	deductible: number;
	copay: number;
	coinsurancePercent: number;
	oopMax: number;
	timelyFilingDays: number;
}

/** The version the next deployment of `plan` gets: one past the last deployed, else 1. */
export function nextPolicyVersion(claims: ClaimsState | null, plan: string): number {
	const versions = claims?.contracts[plan]?.versions ?? [];
	return (versions[versions.length - 1]?.version ?? 0) + 1;
}

/** `contract.deploy`: the sample tables with these terms as the next version of the plan. */
export function deployPolicyTx(input: PolicyInput, version: number): Tx {
	const policy = samplePolicy({
		name: input.name,
		start: input.start,
		deductible: Math.round(input.deductible * 100),
		copay: Math.round(input.copay * 100),
		coinsuranceBps: Math.round(input.coinsurancePercent * 100),
		oopMax: Math.round(input.oopMax * 100),
		timelyFilingDays: input.timelyFilingDays
	});
	return { t: 'contract.deploy', plan: input.plan, version, policy };
}

/** Deploys the policy as the next version of its plan; returns that version. */
export async function deployPolicy(ledger: Ledger, input: PolicyInput): Promise<number> {
	const version = nextPolicyVersion((ledger.state().claims as ClaimsState | undefined) ?? null, input.plan);
	await ledger.append([deployPolicyTx(input, version)]);
	return version;
}

/** `coverage.enroll`: patient (by key) covered by `plan` from `start`. */
export function enrollTx(id: string, plan: string, patient: string, start: string): Tx {
	if (!PATIENT_KEY.test(patient)) throw new BillingInputError('BAD_PATIENT_KEY', 'The patient key is 64 hexadecimal characters.');
	return { t: 'coverage.enroll', id, plan, patient: fromHex(patient), start };
}

export async function enrollPatient(ledger: Ledger, id: string, plan: string, patient: string, start: string): Promise<Block> {
	return ledger.append([enrollTx(id, plan, patient, start)]);
}

/** `auth.grant`: a prior authorization for `code` under `coverage`, from `start` to `end`. */
export async function grantAuthorization(
	ledger: Ledger,
	id: string,
	coverage: string,
	code: string,
	start: string,
	end: string
): Promise<Block> {
	return ledger.append([{ t: 'auth.grant', id, coverage, code, start, end }]);
}

/** `claim.submit`: the claim the form describes, checked first; every fault is listed with its path. */
export function submitClaimTx(form: ClaimForm): Tx {
	const json = JSON.stringify(claimResource(form));
	const { errors } = parseClaim(json);
	if (errors.length > 0) throw new BillingInputError('INVALID_CLAIM', `The claim is not valid: ${errors.join('; ')}`);
	return { t: 'claim.submit', claim: json };
}

export async function submitClaim(ledger: Ledger, form: ClaimForm): Promise<Block> {
	return ledger.append([submitClaimTx(form)]);
}

/** `claim.appeal`: decide `claim` again, with the reason and any prior authorizations. */
export async function appealClaim(ledger: Ledger, claim: string, reason: string, preAuthRef: readonly string[]): Promise<Block> {
	return ledger.append([{ t: 'claim.appeal', original: claim, reason, ...(preAuthRef.length > 0 ? { preAuthRef: [...preAuthRef] } : {}) }]);
}

/** `remittance.record`: the payer paid `cents` on `claim`. */
export async function recordRemittance(ledger: Ledger, claim: string, cents: number): Promise<Block> {
	return ledger.append([{ t: 'remittance.record', claim, amount: cents }]);
}

/** `payment.record`: the patient (by key) paid `cents` at the desk. */
export function paymentTx(patient: string, cents: number): Tx {
	if (!PATIENT_KEY.test(patient) || !Number.isSafeInteger(cents) || cents <= 0)
		throw new BillingInputError('BAD_PAYMENT', 'A payment needs the patient key and a positive amount.');
	return { t: 'payment.record', patient: fromHex(patient), amount: cents };
}

export async function recordPayment(ledger: Ledger, patient: string, cents: number): Promise<Block> {
	return ledger.append([paymentTx(patient, cents)]);
}
