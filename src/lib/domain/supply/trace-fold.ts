/**
 * The recall and trace part of the supply fold (fold.ts): each administration judged
 * against the lot's recall and expiry (a flag when it should not have been given), serials
 * given more than once, administrations not linked to an encounter of the same patient
 * (read from the records index: records/encounter-lookup.ts), and recalls. Who received a
 * lot and who was reached after its recall is the recall index, kept in the store
 * (lot-index.ts).
 */
import type { Block, CborValue, FoldContext, Tx } from '$lib/core/index.js';
import { encounterAt, type EncounterRef } from '../records/encounter-lookup.js';
import { lotProblem } from './administer-rules.js';
import { earlierUse } from './serial-index.js';
import { lotPage, move, totalsOf } from './stock-fold.js';
import { emptyPage, flag, serialKey, serialPageKey, txHex as hex, txString as str, type SupplyState } from './supply-state.js';
import { DEFAULT_LOCATION } from './transactions.js';

/** Transaction types this part folds; the rest are the stock part's. */
export const TRACE_TXS: ReadonlySet<string> = new Set(['supply.administer', 'supply.recall', 'supply.contact']);

/** The encounter a `supply.administer` names, if any (the fold's `reads`). */
export function doseEncounter(tx: Tx): EncounterRef | null {
	const enc = tx.encounter as { block?: CborValue; rid?: CborValue } | undefined;
	return enc ? { block: hex(enc.block)!, rid: hex(enc.rid)! } : null;
}

/** Applies one trace transaction (an administration, a recall, a follow-up) of `clinic`; `context` gives the encounter records doses name. */
export function applyTraceTx(state: SupplyState, block: Block, tx: Tx, index: number, clinic: string, context: FoldContext): void {
	const gtin = str(tx.gtin);
	const lot = str(tx.lot);
	const location = str(tx.location) ?? DEFAULT_LOCATION;
	switch (tx.t) {
		case 'supply.administer': {
			const patient = hex(tx.patient)!;
			const qty = (tx.qty as number | undefined) ?? 1;
			const serial = str(tx.serial);
			const encounter = doseEncounter(tx);
			// The administration itself is a row of the recall index (lot-index.ts); the fold keeps stock and flags.
			const page = lotPage(state, gtin!, lot!);
			const refused = lotProblem(page.lot!, lot!, block.time);
			const where = { clinic, gtin, lot };
			if (refused)
				flag(page, `refused-administration|${block.id}|${index}`, block, {
					kind: 'refused-administration',
					message: `dose given although ${refused}`,
					...where
				});
			if (serial !== null) {
				// The serials given are rows of the store (serial-index.ts), read with the block.
				const key = serialKey(gtin!, serial);
				const first = earlierUse(context, key, block, index);
				if (first !== null)
					flag(
						state.pages.page(serialPageKey(gtin!, serial), emptyPage),
						`serial-reused|${key}`,
						block,
						{ kind: 'serial-reused', message: `serial ${serial} of ${gtin} given more than once`, ...where },
						[first, block.id]
					);
			}
			if (!encounter) {
				flag(page, `no-encounter|${block.id}|${index}`, block, {
					kind: 'no-encounter',
					message: 'administration not linked to an encounter',
					...where
				});
			} else {
				const encounterPatient = encounterAt(context, encounter, block, index)?.patient;
				if (encounterPatient === undefined)
					flag(page, `no-encounter|${block.id}|${index}`, block, {
						kind: 'no-encounter',
						message: `encounter ${encounter.rid.slice(0, 8)} in block ${encounter.block.slice(0, 8)} is not on the ledger before this administration`,
						...where
					});
				else if (encounterPatient !== patient)
					flag(
						page,
						`encounter-patient-mismatch|${block.id}|${index}`,
						block,
						{ kind: 'encounter-patient-mismatch', message: 'the encounter is another patient’s', ...where },
						[encounter.block, block.id]
					);
			}
			totalsOf(page, clinic).administered += qty;
			move(page, block, clinic, location, -qty);
			return;
		}
		case 'supply.recall': {
			const known = lotPage(state, gtin!, lot!).lot!;
			known.recall ??= { block: block.id, time: block.time, by: block.author, reason: str(tx.reason)! };
			return;
		}
		case 'supply.contact':
			// Follow-up after a recall: a row of the recall index (lot-index.ts) only.
			return;
	}
}
