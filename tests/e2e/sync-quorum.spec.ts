// Two admins, two Chromium processes: a network founded with a quorum of 2 admins. A
// membership change proposed by one admin does not take effect until the other approves
// it, on both nodes.
import { expect } from '@playwright/test';
import { joinByLink, keyBeforeJoining, shareLink, showTab, test, waitForSize } from './nodes.js';

test('a membership change needs the quorum of admins', async ({ nodes }) => {
	test.setTimeout(4 * 60_000);
	const a = await nodes.launch('A');
	const b = await nodes.launch('B');
	const keyB = await keyBeforeJoining(b.page);
	await expect(a.page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await a.page.getByTestId('clinic-name').fill('Two-key clinic');
	await a.page.getByText('Several admins must agree on membership changes').click();
	await a.page.getByTestId('co-admins').fill(keyB);
	await a.page.getByTestId('quorum').fill('3');
	await a.page.getByTestId('create-network').click();
	await expect(a.page.getByTestId('create-error')).toContainText('Admins needed: 1 to 2');
	await a.page.getByTestId('quorum').fill('2');
	await a.page.getByTestId('create-network').click();
	await expect(a.page.getByTestId('app')).toHaveAttribute('data-status', 'ready');

	const link = await shareLink(a.page);
	await joinByLink(b.page, link, 'Two-key clinic');
	await waitForSize(b.page, 1);
	await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'admin');

	// A proposes a new member: not a member yet, anywhere.
	const newcomer = 'ab'.repeat(32);
	await showTab(a.page, 'members');
	await a.page.getByTestId('member-key-input').fill(newcomer);
	await a.page.getByTestId('member-role').selectOption('clinician');
	await a.page.getByTestId('add-member-button').click();
	await expect(a.page.getByTestId('member-status')).toContainText('Proposed');
	await expect(a.page.getByTestId('pending-change')).toHaveCount(1);
	await expect(a.page.getByTestId('pending-change')).toContainText('1 of 2');
	await expect(a.page.getByTestId('pending-change').getByTestId('approve-change')).toHaveCount(0); // not its own
	await expect(a.page.locator(`[data-testid="member"][data-key="${newcomer}"]`)).toHaveCount(0);

	// B sees it and approves: the member appears on both nodes.
	await waitForSize(b.page, 2);
	await showTab(b.page, 'members');
	await b.page.getByTestId('approve-change').click();
	for (const node of [a, b]) {
		await showTab(node.page, 'members');
		await expect(node.page.locator(`[data-testid="member"][data-key="${newcomer}"]`)).toHaveAttribute('data-role', 'clinician', {
			timeout: 30_000
		});
		await expect(node.page.getByTestId('no-pending-changes')).toBeVisible();
	}
});
