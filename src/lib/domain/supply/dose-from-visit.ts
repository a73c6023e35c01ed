/**
 * "Give a dose": the administration a visit implies. The patient and the encounter come
 * from the visit; the lot from this clinic's usable stock, first to expire first, so a
 * dose is never typed against a lot id or an encounter id by hand.
 */
import type { Visit } from '../records/visit.js';
import type { AdministrationKind } from './transactions.js';
import type { StockRow } from './views.js';

/** What an administration linked to a visit holds (keys and ids as hex). */
export interface DoseDraft {
	readonly patient: string;
	readonly gtin: string;
	readonly lot: string;
	readonly location: string;
	readonly kind: AdministrationKind;
	readonly qty: number;
	readonly encounter: { readonly block: string; readonly rid: string };
}

/** Lots a dose may be given from: on hand, neither expired nor recalled; first to expire first. */
export function usableLots(rows: readonly StockRow[]): StockRow[] {
	return rows
		.filter((r) => r.qty > 0 && r.blocked === null)
		.sort(
			(a, b) =>
				(a.expiry ?? '9999-99-99').localeCompare(b.expiry ?? '9999-99-99') ||
				(a.name ?? a.gtin).localeCompare(b.name ?? b.gtin) ||
				a.lot.localeCompare(b.lot) ||
				a.location.localeCompare(b.location)
		);
}

/** A stable key for one lot at one location (what a lot picker's option holds). */
export const lotChoice = (row: Pick<StockRow, 'gtin' | 'lot' | 'location'>): string => `${row.gtin}|${row.lot}|${row.location}`;

/**
 * The administration of one unit of the chosen lot at `visit`, or the reason it cannot
 * be given: the choice is not (or no longer) a usable lot on hand here.
 */
export function doseFromVisit(
	visit: Visit,
	rows: readonly StockRow[],
	choice: string,
	kind: AdministrationKind
): { draft: DoseDraft } | { problem: string } {
	const usable = usableLots(rows);
	if (usable.length === 0) return { problem: 'No usable lot is on hand at this clinic: receive stock first.' };
	const row = usable.find((r) => lotChoice(r) === choice);
	if (!row) {
		const held = rows.find((r) => lotChoice(r) === choice);
		return { problem: held?.blocked ? `Lot ${held.lot}: ${held.blocked}. Do not give this dose.` : 'Choose a lot on hand.' };
	}
	return {
		draft: {
			patient: visit.patient,
			gtin: row.gtin,
			lot: row.lot,
			location: row.location,
			kind,
			qty: 1,
			encounter: { block: visit.block, rid: visit.rid }
		}
	};
}
