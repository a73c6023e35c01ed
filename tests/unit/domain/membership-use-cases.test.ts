/**
 * The membership use cases of domain/membership/ (found, join, invite, add, revoke, change
 * role, approve), called as the UI managers call them, with real ledgers over the memory
 * store. A refusal is a MembershipRefusal with a code and leaves the ledger unchanged.
 */
import { describe, expect, it } from 'vitest';
import { CodedError, describeError, MemoryStore, nobleVerifier, type AuthorId, type Ledger } from '$lib/core/index.js';
import { authorOf, testSigner } from '$lib/core/testing/fixtures.js';
import { decodeJoinRequest, parseInviteLink, inviteLinkUrl } from '$lib/domain/invites.js';
import {
	addMember,
	approveChange,
	approveJoin,
	changeRole,
	createInvite,
	createNetwork,
	foundingProblem,
	joinNetwork,
	joinRequest,
	MembershipRefusal,
	readMembership,
	refuseJoin,
	revokeMember,
	withdrawInvite
} from '$lib/domain/membership/index.js';
import type { NetworkConfig } from '$lib/domain/network-config.js';

const SIGNALING = ['wss://relay.example/signaling'];
const verify = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array) => nobleVerifier.verify(sig, msg, key);

async function found(coAdmins: string[] = [], quorum = 1) {
	return createNetwork(
		new MemoryStore(),
		testSigner('founder'),
		{ name: ' Riverside Clinic ', coAdmins: coAdmins.join('\n'), quorum },
		SIGNALING
	);
}

async function refusal(run: () => Promise<unknown>): Promise<MembershipRefusal> {
	try {
		await run();
	} catch (error) {
		expect(error).toBeInstanceOf(MembershipRefusal);
		expect(error).toBeInstanceOf(CodedError);
		expect(describeError(error)).toBe((error as Error).message);
		return error as MembershipRefusal;
	}
	throw new Error('expected a refusal');
}

async function sync(to: Ledger, from: Ledger) {
	const blocks: Uint8Array[] = [];
	for await (const block of from.blocks()) blocks.push(block.bytes);
	return to.receive(blocks);
}

describe('createNetwork', () => {
	it('writes one genesis with the co-admins and quorum, and makes sync settings', async () => {
		const coAdmin = authorOf('co-admin');
		const { ledger, config } = await found([coAdmin.toUpperCase()], 2);
		expect(ledger.size).toBe(1);
		expect(ledger.quorum).toBe(2);
		expect(ledger.roster().get(authorOf('founder'))).toBe('admin');
		expect(ledger.roster().get(coAdmin)).toBe('admin');
		expect(config).toMatchObject({ net: ledger.net, name: 'Riverside Clinic', origin: 'founded', signaling: SIGNALING });
		expect(config.secret).toMatch(/^[0-9a-f]{64}$/);
		const read = readMembership(ledger, authorOf('founder'));
		expect(read.members.map((m) => [m.name, m.founder])).toEqual([
			['Riverside Clinic', true],
			[null, false]
		]);
		expect(read.role).toBe('admin');
	});

	it('refuses a bad form before anything is written', async () => {
		const store = new MemoryStore();
		const self = authorOf('founder');
		expect(foundingProblem({ name: '' }, self)).toMatch(/Enter the clinic name/);
		expect(foundingProblem({ name: 'A', coAdmins: self }, self)).toMatch(/listed twice, or is this node’s own/);
		expect(foundingProblem({ name: 'A', coAdmins: 'xyz' }, self)).toMatch(/^Other founding admins: /);
		expect(foundingProblem({ name: 'A', quorum: 2 }, self)).toMatch(/Admins needed: 1 to 1/);
		const error = await refusal(() => createNetwork(store, testSigner('founder'), { name: '  ' }, SIGNALING));
		expect(error.code).toBe('NETWORK_INPUT_INVALID');
		// The store is still empty: founding there works.
		expect((await createNetwork(store, testSigner('founder'), { name: 'A' }, SIGNALING)).ledger.size).toBe(1);
	});
});

describe('invites and joins', () => {
	it('an admin invites, the invitee joins and asks, the admin approves: the invite is used', async () => {
		const { ledger: admin, config } = await found();
		const link = await createInvite(admin, testSigner('founder'), { role: 'clinician', label: 'Hillside desk', days: 7 }, config);
		const invite = await parseInviteLink(inviteLinkUrl('https://clinic.example/', link), verify);
		expect(invite).toMatchObject({ net: admin.net, role: 'clinician', name: 'Riverside Clinic', by: authorOf('founder') });
		expect(readMembership(admin, null).invites).toHaveLength(1);

		let saved: NetworkConfig | null = null;
		const { ledger: guest, config: joined } = await joinNetwork(
			new MemoryStore(),
			testSigner('guest'),
			invite,
			invite,
			' Hillside ',
			async (c) => {
				saved = c;
			}
		);
		expect(saved).toEqual(joined);
		expect(joined.join).toMatchObject({ token: invite.token, name: 'Hillside', role: 'clinician' });
		expect(guest.net).toBe(admin.net);
		expect(guest.size).toBe(0);

		const request = await decodeJoinRequest(await joinRequest(testSigner('guest'), guest.net, joined.join!), admin.net, verify);
		expect(request).toMatchObject({ key: authorOf('guest'), name: 'Hillside' });
		const tokenHash = readMembership(admin, null).invites[0]!.token;
		await approveJoin(admin, request, readMembership(admin, null).invites, tokenHash);
		expect(admin.roster().get(authorOf('guest'))).toBe('clinician');
		expect(readMembership(admin, null).invites[0]!.usedBy).toBe(authorOf('guest'));
		expect((await sync(guest, admin)).rejected).toEqual([]);
		expect(readMembership(guest, null).role).toBe('clinician');
	});

	it('refusing a request withdraws its invite; an unknown invite cannot be approved', async () => {
		const { ledger: admin, config } = await found();
		await createInvite(admin, testSigner('founder'), { role: 'billing', label: '', days: 1 }, config);
		const [record] = readMembership(admin, null).invites;
		const request = { net: admin.net, token: '00'.repeat(32), name: 'Someone', key: authorOf('guest'), time: 0 };
		expect((await refusal(() => approveJoin(admin, request, [], record!.token))).code).toBe('UNKNOWN_INVITE');
		await refuseJoin(admin, request, record!.token);
		expect(readMembership(admin, null).invites[0]!.revoked).toEqual({
			by: authorOf('founder'),
			reason: 'join request from “Someone” refused'
		});
	});

	it('refuses bad invites, a node without sync settings, an unknown clinic and a non-admin, writing nothing', async () => {
		const { ledger: admin, config } = await found();
		const signer = testSigner('founder');
		const codeOf = async (run: () => Promise<unknown>) => (await refusal(run)).code;
		expect(await codeOf(() => createInvite(admin, signer, { role: 'king', label: '', days: 1 }, config))).toBe('INVITE_INPUT_INVALID');
		expect(await codeOf(() => createInvite(admin, signer, { role: 'peer', label: '', days: 31 }, config))).toBe('INVITE_INPUT_INVALID');
		expect(await codeOf(() => createInvite(admin, signer, { role: 'peer', label: '', days: 1 }, null))).toBe('NO_SYNC_SETTINGS');
		expect(await codeOf(() => createInvite(admin, signer, { role: 'peer', label: '', days: 1, clinic: authorOf('x') }, config))).toBe(
			'UNKNOWN_CLINIC'
		);
		await addMember(admin, authorOf('clinician'), 'clinician', '');
		const clinician = (await joinNetwork(new MemoryStore(), testSigner('clinician'), config, null, '', async () => {})).ledger;
		await sync(clinician, admin);
		expect(await codeOf(() => createInvite(clinician, testSigner('clinician'), { role: 'peer', label: '', days: 1 }, config))).toBe(
			'NOT_AN_ADMIN'
		);
		expect(await codeOf(() => withdrawInvite(clinician, '00'.repeat(32)))).toBe('NOT_AN_ADMIN');
		expect(admin.size).toBe(2);
		expect(clinician.size).toBe(2);
	});

	it('an invite asks for a display name before anything is kept', async () => {
		const { ledger: admin, config } = await found();
		const link = await createInvite(admin, testSigner('founder'), { role: 'peer', label: '', days: 1 }, config);
		let saved = false;
		const error = await refusal(() =>
			joinNetwork(new MemoryStore(), testSigner('guest'), link, link, ' ', async () => {
				saved = true;
			})
		);
		expect(error.code).toBe('MEMBER_INPUT_INVALID');
		expect(saved).toBe(false);
	});
});

describe('members', () => {
	it('adds, changes the role of and revokes a member', async () => {
		const { ledger: admin } = await found();
		const key = authorOf('clinician');
		const added = await addMember(admin, ` ${key.toUpperCase()} `, 'clinician', 'Dr. Ada');
		expect(added).toMatchObject({ key, role: 'clinician', pending: false });
		expect((await refusal(() => addMember(admin, key, 'clinician', ''))).message).toBe('This key is already a member, as clinician.');
		expect((await refusal(() => addMember(admin, 'abc', 'clinician', ''))).code).toBe('MEMBER_INPUT_INVALID');
		expect((await refusal(() => changeRole(admin, key, 'king'))).message).toBe('Choose a role.');
		await changeRole(admin, key, 'billing');
		expect(admin.roster().get(key)).toBe('billing');
		await revokeMember(admin, key, ' left the clinic ');
		const read = readMembership(admin, authorOf('founder'));
		expect(read.revocations).toEqual([{ key, cutoff: expect.any(Number), name: 'Dr. Ada' }]);
		expect(admin.roster().has(key)).toBe(false);
	});

	it('with a quorum of two, an addition waits for the other admin’s approval', async () => {
		const coAdmin = authorOf('co-admin');
		const { ledger: admin, config } = await found([coAdmin], 2);
		const added = await addMember(admin, authorOf('clinician'), 'clinician', '');
		expect(added.pending).toBe(true);
		const other = (await joinNetwork(new MemoryStore(), testSigner('co-admin'), config, null, '', async () => {})).ledger;
		expect((await sync(other, admin)).rejected).toEqual([]);
		const [change] = readMembership(other, null).pendingChanges;
		expect(change).toMatchObject({ kind: 'add', member: authorOf('clinician'), approvedBy: [authorOf('founder')] });
		await approveChange(other, change!.block, change!.index);
		expect(other.roster().get(authorOf('clinician') as AuthorId)).toBe('clinician');
		expect(readMembership(other, null).pendingChanges).toEqual([]);
	});

	it('a non-admin cannot add members', async () => {
		const { ledger: admin, config } = await found();
		await addMember(admin, authorOf('clinician'), 'clinician', '');
		const clinician = (await joinNetwork(new MemoryStore(), testSigner('clinician'), config, null, '', async () => {})).ledger;
		await sync(clinician, admin);
		const error = await refusal(() => addMember(clinician, authorOf('x'), 'peer', ''));
		expect(error).toMatchObject({ code: 'NOT_AN_ADMIN', message: 'Only an admin of the network can add members; this node is not one.' });
	});
});
