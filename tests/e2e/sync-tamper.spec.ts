// A member's node turns bad: while offline it writes three entries, then one of them is
// altered in its IndexedDB behind the app (one byte of the body flipped), so when it is
// back it streams a block whose hash does not match. The honest nodes refuse that block
// with BAD_HASH, name and flag the peer that sent it, keep its valid blocks, and still
// converge with each other.
import { mkdirSync } from 'node:fs';
import { expect } from '@playwright/test';
import { tamperStoredBlock } from './support.js';
import {
	addMember,
	foundNetwork,
	joinByLink,
	keyBeforeJoining,
	ownKey,
	peerRow,
	shareLink,
	showTab,
	storedLedger,
	test,
	uiFingerprint,
	waitForSize
} from './nodes.js';

test.describe.configure({ mode: 'serial' });

test('a peer streaming a tampered block is refused with BAD_HASH and flagged; honest nodes converge', async ({ nodes }) => {
	test.setTimeout(5 * 60_000);
	const a = await nodes.launch('A');
	const b = await nodes.launch('B');
	let evil = await nodes.launch('C');

	await foundNetwork(a.page, 'Harbour Clinics');
	const keyA = await ownKey(a.page);
	const keyB = await keyBeforeJoining(b.page);
	const keyC = await keyBeforeJoining(evil.page);
	await addMember(a.page, keyB, 'clinician', 'Quay Street Clinic');
	await addMember(a.page, keyC, 'billing', 'Dockside Billing');
	const link = await shareLink(a.page);
	await joinByLink(b.page, link, 'Harbour Clinics');
	await joinByLink(evil.page, link, 'Harbour Clinics');
	for (const node of [a, b, evil]) await waitForSize(node.page, 3);

	// C goes offline (signaling refused), writes three entries, and one is altered on disk.
	evil = await nodes.relaunch(evil, { signalingBlocked: true });
	await expect(evil.page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	// A relaunched node opens on its first screen (a clinic's patients): entries are written on the Ledger screen.
	await showTab(evil.page, 'ledger');
	for (const text of ['Invoice 1041 sent', 'Invoice 1042 sent', 'Invoice 1043 sent: 80.00']) {
		const before = Number(await evil.page.getByTestId('ledger-size').getAttribute('data-size'));
		await evil.page.getByTestId('entry-text').fill(text);
		await evil.page.getByTestId('add-entry').click();
		await waitForSize(evil.page, before + 1);
	}
	const forged = await tamperStoredBlock(evil.page, '80.00', 'body');

	// Meanwhile the honest nodes keep working.
	await showTab(a.page, 'ledger');
	await a.page.getByTestId('entry-text').fill('Harbour: cold chain checked');
	await a.page.getByTestId('add-entry').click();
	await waitForSize(b.page, 4);

	// C is back: its two intact entries are accepted, the altered one is refused.
	evil.signalingBlocked = false;
	for (const honest of [a, b]) {
		await waitForSize(honest.page, 6, 60_000);
		await showTab(honest.page, 'network');
		const refusal = honest.page.getByTestId('refusal').and(honest.page.locator(`[data-peer="${keyC}"]`));
		await expect(refusal).toHaveAttribute('data-code', 'BAD_HASH', { timeout: 30_000 });
		await expect(refusal).toHaveAttribute('data-count', '1');
		await expect(refusal).toContainText(forged.slice(0, 8));
		await expect(refusal).toContainText('Dockside Billing');
		const row = peerRow(honest.page, keyC);
		await expect(row).toHaveAttribute('data-flagged', 'true');
		await expect(row.getByTestId('peer-flag')).toBeVisible();
		await expect(row.getByTestId('peer-flag')).toContainText('Sent invalid blocks');
		await expect(honest.page.getByTestId('sync-log')).toContainText(`refused block ${forged.slice(0, 8)}`);
		// The honest peer is not flagged.
		const other = honest === a ? keyB : keyA;
		await expect(peerRow(honest.page, other)).toHaveAttribute('data-flagged', 'false');
		// The Ledger tab counts the refusal too, and the forged block is not stored.
		await showTab(honest.page, 'ledger');
		await expect(honest.page.getByTestId('rejected').locator('[data-code="BAD_HASH"]')).toBeVisible();
		await expect(honest.page.locator(`[data-block-id="${forged}"]`)).toHaveCount(0);
	}

	await showTab(a.page, 'network');
	mkdirSync('docs/screenshots', { recursive: true });
	await a.page.screenshot({ path: 'docs/screenshots/network-refused.png', fullPage: true });

	// Honest nodes converge: same blocks, order, heads and summary; C's chain stops before the forged block.
	const [storedA, storedB] = [await storedLedger(a.page), await storedLedger(b.page)];
	expect(storedA.count).toBe(6);
	expect(storedB).toEqual(storedA);
	expect(storedA.heads[keyC]!.seq).toBe(1);
	const [printA, printB] = [await uiFingerprint(a.page), await uiFingerprint(b.page)];
	expect(printB).toEqual(printA);
	expect(printA.digest).toBe(storedA.orderDigest);
});
