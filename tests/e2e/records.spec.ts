import { mkdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { registerPatient, storedLedgerText } from './records-support.js';
import { createNetwork, openApp } from './support.js';

test('register a patient, record an encounter, open the patient’s view with the key card: nothing readable is stored in clear', async ({ page }) => {
	// Three scrypt derivations (node key, card, card again) take seconds each on a loaded machine.
	test.setTimeout(180_000);
	await openApp(page);
	await createNetwork(page, 'Harbour Clinic');
	mkdirSync('docs/screenshots', { recursive: true });
	const code = await registerPatient(page, 'Amina', 'Okonkwo-MARKERNAME', '1984-03-02', '48151623', { screenshot: 'docs/screenshots/key-card.png' });

	// The registry names the patient (decrypted here, where the patient granted access) and finds her.
	await page.getByTestId('patient-search').fill('MRN-20931');
	await expect(page.getByTestId('patient-row')).toHaveCount(1);
	await expect(page.getByTestId('patient-row')).toContainText('Amina Okonkwo-MARKERNAME');
	await page.getByTestId('patient-row').click();
	await expect(page.getByTestId('access-demographics')).toContainText('granted');
	await expect(page.getByTestId('access-mental-health')).toContainText('no access');

	// An encounter with a note, vitals and a diagnosis, in one block.
	await page.getByTestId('new-encounter').click();
	await page.getByTestId('enc-reason').fill('Cough for two weeks');
	await page.getByTestId('enc-note').fill('MARKER-NOTE-7731 lungs clear, advised fluids');
	await page.getByTestId('enc-vital-systolic').fill('128');
	await page.getByTestId('enc-vital-diastolic').fill('82');
	await page.getByTestId('enc-vital-temperature').fill('37.9');
	await page.getByTestId('enc-dx-code').fill('J20.9');
	await page.getByTestId('enc-dx-text').fill('Acute bronchitis');
	await page.getByTestId('encounter-save').click();
	await expect(page.getByTestId('encounter-form')).toHaveCount(0);
	const timeline = page.getByTestId('timeline-entry');
	await expect(timeline).toHaveCount(7); // Patient, Encounter, note, 3 vitals, Condition
	await expect(page.getByTestId('timeline')).toContainText('MARKER-NOTE-7731');
	await expect(page.getByTestId('timeline')).toContainText('Diagnosis: Acute bronchitis');
	await expect(page.getByTestId('vitals-trend')).toContainText('Systolic blood pressure: 128 mm[Hg]');

	// A wrong vital is refused with its JSON path; nothing is written.
	await page.getByTestId('new-encounter').click();
	await page.getByTestId('enc-vital-heartRate').fill('900');
	await page.getByTestId('encounter-save').click();
	await expect(page.getByTestId('encounter-issues')).toContainText('valueQuantity.value');
	await expect(page.getByTestId('encounter-issues')).toContainText('Heart rate of 900 /min is outside 20-300');
	await expect(timeline).toHaveCount(7);
	await page.getByTestId('encounter-cancel').click();
	await expect(page.getByTestId('encounter-form')).toHaveCount(0);

	// Amend the diagnosis: a new version, the old one kept in the history.
	const dx = timeline.filter({ hasText: 'Diagnosis: Acute bronchitis' });
	await dx.getByTestId('amend').click();
	const amended = (await page.getByTestId('amend-text').inputValue()).replace('Acute bronchitis', 'Acute bronchitis, viral');
	await page.getByTestId('amend-text').fill(amended);
	await page.getByTestId('amend-save').click();
	await expect(page.getByTestId('timeline')).toContainText('Diagnosis: Acute bronchitis, viral');
	await expect(timeline.filter({ hasText: 'viral' })).toContainText('version 2 (amended)');
	await page.getByTestId('records').screenshot({ path: 'docs/screenshots/chart.png' });

	// Nothing the clinic typed is in IndexedDB in clear: blocks, checkpoints and metadata hold ciphertext only.
	const stored = await storedLedgerText(page);
	expect(stored.length).toBeGreaterThan(1000);
	for (const marker of ['MARKER-NOTE-7731', 'MARKERNAME', 'Amina', 'MRN-20931', 'bronchitis', '1984-03-02']) expect(stored, marker).not.toContain(marker);

	// The patient's view: wrong PIN refused; right PIN shows the grant and the audit trail (writes, reads).
	await page.getByTestId('open-patient-view').click();
	await page.getByTestId('card-open-code').fill(code);
	await page.getByTestId('card-open-pin').fill('00000000');
	await page.getByTestId('card-open-submit').click();
	await expect(page.getByTestId('card-open-error')).toContainText('Wrong PIN', { timeout: 30_000 });
	await page.getByTestId('card-open-pin').fill('48151623');
	await page.getByTestId('card-open-submit').click();
	await expect(page.getByTestId('grant-row')).toHaveCount(1, { timeout: 30_000 });
	await expect(page.getByTestId('grant-row')).toContainText('Harbour Clinic');
	await expect(page.getByTestId('audit')).toContainText('Granted access');
	await expect(page.getByTestId('audit')).toContainText('Wrote a record');
	// Reads are batched onto the ledger (every 10 s) and then listed for the patient.
	await expect(page.getByTestId('audit').locator('[data-kind="read"]').first()).toBeVisible({ timeout: 30_000 });
	await page.getByTestId('patient-view').screenshot({ path: 'docs/screenshots/patient-view.png' });
	await page.getByTestId('patient-close').click();
	await expect(page.getByTestId('card-open-form')).toBeVisible();
});
