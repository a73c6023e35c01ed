/**
 * What the supply state holds, one shape per concept: items, lots and their recalls,
 * per-clinic totals, transfers, administrations (the recall index), contacts reached
 * after a recall, and flags. The fold that builds them is fold.ts.
 */
import type { AdministrationKind, ContactStatus } from './transactions.js';

export interface ItemState {
	gtin: string;
	name: string;
	form: string | null;
	strength: string | null;
	storage: string | null;
	block: string;
}

export interface RecallState {
	block: string;
	time: number;
	by: string;
	reason: string;
}

export interface LotState {
	gtin: string;
	lot: string;
	/** Last day of use (inclusive, UTC) as the first receipt stated it; null when only recalled or used, never received. */
	expiry: string | null;
	recall: RecallState | null;
}

/** Cumulative movements of one lot at one clinic. */
export interface Totals {
	received: number;
	sent: number;
	transferredIn: number;
	administered: number;
	wasted: number;
	adjusted: number;
}

export interface TransferState {
	id: string;
	from: string;
	to: string;
	gtin: string;
	lot: string;
	qty: number;
	location: string;
	sentBlock: string;
	sentTime: number;
	received: { block: string; time: number; location: string } | null;
}

/** One entry of the recall index. */
export interface AdministrationRecord {
	block: string;
	/** Position of the transaction in its block. */
	index: number;
	patient: string;
	clinic: string;
	author: string;
	time: number;
	kind: AdministrationKind;
	qty: number;
	serial: string | null;
	encounter: { block: string; rid: string } | null;
	/** Why the fold judged this dose should not have been given (recalled or expired lot), or null. */
	refused: string | null;
}

export interface ContactState {
	status: ContactStatus;
	note: string | null;
	block: string;
	time: number;
	by: string;
}

export const FLAG_KINDS = [
	'negative-stock',
	'dispensed-exceeds-received',
	'transfer-not-received',
	'transfer-unknown',
	'transfer-wrong-clinic',
	'transfer-duplicate',
	'serial-reused',
	'no-encounter',
	'encounter-patient-mismatch',
	'refused-administration',
	'lot-expiry-mismatch'
] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];

export interface Flag {
	kind: FlagKind;
	message: string;
	clinic: string | null;
	gtin: string | null;
	lot: string | null;
	/** Block ids that show it, first ones first (at most MAX_EVIDENCE). */
	evidence: string[];
	time: number;
	/** The block that settled it (a transfer finally received), or null while it stands. */
	resolved: string | null;
}
