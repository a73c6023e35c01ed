import { mkdirSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { registerPatient, storedLedgerText } from './records-support.js';
import { createNetwork, openApp } from './support.js';
import { syntheticBundle } from '../synthetic/records.js';

test('register a patient, record an encounter, open the patient’s view with the key card: nothing readable is stored in clear', async ({
	page
}) => {
	// Three scrypt derivations (node key, card, card again) take seconds each on a loaded machine.
	test.setTimeout(180_000);
	await openApp(page);
	await createNetwork(page, 'Harbour Clinic');
	mkdirSync('docs/screenshots', { recursive: true });
	const code = await registerPatient(page, 'Amina', 'Okonkwo-MARKERNAME', '1984-03-02', '48151623', {
		screenshot: 'docs/screenshots/key-card.png'
	});

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
	for (const marker of ['MARKER-NOTE-7731', 'MARKERNAME', 'Amina', 'MRN-20931', 'bronchitis', '1984-03-02'])
		expect(stored, marker).not.toContain(marker);

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
	// The patient reads their own records with their own key.
	await expect(page.getByTestId('own-records')).toContainText('Diagnosis: Acute bronchitis, viral');
	await expect(page.getByTestId('audit')).toContainText('Wrote a record');
	// The encounter's block wrote six records: one line for them (the audit index's row per patient and block).
	await expect(page.getByTestId('audit').locator('[data-kind="write"]').filter({ hasText: 'Wrote 6 records' })).toHaveCount(1);
	// Reads go onto the ledger in batches every 10 s; opening the patient's view writes those
	// waiting first, so the chart's reads are in the trail read with the grants above (no wait).
	expect(await page.getByTestId('audit').locator('[data-kind="read"]').count(), 'the chart read, in the trail at once').toBeGreaterThan(0);
	await page.getByTestId('patient-view').screenshot({ path: 'docs/screenshots/patient-view.png' });
	await page.getByTestId('patient-close').click();
	await expect(page.getByTestId('card-open-form')).toBeVisible();
});

test('import a FHIR Bundle with a preview, refuse a broken one with paths, and export a patient back', async ({ page }) => {
	test.setTimeout(180_000);
	await openApp(page);
	await createNetwork(page, 'Harbour Clinic');
	await page.getByTestId('tab-patients').click();
	await page.getByTestId('open-import').click();

	// A broken Bundle: every error listed with its path, nothing imported.
	const broken = syntheticBundle(2, { seed: 5, perPatient: 5 });
	(broken.entry![1]!.resource as { status?: string }).status = 'done';
	broken.entry!.push({ resource: { resourceType: 'Observation' } as never });
	await page
		.getByTestId('import-file')
		.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)) });
	await expect(page.getByTestId('import-error')).toContainText('nothing will be imported');
	await expect(page.getByTestId('import-issues')).toContainText('$.entry[1].resource.status');
	await expect(page.getByTestId('import-issues')).toContainText('$.entry[10].resource.code');
	await expect(page.getByTestId('import-run')).toHaveCount(0);

	// A good one: preview, import with progress, and the patients appear in the registry by name.
	const bundle = syntheticBundle(6, { seed: 11, perPatient: 20 });
	await page
		.getByTestId('import-file')
		.setInputFiles({ name: 'clinic-export.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bundle)) });
	await expect(page.getByTestId('import-preview')).toContainText('6 patients, 120 resources');
	await page.getByTestId('import-run').click();
	await expect(page.getByTestId('import-done')).toContainText('Imported 6 patients and 120 records', { timeout: 60_000 });
	await expect(page.getByTestId('patient-row')).toHaveCount(6);
	const first = bundle.entry![0]!.resource as { name: { family: string; given: string[] }[] };
	const firstRow = page
		.getByTestId('patient-row')
		.filter({ hasText: `${first.name[0]!.given[0]} ${first.name[0]!.family}` })
		.first();
	await firstRow.click();
	await expect(page.getByTestId('timeline-entry')).not.toHaveCount(0);

	// Export: a Bundle with the patient's records and a Provenance per block.
	await page.getByTestId('export-fhir').click();
	const download = page.waitForEvent('download');
	await page.getByTestId('export-download').click();
	const file = await (await download).path();
	const exported = JSON.parse(readFileSync(file, 'utf8')) as {
		resourceType: string;
		type: string;
		entry: { resource: { resourceType: string } }[];
	};
	expect(exported.resourceType).toBe('Bundle');
	expect(exported.type).toBe('collection');
	const types = exported.entry.map((e) => e.resource.resourceType);
	expect(types).toContain('Patient');
	expect(types).toContain('Provenance');
	expect(types.filter((t) => t !== 'Provenance').length).toBeGreaterThanOrEqual(10);
	// The imported patient's key waits for their card; printing it makes a card and forgets the key.
	await expect(page.getByTestId('make-card')).toBeVisible();
});
