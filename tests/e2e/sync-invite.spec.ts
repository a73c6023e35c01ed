// Invitation, approval and revocation across two Chromium processes (real WebRTC, real
// signaling, real IndexedDB): A invites by link, B asks to join under a display name, A
// approves, B syncs and writes; a reused and a tampered invite are refused with a clear
// message and change nothing; A revokes B, and B's later writes are refused by A.
import { expect, type Page } from '@playwright/test';
import { foundNetwork, ownKey, peerRow, showTab, test, waitForSize } from './nodes.js';

test.describe.configure({ mode: 'serial' });

async function addEntry(page: Page, text: string): Promise<void> {
	await showTab(page, 'ledger');
	await page.getByTestId('entry-text').fill(text);
	await page.getByTestId('add-entry').click();
	await expect(page.getByTestId('entry-status')).toContainText('Saved in block');
}

async function createInvite(page: Page, role: string, label: string): Promise<string> {
	await showTab(page, 'members');
	await page.getByTestId('invite-role').selectOption(role);
	await page.getByTestId('invite-label').fill(label);
	await page.getByTestId('create-invite').click();
	await expect(page.getByTestId('made-invite')).toBeVisible();
	await expect(page.getByTestId('made-invite').locator('svg')).toBeVisible(); // the QR code
	const url = await page.getByTestId('invite-url').inputValue();
	expect(url).toContain('#invite=');
	return url;
}

async function askToJoin(page: Page, url: string, name: string): Promise<void> {
	await page.goto(url);
	await expect(page.getByTestId('join-network')).toBeVisible();
	await page.getByTestId('join-display-name').fill(name);
	await page.getByTestId('join-network-button').click();
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('join-waiting')).toBeVisible();
}

test('invite by link, approve, sync and write; reused and tampered invites refused; revoked writes refused', async ({ nodes }) => {
	test.setTimeout(6 * 60_000);
	const a = await nodes.launch('A');
	let b = await nodes.launch('B');
	await foundNetwork(a.page, 'Riverside Clinic');
	const keyA = await ownKey(a.page);
	const url = await createInvite(a.page, 'clinician', 'Dr. Lee');
	await a.page.getByTestId('invites').screenshot({ path: 'docs/screenshots/invite.png' });
	await expect(a.page.getByTestId('invite').first()).toHaveAttribute('data-state', 'open');

	// B opens the invite: the link says who invited it and as what; B asks under a name.
	await b.page.goto(url);
	await expect(b.page.getByTestId('join-invite-role')).toHaveText('clinician');
	await b.page.getByTestId('join-network-button').click();
	await expect(b.page.getByTestId('join-error')).toContainText('display name');
	await askToJoin(b.page, url, 'Dr. Lee, Riverside');
	await expect(b.page.getByTestId('ledger-size')).toHaveAttribute('data-size', '0');

	// A sees the request and approves it.
	const request = a.page.getByTestId('join-request');
	await expect(request).toHaveCount(1, { timeout: 60_000 });
	await expect(request.getByTestId('join-request-name')).toHaveText('Dr. Lee, Riverside');
	await expect(b.page.getByTestId('join-progress')).toContainText('Request delivered to 1 node');
	// For the README: the admin's Members tab with the request and the invite, the invitee waiting.
	await a.page.getByTestId('join-requests').screenshot({ path: 'docs/screenshots/join-request.png' });
	await b.page.screenshot({ path: 'docs/screenshots/join-waiting.png' });
	await request.getByTestId('approve-join').click();
	await expect(a.page.getByTestId('join-request')).toHaveCount(0);
	await expect(a.page.getByTestId('invite').first()).toHaveAttribute('data-state', 'used');

	// B is admitted on the same connection: it receives the ledger and may write.
	await waitForSize(b.page, 3, 60_000); // genesis, invite, member added
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'clinician');
	await expect(b.page.getByTestId('join-waiting')).toHaveCount(0);
	const keyB = await ownKey(b.page);
	await showTab(a.page, 'network');
	await expect(peerRow(a.page, keyB)).toHaveAttribute('data-state', 'ready');
	// The connection's round-trip time, from the browser's ICE statistics.
	await expect(peerRow(a.page, keyB).getByTestId('peer-rtt')).toHaveAttribute('data-rtt', /^\d+(\.\d)?$/, { timeout: 30_000 });
	await addEntry(b.page, 'Vitals recorded at Riverside');
	await waitForSize(a.page, 4);
	await showTab(a.page, 'ledger');
	await expect(a.page.getByTestId('block-row').filter({ hasText: 'Vitals recorded at Riverside' })).toHaveCount(1);

	// The same invite again, from a third browser: refused, nothing synced.
	const c = await nodes.launch('C');
	await askToJoin(c.page, url, 'Someone else');
	await expect(c.page.getByTestId('join-waiting')).toHaveAttribute('data-state', 'refused', { timeout: 60_000 });
	await expect(c.page.getByTestId('join-reply')).toContainText('already been used');
	await expect(c.page.getByTestId('ledger-size')).toHaveAttribute('data-size', '0');
	await expect(a.page.getByTestId('join-request')).toHaveCount(0);

	// A tampered invite link: refused before anything is stored.
	const d = await nodes.launch('D');
	const payload = url.slice(url.indexOf('#invite=') + 8);
	const i = Math.floor(payload.length / 2);
	await d.page.goto(
		url.slice(0, url.indexOf('#invite=') + 8) + payload.slice(0, i) + (payload[i] === 'A' ? 'B' : 'A') + payload.slice(i + 1)
	);
	await expect(d.page.getByTestId('link-error')).toContainText('changed or damaged');
	await expect(d.page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await expect(d.page.getByTestId('join-network')).toHaveCount(0);

	// B goes offline; A revokes it (the dialog explains what that does and does not undo).
	b = await nodes.relaunch(b, { signalingBlocked: true });
	await showTab(a.page, 'members');
	const row = a.page.getByTestId('member').and(a.page.locator(`[data-key="${keyB}"]`));
	await row.getByTestId('revoke-member').click();
	await expect(a.page.getByTestId('revoke-dialog')).toContainText('What it does not undo');
	await a.page.getByTestId('revoke-reason').fill('laptop stolen');
	await a.page.getByTestId('confirm-revoke').click();
	await expect(a.page.getByTestId('revoked-member').and(a.page.locator(`[data-key="${keyB}"]`))).toBeVisible();
	await expect(a.page.getByTestId('member').and(a.page.locator(`[data-key="${keyB}"]`))).toHaveCount(0);
	// The revocation, and the room rotation A's node writes because of it (docs/protocol.md, Room secret).
	const sizeA = 6;
	await waitForSize(a.page, sizeA);
	await showTab(a.page, 'ledger');
	await expect(a.page.getByTestId('block-row').filter({ hasText: 'Room secret rotated (epoch 1)' })).toHaveCount(1);

	// B, not knowing, writes; back online, A refuses it: nothing of B's reaches A.
	await addEntry(b.page, 'Written after the revocation');
	b.signalingBlocked = false;
	await showTab(a.page, 'network');
	await expect(a.page.getByTestId('sync-log')).toContainText(`refused ${keyB.slice(0, 8)}`, { timeout: 90_000 });
	await showTab(b.page, 'network');
	await expect(b.page.getByTestId('sync-log')).toContainText('refused this node', { timeout: 30_000 });
	await waitForSize(a.page, sizeA);
	await showTab(a.page, 'ledger');
	await expect(a.page.getByTestId('block-row').filter({ hasText: 'Written after the revocation' })).toHaveCount(0);
	expect(keyA).not.toBe(keyB);
});
