/**
 * What the Inventory tab shows, read from the supply fold: stock by item, lot and
 * location, expiry and reorder alerts, the expiry timeline, active recalls and a
 * recall's trace (affected patients, clinics holding stock). Alerts take `now` from the
 * caller: they are a view of the moment, unlike the fold's judgements, which use block time.
 */
import type { AdministrationRecord, ContactState, Flag, LotState, RecallState } from './entities.js';
import { administerProblem, expiryInstant, lotKey, type SupplyView } from './fold.js';
import type { ContactStatus } from './transactions.js';

const DAY_MS = 86_400_000;

export interface StockRow {
	gtin: string;
	name: string | null;
	lot: string;
	expiry: string | null;
	location: string;
	qty: number;
	recalled: boolean;
	/** Why a dose may not be given now (recalled, expired), or null. */
	blocked: string | null;
	/** Whole days until expiry (negative once expired), or null when unknown. */
	daysLeft: number | null;
}

/** The clinic's stock, one row per lot and location with a non-zero quantity, by item name, expiry and lot. */
export function inventory(state: SupplyView, clinic: string, now: number): StockRow[] {
	const rows: StockRow[] = [];
	for (const [key, byClinic] of Object.entries(state.stock)) {
		const locations = byClinic[clinic];
		if (!locations) continue;
		const lot = state.lots[key]!;
		for (const [location, qty] of Object.entries(locations)) {
			if (qty === 0) continue;
			rows.push({
				gtin: lot.gtin,
				name: state.items[lot.gtin]?.name ?? null,
				lot: lot.lot,
				expiry: lot.expiry,
				location,
				qty,
				recalled: lot.recall !== null,
				blocked: administerProblem(state, lot.gtin, lot.lot, now),
				daysLeft: lot.expiry === null ? null : Math.ceil((expiryInstant(lot.expiry) - now) / DAY_MS) - 1
			});
		}
	}
	return rows.sort(
		(a, b) =>
			(a.name ?? a.gtin).localeCompare(b.name ?? b.gtin) ||
			(a.expiry ?? '9999').localeCompare(b.expiry ?? '9999') ||
			a.lot.localeCompare(b.lot) ||
			a.location.localeCompare(b.location)
	);
}

/** Rows on hand that expire within the policy's horizon, or already have. */
export function expiryAlerts(state: SupplyView, clinic: string, now: number): StockRow[] {
	return inventory(state, clinic, now).filter((r) => r.qty > 0 && r.daysLeft !== null && r.daysLeft < state.policy.horizonDays);
}

export interface ReorderAlert {
	gtin: string;
	name: string | null;
	onHand: number;
	level: number;
}

/** Items whose usable stock (not expired or recalled) at the clinic is at or below its reorder point. */
export function reorderAlerts(state: SupplyView, clinic: string, now: number): ReorderAlert[] {
	const usable: Record<string, number> = {};
	for (const row of inventory(state, clinic, now)) if (!row.blocked) usable[row.gtin] = (usable[row.gtin] ?? 0) + row.qty;
	return Object.entries(state.reorder[clinic] ?? {})
		.filter(([gtin, level]) => level > 0 && (usable[gtin] ?? 0) <= level)
		.map(([gtin, level]) => ({ gtin, name: state.items[gtin]?.name ?? null, onHand: usable[gtin] ?? 0, level }))
		.sort((a, b) => a.gtin.localeCompare(b.gtin));
}

export interface TimelineBucket {
	/** `YYYY-MM`. */
	month: string;
	qty: number;
	lots: string[];
	expired: boolean;
}

/** What the clinic holds, by month of expiry, for the timeline chart. */
export function expiryTimeline(state: SupplyView, clinic: string, now: number): TimelineBucket[] {
	const thisMonth = new Date(now).toISOString().slice(0, 7);
	const buckets = new Map<string, TimelineBucket>();
	for (const row of inventory(state, clinic, now)) {
		if (row.expiry === null || row.qty <= 0) continue;
		const month = row.expiry.slice(0, 7);
		const bucket = buckets.get(month) ?? { month, qty: 0, lots: [], expired: month < thisMonth };
		bucket.qty += row.qty;
		if (!bucket.lots.includes(row.lot)) bucket.lots.push(row.lot);
		buckets.set(month, bucket);
	}
	return [...buckets.values()].sort((a, b) => a.month.localeCompare(b.month));
}

export interface RecallView {
	gtin: string;
	name: string | null;
	lot: string;
	recall: RecallState;
}

/** Every recalled lot, newest recall first. */
export function activeRecalls(state: SupplyView): RecallView[] {
	return Object.values(state.lots)
		.filter((l): l is LotState & { recall: RecallState } => l.recall !== null)
		.map((l) => ({ gtin: l.gtin, name: state.items[l.gtin]?.name ?? null, lot: l.lot, recall: l.recall }))
		.sort((a, b) => b.recall.time - a.recall.time || a.lot.localeCompare(b.lot));
}

export interface AffectedPatient {
	patient: string;
	administrations: AdministrationRecord[];
	status: ContactStatus;
	contact: ContactState | null;
}

/** Where a lot still is: clinics holding it (quantity on hand) and what is in transit, by receiving clinic. */
export interface LotWhereabouts {
	holding: { clinic: string; qty: number }[];
	inTransit: { clinic: string; qty: number }[];
}

export interface RecallTrace extends LotWhereabouts {
	administrations: AdministrationRecord[];
	patients: AffectedPatient[];
}

/** Clinics holding some of the lot, with the quantity on hand. */
function holdingOf(state: SupplyView, key: string): LotWhereabouts['holding'] {
	return Object.entries(state.stock[key] ?? {})
		.map(([clinic, locations]) => ({ clinic, qty: Object.values(locations).reduce((s, q) => s + q, 0) }))
		.filter((h) => h.qty > 0);
}

/** Where the lot still is: lookups in the fold's stock and transfers. Who received it is the recall index's (lot-index.ts `recallTrace`). */
export function lotWhereabouts(state: SupplyView, gtin: string, lot: string): LotWhereabouts {
	const holding = holdingOf(state, lotKey(gtin, lot));
	const transit = new Map<string, number>();
	for (const t of Object.values(state.transfers))
		if (t.gtin === gtin && t.lot === lot && !t.received) transit.set(t.to, (transit.get(t.to) ?? 0) + t.qty);
	return { holding, inTransit: [...transit.entries()].map(([clinic, qty]) => ({ clinic, qty })) };
}

/** Whether a recall of the lot concerns `clinic`: it holds some, or gave doses of it. */
export function recallConcerns(state: SupplyView, gtin: string, lot: string, clinic: string): boolean {
	const key = lotKey(gtin, lot);
	return holdingOf(state, key).some((h) => h.clinic === clinic) || (state.totals[key]?.[clinic]?.administered ?? 0) > 0;
}

/** Transfers sent to `clinic` and not yet received, oldest first. */
export function incomingTransfers(state: SupplyView, clinic: string) {
	return Object.values(state.transfers)
		.filter((t) => t.to === clinic && !t.received)
		.sort((a, b) => a.sentTime - b.sentTime);
}

/** Flags (with their keys) that concern `clinic`, or every flag when null; open ones first, newest first. */
export function flagsFor(state: SupplyView, clinic: string | null): (Flag & { key: string })[] {
	return Object.entries(state.flags)
		.map(([key, f]) => ({ key, ...f }))
		.filter((f) => clinic === null || f.clinic === clinic)
		.sort((a, b) => Number(a.resolved !== null) - Number(b.resolved !== null) || b.time - a.time);
}
