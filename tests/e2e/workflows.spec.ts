// Workflows from a patient's chart, as a clinic's staff would use them: "Bill this visit"
// opens the claim with patient, visit, diagnoses and coverage filled in (no id typed), and
// "Give a dose" records an administration of a lot from stock, linked to the visit.
import { expect, test, type Page } from '@playwright/test';
import { openApp } from './support.js';
import { addMember, foundNetwork, joinByLink, keyBeforeJoining, ledgerSize, shareLink, waitForSize } from './nodes.js';
import { registerPatient } from './records-support.js';

const GTIN = '09506000134352';

async function writeVisitWithDiagnosis(page: Page, code: string): Promise<void> {
	await page.getByTestId('new-encounter').click();
	await page.getByTestId('enc-reason').fill('Cough for a week');
	await page.getByTestId('enc-note').fill('MARKER-WORKFLOW visit');
	await page.getByTestId('enc-dx-code').fill(code);
	await page.getByTestId('enc-dx-text').fill('Acute bronchitis');
	await page.getByTestId('encounter-save').click();
	await expect(page.getByTestId('encounter-form')).toHaveCount(0);
	await expect(page.getByTestId('timeline')).toContainText('MARKER-WORKFLOW');
}

test('from the chart, a visit is billed with everything filled in and a dose from stock is linked to it', async ({ browser }) => {
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

	// The clinic registers a patient and records a visit with a diagnosis.
	await registerPatient(clinic, 'Amina', 'Okonkwo', '1984-05-12', '24681357');
	await clinic.getByTestId('patient-search').fill('1984-05');
	await clinic.getByTestId('patient-row').first().click();
	await writeVisitWithDiagnosis(clinic, 'J20.9');
	const patient = (await clinic.getByTestId('chart').locator('header abbr').getAttribute('data-full'))!;
	expect(patient).toMatch(/^[0-9a-f]{64}$/);

	// The payer deploys a policy and enrolls the patient, whom it knows only by the pseudonymous key.
	await payer.getByTestId('tab-billing').click();
	await payer.getByTestId('billing-view-payer').click();
	await payer.getByTestId('policy-deploy').click();
	await expect(payer.getByTestId('billing-done')).toHaveText('Deployed sample-ppo version 1.');
	await payer.getByTestId('coverage-id').fill('cov-7');
	await payer.getByTestId('coverage-patient').fill(patient);
	await payer.getByTestId('coverage-enroll').click();
	await expect(payer.getByTestId('billing-done')).toHaveText('Coverage cov-7 recorded.');

	// Bill this visit: the form opens filled in from the visit.
	await waitForSize(clinic, await ledgerSize(payer));
	await clinic.getByTestId('bill-visit').first().click();
	const form = clinic.getByTestId('bill-visit-form');
	await expect(form.getByTestId('claim-coverage')).toHaveValue('cov-7');
	await expect(form.getByTestId('claim-patient')).toHaveAttribute('data-patient', patient);
	await expect(form.getByTestId('claim-patient')).toHaveValue(/Amina Okonkwo/);
	await expect(form.getByTestId('claim-diagnoses')).toHaveValue('J20.9');
	await expect(form.getByTestId('claim-encounter')).toHaveValue(/^[0-9a-f]{64}-[0-9a-f]{32}$/);
	await expect(form.getByTestId('claim-date')).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);
	await form.getByTestId('claim-lines').fill('99213 1 120.00');
	await form.getByTestId('claim-submit').click();
	await expect(clinic.getByTestId('bill-visit-done')).toBeVisible();

	// The claim is decided against the real encounter: no "encounter missing" flag.
	await clinic.getByTestId('tab-billing').click();
	await clinic.getByTestId('billing-view-clinic').click();
	await expect(clinic.getByTestId('claim').first()).toHaveAttribute('data-status', /paid|partial|denied/, { timeout: 30_000 });
	await clinic.getByTestId('billing-view-flags').click();
	await expect(clinic.locator('[data-testid="flag"][data-kind="encounter-missing"]')).toHaveCount(0);

	// Stock arrives; then, from the chart, a dose is given at the visit.
	await clinic.getByTestId('tab-inventory').click();
	await clinic.getByTestId('supply-gtin').fill(GTIN);
	await clinic.getByTestId('supply-lot').fill('LOT-W1');
	await clinic.getByTestId('supply-expiry').fill('2030-12-31');
	await clinic.getByTestId('supply-qty').fill('4');
	await clinic.getByTestId('supply-supplier').fill('Acme Pharma');
	await clinic.getByTestId('supply-item-name').fill('Influenza vaccine');
	await clinic.getByTestId('supply-submit').click();
	await expect(clinic.getByTestId('supply-stock-row')).toHaveAttribute('data-qty', '4');

	await clinic.getByTestId('tab-patients').click();
	await clinic.getByTestId('give-dose').first().click();
	await expect(clinic.getByTestId('dose-lot')).toContainText('LOT-W1');
	await clinic.getByTestId('dose-submit').click();
	await expect(clinic.getByTestId('give-dose-form').getByTestId('supply-done')).toHaveText('Dose recorded for this visit');

	await clinic.getByTestId('tab-inventory').click();
	await expect(clinic.getByTestId('supply-stock-row')).toHaveAttribute('data-qty', '3');
	await expect(clinic.locator('[data-testid="supply-flag"][data-kind="no-encounter"]')).toHaveCount(0);
});
