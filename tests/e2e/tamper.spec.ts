import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rowWithText, rows, tamperStoredBlock, waitUntilOpen } from './support.js';

test('a block altered in storage fails "Verify all" with its reason code, and again on the next open', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Brookside Clinic');
	await addEntry(page, 'Untouched entry');
	await addEntry(page, 'Dose given: 5 ml');
	await addEntry(page, 'Signed by the nurse on duty');

	const bodyTampered = await tamperStoredBlock(page, 'Dose given: 5 ml', 'body');
	const signatureTampered = await tamperStoredBlock(page, 'Signed by the nurse on duty', 'signature');

	await page.getByTestId('verify-all').click();
	const result = page.getByTestId('verify-result');
	await expect(result).toHaveAttribute('data-outcome', 'failed');
	await expect(result).toContainText('2 of 4 blocks failed verification');
	const failures = page.getByTestId('verify-failure');
	await expect(failures).toHaveCount(2);
	await expect(failures.and(page.locator(`[data-block-id="${bodyTampered}"]`))).toHaveAttribute('data-code', 'BAD_HASH');
	await expect(failures.and(page.locator(`[data-block-id="${signatureTampered}"]`))).toHaveAttribute('data-code', 'BAD_SIGNATURE');

	const hashRow = rows(page).and(page.locator(`[data-block-id="${bodyTampered}"]`));
	await expect(hashRow.getByTestId('check-badge')).toHaveAttribute('data-check', 'failed');
	await expect(hashRow.getByTestId('check-badge')).toHaveText(/BAD_HASH/);
	await expect(hashRow.getByTestId('block-failure')).toContainText('BAD_HASH');
	const signatureRow = rows(page).and(page.locator(`[data-block-id="${signatureTampered}"]`));
	await expect(signatureRow.getByTestId('check-badge')).toHaveText(/BAD_SIGNATURE/);
	await expect(rowWithText(page, 'Untouched entry').getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');
	await expect(rows(page).first().getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');

	// Opening the ledger re-checks storage: the damage is reported without asking.
	await page.reload();
	// The unlock (a real key derivation, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('verify-result')).toHaveAttribute('data-outcome', 'failed');
	await expect(page.getByTestId('verify-failure')).toHaveCount(2);
	await expect(
		rows(page)
			.and(page.locator(`[data-block-id="${bodyTampered}"]`))
			.getByTestId('check-badge')
	).toHaveAttribute('data-check', 'failed');
	await expect(rowWithText(page, 'Untouched entry').getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');
});
