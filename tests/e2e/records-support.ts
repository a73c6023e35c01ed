// Helpers for the records specs: what a clinic does on the Patients tab, and what its IndexedDB holds.
import { expect, type Page } from '@playwright/test';

/** Every byte stored in the ledger database, as text (Latin-1), to search for plaintext. */
export function storedLedgerText(page: Page): Promise<string> {
	return page.evaluate(
		() =>
			new Promise<string>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					const parts: string[] = [];
					const tx = db.transaction(db.objectStoreNames, 'readonly');
					const visit = (value: unknown): void => {
						if (value instanceof Uint8Array) parts.push(Array.from(value, (b) => String.fromCharCode(b)).join(''));
						else if (value instanceof ArrayBuffer) visit(new Uint8Array(value));
						else if (typeof value === 'string') parts.push(value);
						else if (Array.isArray(value)) value.forEach(visit);
						else if (value && typeof value === 'object') Object.values(value).forEach(visit);
					};
					for (const name of Array.from(db.objectStoreNames)) {
						const cursor = tx.objectStore(name).openCursor();
						cursor.onsuccess = () => {
							if (!cursor.result) return;
							visit(cursor.result.value);
							cursor.result.continue();
						};
					}
					tx.oncomplete = () => {
						db.close();
						resolve(parts.join('\n'));
					};
					tx.onerror = () => reject(tx.error);
				};
			})
	);
}

export async function registerPatient(
	page: Page,
	given: string,
	family: string,
	birth: string,
	pin: string,
	options: { screenshot?: string } = {}
): Promise<string> {
	await page.getByTestId('tab-patients').click();
	await page.getByTestId('register-patient').click();
	await page.getByTestId('reg-given').fill(given);
	await page.getByTestId('reg-family').fill(family);
	await page.getByTestId('reg-birth').fill(birth);
	await page.getByTestId('reg-gender').selectOption('female');
	await page.getByTestId('reg-identifier').fill('MRN-20931');
	await page.getByTestId('reg-pin').fill(pin);
	await page.getByTestId('reg-pin-again').fill(pin);
	await page.getByTestId('register-submit').click();
	await expect(page.getByTestId('patient-card')).toBeVisible({ timeout: 30_000 });
	if (options.screenshot) await page.getByTestId('patient-card').screenshot({ path: options.screenshot });
	const code = (await page.getByTestId('card-code').textContent())!.trim();
	expect(code).toMatch(/^CLK1\./);
	await page.getByTestId('card-done').click();
	return code;
}

/** Records an encounter with `note` for the open chart and waits until the note shows in the timeline. */
export async function writeEncounter(page: Page, note: string, systolic = '120'): Promise<void> {
	await page.getByTestId('new-encounter').click();
	await page.getByTestId('enc-reason').fill('Follow-up');
	await page.getByTestId('enc-note').fill(note);
	await page.getByTestId('enc-vital-systolic').fill(systolic);
	await page.getByTestId('encounter-save').click();
	await expect(page.getByTestId('encounter-form')).toHaveCount(0);
	await expect(page.getByTestId('timeline')).toContainText(note);
}

/** Opens the patient's view with the card code and PIN (the patient present). */
export async function openPatientView(page: Page, code: string, pin: string): Promise<void> {
	await page.getByTestId('tab-patients').click();
	await page.getByTestId('open-patient-view').click();
	await page.getByTestId('card-open-code').fill(code);
	await page.getByTestId('card-open-pin').fill(pin);
	await page.getByTestId('card-open-submit').click();
	await expect(page.getByTestId('grants')).toBeVisible({ timeout: 30_000 });
}
