/**
 * The administration rules (a dose of a recalled or expired lot is refused), as contract
 * data. Used by the fold (judging an administration already on the ledger) and by the
 * form (refusing before writing).
 */
import type { CborValue } from '$lib/core/index.js';
import { compileRule, ruleHolds } from '../contracts/rule-logic.js';
import { expiryInstant, lotKey, type SupplyState } from './supply-state.js';

/**
 * Why a dose of the lot may not be given at `time`, or null. Used by the fold (judging
 * an administration already on the ledger) and by the form (refusing before writing).
 */
export function administerProblem(state: SupplyState, gtin: string, lot: string, time: number): string | null {
	const known = state.lots[lotKey(gtin, lot)];
	if (!known) return null;
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
