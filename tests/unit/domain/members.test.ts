import { describe, expect, it } from 'vitest';
import { toHex, type AuthorId } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { ledgerFingerprint } from '$lib/domain/fingerprint.js';
import {
	MEMBER_ROLES,
	memberAddTx,
	memberKeyProblem,
	memberNameProblem,
	memberViews,
	normalizeMemberKey,
	type MemberNames
} from '$lib/domain/members.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';

describe('member keys, roles and names as typed', () => {
	it('accepts 64 hex characters, tolerating spaces and capitals', () => {
		const key = 'AB'.repeat(16) + ' ' + 'cd'.repeat(16);
		expect(memberKeyProblem(key)).toBeNull();
		expect(normalizeMemberKey(key)).toBe('ab'.repeat(16) + 'cd'.repeat(16));
	});

	it('names what is wrong with a key or a name', () => {
		expect(memberKeyProblem('')).toMatch(/Enter the public key/);
		expect(memberKeyProblem('g'.repeat(64))).toMatch(/0-9 and a-f/);
		expect(memberKeyProblem('ab'.repeat(31))).toMatch(/this one has 62/);
		expect(memberNameProblem('x'.repeat(201))).toMatch(/limit is 200/);
		expect(memberNameProblem('  ')).toBeNull();
	});

	it('offers the roles of the issue, all valid for the core rule', () => {
		expect(MEMBER_ROLES).toEqual(['clinician', 'front-desk', 'billing', 'payer', 'researcher', 'patient', 'admin', 'peer']);
	});
});

describe('member.add from the form, and member names', () => {
	it('adds a member the core accepts; names come from the genesis and member.add, on every node', async () => {
		const admin = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES });
		const key = authorOf('newcomer');
		for (const role of MEMBER_ROLES) expect(memberAddTx(key, role, '')).toMatchObject({ t: 'member.add', role });
		const tx = memberAddTx(key.toUpperCase(), 'clinician', '  Hillside Clinic ');
		expect(tx).toEqual({ t: 'member.add', key: expect.any(Uint8Array), role: 'clinician', name: 'Hillside Clinic' });
		expect(toHex(tx.key as Uint8Array)).toBe(key);
		expect(memberAddTx(key, 'peer', ' ')).not.toHaveProperty('name');
		await admin.append([tx]);

		const other = await joinNetwork(admin.net, 'newcomer', { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES });
		expect((await syncInto(other, admin)).rejected).toEqual([]);
		for (const ledger of [admin, other]) {
			const names = ledger.state()['member-names'] as MemberNames;
			expect(names[key]).toBe('Hillside Clinic');
			expect(names[authorOf('founder')]).toBe('Test Clinic');
			const views = memberViews(ledger.roster(), names, authorOf('founder') as AuthorId);
			expect(views.map((v) => [v.name, v.role, v.founder])).toEqual([
				['Test Clinic', 'admin', true],
				['Hillside Clinic', 'clinician', false]
			]);
		}
		// Same blocks in the same order: same fingerprint.
		expect(await ledgerFingerprint(other)).toEqual(await ledgerFingerprint(admin));
		expect((await ledgerFingerprint(admin)).blocks).toBe(2);
	});
});
