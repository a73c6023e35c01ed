/**
 * The claims fold's records: contracts, coverages, authorizations, claims with their
 * decisions, flags, payments, remittances, and what the fold ignored (claims-state.ts holds
 * the state they are kept in). Money is in cents, dates are day numbers.
 */
import type { ClaimLine } from './claim.js';
import type { Policy } from './policy.js';

/**
 * A transaction's place in the ledger order: its block's clock and id, then its index in
 * the block. A patient's page is re-applied on its own when a block lands late (the fold's
 * `keyed`), with the head (coverages, authorizations, clinics) already holding what later
 * blocks wrote: every read of the head is "as of" the place of the transaction applied.
 */
export type TxPlace = readonly [clock: number, block: string, tx: number];

export function comparePlace(a: TxPlace, b: TxPlace): number {
	return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];
}

/** Where claim `rec` sits in the ledger order (its id is `<block>-<index>`). */
export const claimPlace = (rec: { readonly clock: number; readonly block: string; readonly id: string }): TxPlace => [
	rec.clock,
	rec.block,
	Number(rec.id.slice(rec.block.length + 1))
];

export interface ContractVersion {
	readonly plan: string;
	readonly version: number;
	readonly payer: string;
	/** The deploying block, its seq in the payer's chain and its claimed time (ms). */
	readonly block: string;
	readonly seq: number;
	readonly time: number;
	readonly policy: Policy;
}

export interface Contract {
	readonly plan: string;
	readonly payer: string;
	/** In the order they took effect; the last one decides new claims. */
	readonly versions: ContractVersion[];
}

export interface Coverage {
	readonly id: string;
	readonly payer: string;
	readonly plan: string;
	readonly patient: string;
	readonly start: number;
	readonly end: number | null;
	readonly block: string;
	/** Where the enrolment sits in the ledger order. */
	readonly at: TxPlace;
}

export interface Authorization {
	readonly id: string;
	readonly payer: string;
	readonly coverage: string;
	readonly code: string;
	readonly start: number;
	readonly end: number;
	readonly block: string;
	/** Where the grant sits in the ledger order. */
	readonly at: TxPlace;
}

/** X12 claim adjustment group: CO contractual (the provider writes it off), PR patient responsibility. */
export type AdjustmentGroup = 'CO' | 'PR';

export interface Adjustment {
	readonly group: AdjustmentGroup;
	/** Claim adjustment reason code (CARC). */
	readonly carc: string;
	readonly amount: number;
}

export interface LineOutcome {
	readonly seq: number;
	readonly code: string;
	readonly units: number;
	readonly billed: number;
	readonly allowed: number;
	readonly payer: number;
	/** Sum of the PR adjustments. */
	readonly patient: number;
	readonly adjustments: Adjustment[];
	readonly denied: boolean;
	/** The payer edit that denied the line, when one did. */
	readonly edit: string | null;
}

export type DecisionKind = 'original' | 'correction' | 'appeal';

/** One adjudication of a claim: what, under which contract version, caused by which block. */
export interface Decision {
	readonly block: string;
	readonly kind: DecisionKind;
	readonly plan: string | null;
	readonly version: number | null;
	readonly coverage: string;
	readonly lines: LineOutcome[];
	readonly billed: number;
	readonly payer: number;
	readonly patient: number;
	/** CO adjustments: billed = payer + patient + adjusted. */
	readonly adjusted: number;
	readonly status: 'paid' | 'partial' | 'denied';
}

export interface ClaimRecord {
	readonly id: string;
	/** The claim's number in its patient's page (0 for the patient's first claim): the page's indexes refer to claims by it. */
	readonly n: number;
	readonly block: string;
	/** The submitting block's clock: with the id, the claim's place in the ledger order ({@link claimPlace}). */
	readonly clock: number;
	readonly author: string;
	readonly clinic: string;
	/** Claimed time (ms) of the submitting block. */
	readonly submitted: number;
	readonly patient: string;
	readonly coverage: string;
	readonly payer: string | null;
	readonly billed: number;
	readonly diagnoses: readonly string[];
	/** The lines as billed (encounter references are checked on arrival and not kept). */
	readonly lines: readonly Omit<ClaimLine, 'encounters'>[];
	preAuth: string[];
	/** Every decision, oldest first: the last is the claim's current outcome. */
	readonly decisions: Decision[];
	readonly replaces: string | null;
	replacedBy: string | null;
}

export type FlagKind =
	'duplicate' | 'unbundling' | 'excessive-units' | 'after-death' | 'encounter-missing' | 'encounter-other-clinic' | 'provider-outlier';

/** A fraud check's finding: evidence for a person to judge, never a denial by itself. */
export interface Flag {
	readonly kind: FlagKind;
	/** The claim concerned (for provider-outlier: the provider's key). */
	readonly claim: string;
	readonly detail: string;
	/** The blocks the finding rests on. */
	readonly blocks: string[];
}

export interface Payment {
	readonly block: string;
	readonly clock: number;
	readonly clinic: string;
	readonly patient: string;
	readonly amount: number;
	readonly claim: string | null;
}

export interface Remittance {
	readonly block: string;
	readonly clock: number;
	readonly payer: string;
	readonly clinic: string;
	readonly claim: string;
	readonly amount: number;
}

/** A transaction the fold could not apply (e.g. a claim naming an unknown coverage is still decided; a correction of an unknown claim is not). */
export interface Ignored {
	readonly block: string;
	readonly clock: number;
	readonly tx: number;
	readonly reason: string;
}

/**
 * What the fold keeps of one patient: the patient's claims, the adjudication accumulators
 * they feed, and everything else the patient's transactions decide (flags, payments,
 * remittances, the recorded death, what was ignored). Nothing in it is read for another
 * patient's claim (a line's duplicate key, frequency and same-day codes are the patient's
 * own; a paid line's deductible and out-of-pocket go to a coverage of the patient), so a
 * checkpoint keeps each page as its own packed bytes, decoded when first used (`Pages`),
 * and a block that lands late re-applies only its patients' pages (claims-fold.ts).
 * Nothing in it depends on the order blocks arrived in: claims are numbered within the page,
 * and clinics named by their place in the page's own list.
 */
export interface PatientPage {
	/** The patient's claims by id, in the order the fold recorded them (ledger order). */
	claims: Record<string, ClaimRecord>;
	/** Clinics (hex) in the order the page first named them: `clinic#` below is a place in this list. */
	clinics: string[];
	/** clinic#|code|date|modifiers → the claim (n) that billed it first. */
	lineKeys: Record<string, number>;
	/** code → [date of service, claim n] of lines served (not denied). */
	served: Record<string, [number, number][]>;
	/** coverage|year → [deductible met, out-of-pocket spent], cents. */
	accum: Record<string, [number, number]>;
	/** clinic#|date → [code, claim n] of every line billed, for unbundling across claims. */
	sameDay: Record<string, [string, number][]>;
	/** Fraud findings on the patient's claims, as the fold recorded them. */
	flags: Flag[];
	/** `payment.record`s of the patient, and remittances of the patient's claims, in ledger order. */
	payments: Payment[];
	remittances: Remittance[];
	/** The last death recorded for the patient. */
	death: { day: number; block: string } | null;
	/** The patient's transactions the fold could not apply, in ledger order. */
	ignored: Ignored[];
}
