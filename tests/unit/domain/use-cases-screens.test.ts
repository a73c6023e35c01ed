// Navigation by role (domain/screens.ts): a screen is shown to a role exactly when the
// ledger's rules let that role write what the screen is for.
import { describe, expect, it } from 'vitest';
import { CLAIM_ROLES, PAYER_ROLES, PAYMENT_ROLES } from '$lib/domain/contracts/transactions.js';
import { MEMBER_ROLES } from '$lib/domain/members.js';
import { RECORD_WRITERS } from '$lib/domain/records/transactions.js';
import { ANSWER_ROLES } from '$lib/domain/research/study.js';
import { STOCK_ROLES } from '$lib/domain/supply/transactions.js';
import { billingViewsFor, firstScreen, isScreen, mayUse, SCREENS, screensFor } from '$lib/domain/screens.js';

const roles = [...MEMBER_ROLES, null];
const includes = (list: readonly string[], role: string | null) => role !== null && list.includes(role);

describe('screens by role', () => {
	it('shows each screen to the roles the rules let act on it, and the common screens to every node', () => {
		for (const role of roles) {
			const shown = screensFor(role);
			expect(shown.includes('patients'), `${role}: patients`).toBe(includes(RECORD_WRITERS, role) || role === 'patient');
			expect(shown.includes('billing'), `${role}: billing`).toBe(
				includes(CLAIM_ROLES, role) || includes(PAYMENT_ROLES, role) || includes(PAYER_ROLES, role)
			);
			expect(shown.includes('inventory'), `${role}: inventory`).toBe(includes(STOCK_ROLES, role));
			expect(shown.includes('research'), `${role}: research`).toBe(role === 'researcher' || includes(ANSWER_ROLES, role));
			for (const common of ['ledger', 'network', 'members', 'diagnostics', 'explorer', 'demo'] as const) expect(shown).toContain(common);
			// Navigation order is the order of SCREENS.
			expect(shown).toEqual(SCREENS.filter((s) => shown.includes(s)));
			expect(shown.every((s) => mayUse(role, s))).toBe(true);
		}
	});

	it('keeps the front desk out of research and the payer view, and a payer out of patients', () => {
		expect(screensFor('front-desk')).not.toContain('research');
		expect(billingViewsFor('front-desk')).not.toContain('payer');
		expect(screensFor('payer')).not.toContain('patients');
		expect(billingViewsFor('payer')[0]).toBe('payer');
		expect(billingViewsFor('admin')[0]).toBe('clinic');
		expect(billingViewsFor(null)).toEqual([]);
	});

	it('opens a clinic on its patients, a payer on billing, a researcher on research, anyone else on the ledger', () => {
		for (const role of roles) {
			const first = firstScreen(role);
			expect(mayUse(role, first)).toBe(true);
			if (mayUse(role, 'patients')) expect(first).toBe('patients');
		}
		expect(firstScreen('admin')).toBe('patients');
		expect(firstScreen('payer')).toBe('billing');
		expect(firstScreen('researcher')).toBe('research');
		expect(firstScreen(null)).toBe('ledger');
	});

	it('knows its screen names and nothing else', () => {
		for (const s of SCREENS) expect(isScreen(s)).toBe(true);
		for (const other of ['', 'Ledger', 'ledger/', 'admin', 'constructor', '__proto__']) expect(isScreen(other)).toBe(false);
	});
});
