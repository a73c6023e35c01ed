/**
 * The shape of the supply state (built by the fold, fold.ts) and what every part of the
 * fold shares: lot keys, expiry instants, the clinic a device writes for, and flags with
 * their evidence.
 */
import { toHex, type Block, type CborValue } from '$lib/core/index.js';
import type { MemberClinics } from '../members.js';
import type { Flag, ItemState, LotState, Totals, TransferState } from './entities.js';

export const DEFAULT_HORIZON_DAYS = 90;
export const DEFAULT_TRANSIT_DAYS = 7;
export const DAY_MS = 86_400_000;
/** Evidence kept per flag: the first blocks, enough to look into it. */
export const MAX_EVIDENCE = 20;

export interface SupplyState {
	/** Device key → clinic key, as `member.add` with `clinic` says (a device without one is its own clinic). */
	clinics: MemberClinics;
	policy: { horizonDays: number; transitDays: number };
	items: Record<string, ItemState>;
	lots: Record<string, LotState>;
	/** lot key → clinic → location → quantity on hand. */
	stock: Record<string, Record<string, Record<string, number>>>;
	/** lot key → clinic → cumulative movements. */
	totals: Record<string, Record<string, Totals>>;
	transfers: Record<string, TransferState>;
	/** Transfer ids sent, not yet received and not yet flagged overdue. */
	open: string[];
	/** clinic → GTIN → reorder point. */
	reorder: Record<string, Record<string, number>>;
	flags: Record<string, Flag>;
}

/** A transaction field as text, or null when it is not a string. */
export const txString = (v: CborValue | undefined) => (typeof v === 'string' ? v : null);
/** A transaction field's bytes as hex, or null when it is not bytes. */
export const txHex = (v: CborValue | undefined) => (v instanceof Uint8Array ? toHex(v) : null);

/** Key of a lot: GTIN and lot number (`|` is outside the GS1 character set). */
export const lotKey = (gtin: string, lot: string) => `${gtin}|${lot}`;
/** Key of a serial number given: GTIN and serial (serial-index.ts; a serial is unique per GTIN, not per lot). */
export const serialKey = (gtin: string, serial: string) => `${gtin}|${serial}`;

export const emptyTotals = (): Totals => ({ received: 0, sent: 0, transferredIn: 0, administered: 0, wasted: 0, adjusted: 0 });

/** Milliseconds from which a lot with this last day of use is expired (the next midnight UTC). */
export function expiryInstant(expiry: string): number {
	return Date.parse(`${expiry}T00:00:00Z`) + DAY_MS;
}

/** The clinic a device writes for. */
export const clinicOf = (state: SupplyState, author: string) => state.clinics[author] ?? author;

/** Raises the flag `key` at `block`; a flag already raised only gains evidence. */
export function flag(
	state: SupplyState,
	key: string,
	block: Block,
	f: Omit<Flag, 'evidence' | 'time' | 'resolved'>,
	evidence: string[] = [block.id]
): void {
	const existing = state.flags[key];
	if (existing) {
		for (const id of evidence) if (existing.evidence.length < MAX_EVIDENCE && !existing.evidence.includes(id)) existing.evidence.push(id);
		return;
	}
	state.flags[key] = { ...f, evidence: evidence.slice(0, MAX_EVIDENCE), time: block.time, resolved: null };
}
