// Two clinics in two Chromium processes over WebRTC. Clinic A registers a patient and
// records encounters; clinic B, a member without a grant, receives every block but can
// read nothing (its IndexedDB holds no plaintext). The patient, present at A with the
// key card, grants B access: A's node shares the keys and B's chart opens, and a new
// encounter at A appears at B as it is written. The patient revokes: B's chart closes
// and data written afterwards is sealed for A only. B then records an emergency access:
// A shares the keys, B reads, and the patient's view at A shows it. The signaling relay's
// captured traffic holds none of the record text.
import { existsSync, readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { openPatientView, registerPatient, storedLedgerText, writeEncounter } from './records-support.js';
import { addMember, foundNetwork, joinByLink, keyBeforeJoining, shareLink, test, waitForSize } from './nodes.js';

test.describe.configure({ mode: 'serial' });

const PIN = '27182818';
const CAPTURE = `test-results/signaling-capture-${process.env.E2E_PORT ?? 4599}.log`;

test('records sync sealed: no grant, nothing readable; granted, readable in real time; revoked, closed; emergency access readable and shown to the patient', async ({
	nodes
}) => {
	test.setTimeout(6 * 60_000);
	const a = await nodes.launch('RA');
	const b = await nodes.launch('RB');
	await foundNetwork(a.page, 'Harbour Clinic');
	const keyB = await keyBeforeJoining(b.page);
	await addMember(a.page, keyB, 'clinician', 'Hillside Clinic');
	await joinByLink(b.page, await shareLink(a.page), 'Harbour Clinic');
	await waitForSize(b.page, 2);

	const code = await registerPatient(a.page, 'Amina', 'Okonkwo-SYNCNAME', '1984-03-02', PIN);
	await writeEncounter(a.page, 'MARKER-SYNC-ONE chest clear');

	// B holds the patient's blocks but cannot read them.
	await b.page.getByTestId('tab-patients').click();
	const rowB = b.page.getByTestId('patient-row');
	await expect(rowB).toHaveCount(1, { timeout: 30_000 });
	await expect(rowB).toContainText('Name sealed');
	await rowB.click();
	await expect(b.page.getByTestId('timeline-entry')).toHaveCount(4, { timeout: 30_000 }); // Patient, Encounter, note, vital
	await expect(b.page.getByTestId('timeline')).toContainText('no access');
	await expect(b.page.getByTestId('timeline')).not.toContainText('MARKER-SYNC-ONE');
	await b.page.getByTestId('records').screenshot({ path: 'docs/screenshots/chart-sealed.png' });
	const storedB = await storedLedgerText(b.page);
	for (const marker of ['MARKER-SYNC-ONE', 'SYNCNAME', 'Amina']) expect(storedB, marker).not.toContain(marker);
	expect(storedB.length).toBeGreaterThan(1000);

	// The patient, at A with the card, grants B demographics and encounters.
	await openPatientView(a.page, code, PIN);
	await a.page.getByTestId('grant-grantee').selectOption({ label: 'Hillside Clinic (clinician)' });
	await a.page.getByTestId('grant-cat-demographics').check();
	await a.page.getByTestId('grant-submit').click();
	await expect(a.page.getByTestId('grant-row')).toHaveCount(2);
	// A's node shares the keys; B's chart opens.
	await expect(b.page.getByTestId('timeline')).toContainText('MARKER-SYNC-ONE', { timeout: 30_000 });
	await expect(rowB).toContainText('Amina Okonkwo-SYNCNAME');

	// Real time: the next encounter at A shows up at B.
	await a.page.getByTestId('patient-close').click();
	await a.page.getByTestId('patient-row').click();
	await writeEncounter(a.page, 'MARKER-SYNC-TWO follow-up', '131');
	await expect(b.page.getByTestId('timeline')).toContainText('MARKER-SYNC-TWO', { timeout: 30_000 });

	// The patient revokes B: B's chart closes; an encounter written afterwards stays sealed at B.
	await openPatientView(a.page, code, PIN);
	await a.page.getByTestId('grant-row').filter({ hasText: 'Hillside Clinic' }).getByTestId('grant-revoke').click();
	await a.page.getByTestId('revoke-grant-dialog-confirm').click();
	await expect(a.page.getByTestId('grant-row').filter({ hasText: 'Hillside Clinic' })).toContainText('revoked');
	await expect(b.page.getByTestId('access-encounters')).toContainText('no access', { timeout: 30_000 });
	await expect(b.page.getByTestId('timeline')).not.toContainText('MARKER-SYNC-TWO');
	await a.page.getByTestId('patient-close').click();
	await a.page.getByTestId('patient-row').click();
	await writeEncounter(a.page, 'MARKER-SYNC-THREE after revoke', '125');
	await expect(b.page.getByTestId('timeline-entry')).toHaveCount(10, { timeout: 30_000 });
	await expect(b.page.getByTestId('timeline')).not.toContainText('MARKER-SYNC-THREE');

	// Emergency: B breaks the glass for encounters; A shares the keys; B reads, and the patient sees it.
	await b.page.getByTestId('break-glass').click();
	await b.page.getByTestId('ask-reason').fill('Collapsed in the waiting room, unresponsive');
	await b.page.getByTestId('ask-submit').click();
	await b.page.getByTestId('break-glass-dialog-confirm').click();
	await expect(b.page.getByTestId('access-encounters')).toContainText('emergency access', { timeout: 30_000 });
	await expect(b.page.getByTestId('timeline')).toContainText('MARKER-SYNC-THREE', { timeout: 30_000 });
	await openPatientView(a.page, code, PIN);
	const audit = a.page.getByTestId('audit');
	await expect(audit.locator('[data-kind="break-glass"]')).toContainText('Hillside Clinic', { timeout: 30_000 });
	await expect(audit.locator('[data-kind="break-glass"]')).toContainText('Collapsed in the waiting room');
	await expect(audit.locator('[data-kind="key-share"]').filter({ hasText: 'emergency access' })).not.toHaveCount(0);
	// B's reads are batched onto the ledger and reach the patient's view.
	await expect(audit.locator('[data-kind="read"]').filter({ hasText: 'Hillside Clinic' }).first()).toBeVisible({ timeout: 45_000 });

	// The relay carried the WebRTC introductions of this test and none of the record text.
	expect(existsSync(CAPTURE)).toBe(true);
	const relayed = readFileSync(CAPTURE, 'utf8');
	expect(relayed).toContain('"publish"');
	for (const marker of ['MARKER-SYNC', 'SYNCNAME', 'Amina', 'Collapsed in the waiting room']) expect(relayed, marker).not.toContain(marker);
});
