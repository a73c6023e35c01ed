/**
 * The shape of the supply state (built by the fold, fold.ts) and what every part of the
 * fold shares: lot keys, expiry instants, the clinic a device writes for, and flags with
 * their evidence.
 */
import { StoredPages, toHex, type Block, type CborValue } from '$lib/core/index.js';
import type { MemberClinics } from '../members.js';
import type { Flag, ItemState, LotState, Totals, TransferState } from './entities.js';

export const DEFAULT_HORIZON_DAYS = 90;
export const DEFAULT_TRANSIT_DAYS = 7;
export const DAY_MS = 86_400_000;
/** Evidence kept per flag: the first blocks, enough to look into it. */
export const MAX_EVIDENCE = 20;

/**
 * The supply fold's state (fold.ts). The part every block may read is in memory and in each
 * checkpoint: the clinic each device writes for, the policy, items, reorder points, and the
 * transfers still in transit (bounded by what is on its way, not by the years). The rest is
 * a page per key (pages.ts), kept as rows of the store under a ledger (issue 19, item 3): a
 * lot's page (`l:<gtin>|<lot>`: the lot, its stock and totals per clinic, its flags), a
 * received transfer's (`t:<id>`), a transfer's flags (`tf:<id>`) and a serial's
 * (`s:<gtin>|<serial>`: its reuse flag). Received transfers are pages of their own, apart
 * from the flags, so that a screen listing stock and flags never reads them.
 */
export interface SupplyState {
	/** Device key → clinic key, as `member.add` with `clinic` says (a device without one is its own clinic). */
	clinics: MemberClinics;
	policy: { horizonDays: number; transitDays: number };
	items: Record<string, ItemState>;
	/** clinic → GTIN → reorder point. */
	reorder: Record<string, Record<string, number>>;
	/** Transfers sent and not yet received, by id. */
	transit: Record<string, TransferState>;
	/** Transfer ids in transit not yet flagged overdue. */
	open: string[];
	pages: SupplyPages;
}

/** A page of the supply state: a lot's (`lot` set), a received transfer's (`transfer` set), or a transfer's or serial's flags (flags only). */
export interface SupplyPage {
	lot: LotState | null;
	/** clinic → location → quantity on hand (a lot's page). */
	stock: Record<string, Record<string, number>>;
	/** clinic → cumulative movements (a lot's page). */
	totals: Record<string, Totals>;
	transfer: TransferState | null;
	/** The flags of this lot, transfer or serial, by key. */
	flags: Record<string, Flag>;
}

/**
 * The supply state as readers see it, every page gathered (pages.ts `readSupply`): the
 * shape the views (views.ts), the forms and the tests read.
 */
export interface SupplyView {
	clinics: MemberClinics;
	policy: { horizonDays: number; transitDays: number };
	items: Record<string, ItemState>;
	lots: Record<string, LotState>;
	/** lot key → clinic → location → quantity on hand. */
	stock: Record<string, Record<string, Record<string, number>>>;
	/** lot key → clinic → cumulative movements. */
	totals: Record<string, Record<string, Totals>>;
	/** Every transfer, in transit or received. */
	transfers: Record<string, TransferState>;
	/** Transfer ids sent, not yet received and not yet flagged overdue. */
	open: string[];
	/** clinic → GTIN → reorder point. */
	reorder: Record<string, Record<string, number>>;
	flags: Record<string, Flag>;
}

/** The page keys' prefixes, and the keys: a lot's, a received transfer's, a transfer's flags', a serial's. */
export const LOT_PAGE = 'l:';
export const TRANSFER_PAGE = 't:';
export const TRANSFER_FLAGS_PAGE = 'tf:';
export const SERIAL_PAGE = 's:';
export const lotPageKey = (gtin: string, lot: string) => `${LOT_PAGE}${lotKey(gtin, lot)}`;
export const transferPageKey = (id: string) => `${TRANSFER_PAGE}${id}`;
export const transferFlagsPageKey = (id: string) => `${TRANSFER_FLAGS_PAGE}${id}`;
export const serialPageKey = (gtin: string, serial: string) => `${SERIAL_PAGE}${serialKey(gtin, serial)}`;

export const emptyPage = (): SupplyPage => ({ lot: null, stock: {}, totals: {}, transfer: null, flags: {} });

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Which page `key` is, in an error. */
function pageName(key: string): string {
	const after = (prefix: string) => key.slice(prefix.length);
	if (key.startsWith(LOT_PAGE)) return `of lot ${after(LOT_PAGE)}`;
	if (key.startsWith(TRANSFER_PAGE)) return `of transfer ${after(TRANSFER_PAGE).slice(0, 12)}`;
	if (key.startsWith(TRANSFER_FLAGS_PAGE)) return `of transfer ${after(TRANSFER_FLAGS_PAGE).slice(0, 12)}'s flags`;
	return `of serial ${after(SERIAL_PAGE)}`;
}

/** The supply state's pages by key, each packed as JSON (a page holds only strings, numbers, null and plain objects). */
export class SupplyPages extends StoredPages<SupplyPage> {
	constructor() {
		super({ pack: (page) => utf8.encode(JSON.stringify(page)), unpack: (bytes) => JSON.parse(text.decode(bytes)) as SupplyPage }, pageName);
	}
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
export const clinicOf = (state: Pick<SupplyState, 'clinics'>, author: string) => state.clinics[author] ?? author;

/** Raises the flag `key` at `block` on `page` (the lot's, transfer's or serial's it names); a flag already raised only gains evidence. */
export function flag(
	page: SupplyPage,
	key: string,
	block: Block,
	f: Omit<Flag, 'evidence' | 'time' | 'resolved'>,
	evidence: string[] = [block.id]
): void {
	const existing = page.flags[key];
	if (existing) {
		for (const id of evidence) if (existing.evidence.length < MAX_EVIDENCE && !existing.evidence.includes(id)) existing.evidence.push(id);
		return;
	}
	page.flags[key] = { ...f, evidence: evidence.slice(0, MAX_EVIDENCE), time: block.time, resolved: null };
}
