/**
 * Which screens of the app a member's role may use, derived from the transaction rules
 * that decide what each role may write: a screen whose every action the ledger would
 * refuse from this role is not shown. The views anyone needs (the ledger, the network,
 * the members, diagnostics, the explorer and the demo) are shown to every node.
 */
import { CLAIM_ROLES, PAYER_ROLES, PAYMENT_ROLES } from './contracts/transactions.js';
import { RECORD_WRITERS } from './records/transactions.js';
import { ANSWER_ROLES, KEY_HOLDER_ROLES } from './research/study.js';
import { STOCK_ROLES } from './supply/transactions.js';

/** Every screen, in the order the navigation lists them. */
export const SCREENS = [
	'ledger',
	'patients',
	'research',
	'network',
	'members',
	'billing',
	'inventory',
	'diagnostics',
	'explorer',
	'demo'
] as const;
export type Screen = (typeof SCREENS)[number];

const has = (roles: readonly string[], role: string) => roles.includes(role);

/** Whether a node of `role` (null: not a member yet) may use `screen`. */
export function mayUse(role: string | null, screen: Screen): boolean {
	switch (screen) {
		// Record writers keep charts; a patient's own device opens on the patient's view.
		case 'patients':
			return role !== null && (has(RECORD_WRITERS, role) || role === 'patient');
		// Researchers ask; clinics holding study keys approve studies and answer queries.
		case 'research':
			return role !== null && (role === 'researcher' || has(ANSWER_ROLES, role) || has(KEY_HOLDER_ROLES, role));
		case 'billing':
			return role !== null && (has(CLAIM_ROLES, role) || has(PAYMENT_ROLES, role) || has(PAYER_ROLES, role));
		case 'inventory':
			return role !== null && has(STOCK_ROLES, role);
		default:
			return true;
	}
}

/** The screens a node of `role` sees, in navigation order. */
export function screensFor(role: string | null): Screen[] {
	return SCREENS.filter((screen) => mayUse(role, screen));
}

/**
 * The first screen of a node that opens: a clinic's is its patients, a payer's its
 * claims, a researcher's its studies; a node that is not a member yet sees the ledger
 * filling up as blocks arrive.
 */
export function firstScreen(role: string | null): Screen {
	for (const screen of ['patients', 'billing', 'research'] as const) if (mayUse(role, screen)) return screen;
	return 'ledger';
}

/** The billing views a role may use: the payer's view only for payers, the clinic's for those who bill or take payments. */
export function billingViewsFor(role: string | null): ('payer' | 'clinic' | 'flags' | 'contracts')[] {
	if (role === null) return [];
	const views: ('payer' | 'clinic' | 'flags' | 'contracts')[] = [];
	if (has(PAYER_ROLES, role)) views.push('payer');
	if (has(CLAIM_ROLES, role) || has(PAYMENT_ROLES, role)) views.push('clinic');
	views.push('flags', 'contracts');
	return views;
}

/** Whether `name` (a first path segment) names a screen. */
export function isScreen(name: string): name is Screen {
	return (SCREENS as readonly string[]).includes(name);
}
