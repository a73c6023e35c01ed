/**
 * The administration rules (a dose of a recalled or expired lot is refused), as contract
 * data. Used by the fold (judging an administration already on the ledger) and by the
 * form (refusing before writing).
 */
import type { CborValue } from '$lib/core/index.js';
import { compileRule, ruleHolds } from '../contracts/rule-logic.js';
import { expiryInstant, lotKey, type SupplyView } from './supply-state.js';

/**
 * Why a dose of the lot may not be given at `time`, or null. Used by the fold (judging
 * an administration already on the ledger) and by the form (refusing before writing).
 */
export function administerProblem(state: Pick<SupplyView, 'lots'>, gtin: string, lot: string, time: number): string | null {
	const known = state.lots[lotKey(gtin, lot)];
	return known ? lotProblem(known, lot, time) : null;
}

/**
 * Why a dose of lot number `lot` may not be given at `time`, given what is known of the
 * lot then: its expiry (as its first receipt stated it) and its recall. The fold asks with
 * its lot state, the recall index (lot-index.ts) with the lot's rows before the dose.
 */
export function lotProblem(known: { expiry: string | null; recall: { reason: string } | null }, lot: string, time: number): string | null {
	const data = {
		time,
		lot: {
			recalled: known.recall !== null && known.recall !== undefined,
			expiresAt: known.expiry === null ? null : expiryInstant(known.expiry)
		}
	};
	for (const rule of ADMINISTER_RULES) {
		if (ruleHolds(rule.logic, data)) continue;
		return rule.code === 'recalled' ? `lot ${lot} was recalled: ${known.recall!.reason}` : `lot ${lot} expired on ${known.expiry}`;
	}
	return null;
}

/**
 * The administration rules as contract data (JsonLogic, checked and bounded by the
 * contract engine of docs/contracts.md): a dose may be given only while each holds. The
 * data a rule sees: `time` (the block's time, ms) and `lot` {`recalled`, `expiresAt`
 * (ms, null when the lot has no expiry)}.
 */
export const ADMINISTER_RULE_DATA = [
	{ code: 'recalled', rule: { '!': { var: 'lot.recalled' } } },
	{ code: 'expired', rule: { or: [{ '==': [{ var: 'lot.expiresAt' }, null] }, { '<': [{ var: 'time' }, { var: 'lot.expiresAt' }] }] } }
] as const;
const ADMINISTER_RULES = ADMINISTER_RULE_DATA.map((r) => ({
	code: r.code,
	logic: compileRule(r.rule as unknown as CborValue, `administer.${r.code}`).logic
}));
