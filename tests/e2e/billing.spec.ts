// Claims in the Billing tab, with two clinic browsers (two contexts: real WebRTC between
// them): the founding clinic (admin, it bills) admits a payer and records a patient's visit;
// the payer deploys a policy and enrolls the patient by key; the clinic submits a claim for
// the visit, chosen from the patient's visits; both nodes show the same outcome with its
// CARC codes, and the sums add up.
import { expect, test, type Page } from '@playwright/test';
import { openApp } from './support.js';
import { addMember, foundNetwork, joinByLink, keyBeforeJoining, ledgerSize, shareLink, waitForSize } from './nodes.js';
import { registerPatient, writeEncounter } from './records-support.js';

async function showBilling(page: Page, view: 'payer' | 'clinic' | 'flags' | 'contracts') {
	await page.getByTestId('tab-billing').click();
	await page.getByTestId(`billing-view-${view}`).click();
}

/** The sums of a claim as the page shows them: billed, payer, patient, adjusted (cents). */
async function sums(page: Page) {
	const el = page.getByTestId('claim-sums').first();
	return Object.fromEntries(
		await Promise.all(['billed', 'payer', 'patient', 'adjusted'].map(async (k) => [k, Number(await el.getAttribute(`data-${k}`))]))
	);
}

test('a payer deploys a policy, a clinic submits a claim, both see the outcome with CARC codes and sums that add up', async ({
	browser
}) => {
	test.setTimeout(180_000);
	const clinic = await (await browser.newContext()).newPage();
	const payer = await (await browser.newContext()).newPage();
	await openApp(clinic);
	await foundNetwork(clinic, 'Riverside Clinic');
	await openApp(payer);
	const payerKey = await keyBeforeJoining(payer);
	await addMember(clinic, payerKey, 'payer', 'Acme Health');
	await joinByLink(payer, await shareLink(clinic), 'Riverside Clinic');
	await waitForSize(payer, 2);
	await expect(payer.getByTestId('app')).toHaveAttribute('data-role', 'payer');

	// The clinic registers a patient and records a visit; the payer knows the patient only by key.
	await registerPatient(clinic, 'Grace', 'Mensah', '1979-02-03', '13572468');
	await clinic.getByTestId('patient-row').first().click();
	await writeEncounter(clinic, 'MARKER-BILLING visit');
	const PATIENT = (await clinic.getByTestId('chart').locator('header abbr').getAttribute('data-full'))!;

	// The payer deploys version 1 of its plan and enrolls the patient (a pseudonymous key).
	await showBilling(payer, 'payer');
	await payer.getByTestId('policy-deploy').click();
	await expect(payer.getByTestId('billing-done')).toHaveText('Deployed sample-ppo version 1.');
	await payer.getByTestId('coverage-id').fill('cov-1');
	await payer.getByTestId('coverage-patient').fill(PATIENT);
	await payer.getByTestId('coverage-enroll').click();
	await expect(payer.getByTestId('billing-done')).toHaveText('Coverage cov-1 recorded.');

	// The clinic bills three services two days ago (timely filing counts from the block's time).
	await waitForSize(clinic, await ledgerSize(payer));
	const serviceDate = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
	await showBilling(clinic, 'clinic');
	await clinic.getByTestId('claim-patient').fill('Grace');
	await clinic.getByTestId('patient-option').first().click();
	await expect(clinic.getByTestId('claim-patient')).toHaveAttribute('data-patient', PATIENT);
	await clinic.getByTestId('claim-coverage').fill('cov-1');
	await clinic.getByTestId('claim-date').fill(serviceDate);
	await clinic.getByTestId('claim-encounter').selectOption({ index: 1 });
	await clinic.getByTestId('claim-lines').fill('99214 1 150.00\n36415 1 5.00\n73721 1 300.00');
	await clinic.getByTestId('claim-submit').click();
	await expect(clinic.getByTestId('billing-done')).toContainText('Claim submitted');

	for (const page of [clinic, payer]) {
		if (page === payer) await showBilling(payer, 'payer');
		const claim = page.getByTestId('claim').first();
		await expect(claim).toHaveAttribute('data-status', 'partial', { timeout: 30_000 });
		const carcs = claim.getByTestId('line-carcs');
		await expect(carcs.nth(0)).toContainText('CO-45 $20.00'); // $150.00 billed over the $130.00 fee
		await expect(carcs.nth(0)).toContainText('PR-3 $25.00'); // copay
		await expect(carcs.nth(2)).toHaveText('CO-197 $300.00'); // MRI without prior authorization
		const s = await sums(page);
		expect(s.billed).toBe(45_500);
		expect(s.payer + s.patient + s.adjusted).toBe(s.billed);
	}
	// The payer's chart: paid against denied by reason.
	await expect(payer.getByTestId('billing-chart')).toContainText('Denied, CARC 197');
	await expect(payer.getByTestId('billing-chart')).toContainText('Paid');
	await payer.getByTestId('billing-chart').scrollIntoViewIfNeeded();
	await payer.screenshot({ path: 'docs/screenshots/billing-payer.png' });

	// The statement, the fraud flags (the claim bills a visit on the ledger: none about the encounter) and the contract viewer.
	await showBilling(clinic, 'clinic');
	await expect(clinic.getByTestId('statement-balance')).toContainText('balance');
	await expect(clinic.getByTestId('reconciliation')).toContainText('every claim and account reconciles');
	await showBilling(clinic, 'flags');
	await expect(clinic.getByTestId('flags')).toBeAttached();
	await expect(clinic.locator('[data-testid="flag"][data-kind^="encounter-"]')).toHaveCount(0);
	await showBilling(clinic, 'contracts');
	const contract = clinic.getByTestId('contract');
	await expect(contract).toHaveAttribute('data-version', '1');
	await expect(contract.getByTestId('contract-rule')).toHaveCount(2);
	await expect(contract).toContainText('Claims decided under this version: 1');
	await clinic.screenshot({ path: 'docs/screenshots/billing-contract.png' });
});
