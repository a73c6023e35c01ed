import { describe, expect, it } from 'vitest';
import { fromHex, nobleVerifier, publicKeyOf, toHex, type AuthorId } from '$lib/core/index.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, syncInto, testSecret, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import {
	approveTx,
	decodeJoinReply,
	decodeJoinRequest,
	encodeJoinReply,
	encodeJoinRequest,
	inviteCreateTx,
	inviteLinkUrl,
	judgeJoinRequest,
	parseInviteLink,
	signInviteLink,
	tokenHash,
	type Invites
} from '$lib/domain/invites.js';

const verify = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array) => nobleVerifier.verify(sig, msg, key);
const DAY = 86_400_000;
const app = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const invitesOf = (l: { state(): Record<string, unknown> }) => l.state().invites as Invites;

async function setup() {
	const admin = await foundNetwork({ ...app });
	const token = new Uint8Array(32).fill(7);
	await admin.append([inviteCreateTx(token, 'clinician', fixedNow() + DAY, 'Dr. Lee’s laptop')]);
	const link = await signInviteLink(testSigner('founder'), {
		net: admin.net,
		secret: 'ab'.repeat(32),
		signaling: ['ws://127.0.0.1:1/signaling'],
		name: 'Test Clinic',
		token: toHex(token),
		role: 'clinician',
		expires: fixedNow() + DAY
	});
	return { admin, token, link, url: inviteLinkUrl('http://127.0.0.1:4599/', link) };
}

describe('invite links', () => {
	it('round-trips a signed link', async () => {
		const { link, url } = await setup();
		expect(await parseInviteLink(url, verify)).toEqual(link);
	});

	it('refuses a tampered fragment with a clear message', async () => {
		const { url, link } = await setup();
		const payload = url.slice(url.indexOf('=') + 1);
		// Every single-character change of the payload, a few positions spread over it.
		for (const at of [0, 10, Math.floor(payload.length / 2), payload.length - 3]) {
			const c = payload[at] === 'A' ? 'B' : 'A';
			const bad = url.slice(0, url.indexOf('=') + 1) + payload.slice(0, at) + c + payload.slice(at + 1);
			await expect(parseInviteLink(bad, verify)).rejects.toThrow(/changed or damaged/);
		}
		// A re-encoded link with another role, signature kept: refused.
		const forged = inviteLinkUrl('http://127.0.0.1:4599/', { ...link, role: 'admin' });
		await expect(parseInviteLink(forged, verify)).rejects.toThrow(/changed or damaged/);
		await expect(parseInviteLink('http://x/#network=abc', verify)).rejects.toThrow(/not an invite link/);
	});
});

describe('join requests', () => {
	it('are signed by the invitee; a changed request does not verify', async () => {
		const { admin, token } = await setup();
		const bytes = await encodeJoinRequest(testSigner('newbie'), {
			net: admin.net,
			token: toHex(token),
			name: 'Front desk',
			time: fixedNow()
		});
		const request = await decodeJoinRequest(bytes, admin.net, verify);
		expect(request).toMatchObject({ name: 'Front desk', key: authorOf('newbie') });
		const tampered = bytes.slice();
		tampered[tampered.length - 70]! ^= 1;
		await expect(decodeJoinRequest(tampered, admin.net, verify)).rejects.toThrow();
		await expect(decodeJoinRequest(bytes, 'ff'.repeat(32) as never, verify)).rejects.toThrow(/another network/);
		expect(decodeJoinReply(encodeJoinReply({ status: 'refused', message: 'no' }))).toEqual({ status: 'refused', message: 'no' });
	});

	it('approve once; a reused, revoked, expired or unknown invite is refused with a reason', async () => {
		const { admin, token } = await setup();
		const ask = async (label: string, t = token, now = fixedNow()) => {
			const request = await decodeJoinRequest(
				await encodeJoinRequest(testSigner(label), { net: admin.net, token: toHex(t), name: label, time: now }),
				admin.net,
				verify
			);
			return { request, reply: judgeJoinRequest(request, invitesOf(admin), admin.roster(), admin.revocations(), now) };
		};
		const first = await ask('newbie');
		expect(first.reply.status).toBe('pending');
		expect((await ask('newbie', token, fixedNow() + 2 * DAY)).reply.message).toMatch(/expired/);
		expect((await ask('newbie', new Uint8Array(32).fill(9))).reply.message).toMatch(/not in the clinic’s ledger/);
		await admin.append([approveTx(first.request, first.reply.invite!)]);
		expect(admin.roster().get(authorOf('newbie'))).toBe('clinician');
		expect(invitesOf(admin)[toHex(tokenHash(token))]!.usedBy).toBe(authorOf('newbie') as AuthorId);
		expect((await ask('other')).reply.message).toMatch(/already been used/);
		expect((await ask('newbie')).reply.message).toMatch(/already a member/);
		// Withdrawn invite.
		const token2 = new Uint8Array(32).fill(3);
		await admin.append([inviteCreateTx(token2, 'front-desk', fixedNow() + DAY, '')]);
		await admin.append([{ t: 'invite.revoke', token: tokenHash(token2), reason: 'sent to the wrong person' }]);
		expect((await ask('third', token2)).reply.message).toMatch(/withdrawn.*wrong person/);
		// A revoked key cannot come back with a fresh invite.
		await admin.append([{ t: 'member.revoke', key: publicKeyOf(testSecret('newbie')) }]);
		const token3 = new Uint8Array(32).fill(4);
		await admin.append([inviteCreateTx(token3, 'clinician', fixedNow() + DAY, '')]);
		expect((await ask('newbie', token3)).reply.message).toMatch(/revoked/);
	});

	it('invite transactions are admin-only and checked', async () => {
		const admin = await foundNetwork({ ...app, members: { desk: 'front-desk' } });
		const desk = await joinNetwork(admin.net, 'desk', app);
		await syncInto(desk, admin);
		await expect(desk.append([inviteCreateTx(new Uint8Array(32), 'clinician', fixedNow() + DAY, '')])).rejects.toMatchObject({
			code: 'NOT_AUTHORIZED'
		});
		await expect(admin.append([inviteCreateTx(new Uint8Array(32), 'clinician', fixedNow() - 1, '')])).rejects.toMatchObject({
			code: 'TX_INVALID'
		});
		await expect(admin.append([inviteCreateTx(new Uint8Array(32), 'clinician', fixedNow() + 31 * DAY, '')])).rejects.toMatchObject({
			code: 'TX_INVALID'
		});
		await expect(
			admin.append([{ t: 'invite.create', token: fromHex('00'.repeat(32)), role: 'wizard', expires: fixedNow() + DAY }])
		).rejects.toMatchObject({ code: 'TX_INVALID' });
	});
});
