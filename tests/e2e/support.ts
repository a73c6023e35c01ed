// Shared steps of the end-to-end tests: they drive the UI as a person would, and read
// IndexedDB directly only to check what was stored or to damage it on purpose.
import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';

/**
 * The passphrase of every test node's key. The tests use the real scrypt cost, measured by
 * the app in the browser (one derivation of at least 100 ms per unlock, a few per first run).
 */
export const PASSPHRASE = 'end-to-end test passphrase';

const unlocking = new WeakSet<Page>();
const watched = new WeakSet<BrowserContext>();

/** Types the passphrase on the lock screen shown now: chosen (with its confirmation) on a first run, else to unlock. */
export async function submitPassphrase(page: Page, passphrase = PASSPHRASE): Promise<void> {
	const screen = page.getByTestId('lock-screen');
	await page.getByTestId('lock-passphrase').fill(passphrase);
	if ((await screen.getAttribute('data-mode')) !== 'unlock') await page.getByTestId('lock-confirm').fill(passphrase);
	await page.getByTestId('lock-submit').click();
}

/**
 * From now on, whenever this page (or another page of its browser context) shows the
 * lock screen before an action or an assertion, the passphrase is typed first: tests
 * written before passphrases (reloads, second tabs) run unchanged.
 */
export function unlockAutomatically(page: Page): void {
	const context = page.context();
	if (!watched.has(context)) {
		watched.add(context);
		context.on('page', (other) => unlockAutomatically(other));
	}
	if (unlocking.has(page)) return;
	unlocking.add(page);
	page
		.addLocatorHandler(
			page.getByTestId('lock-screen'),
			async () => {
				// Only a lock screen waiting for a passphrase: not one checking it, nor a damaged key's.
				// Read in one step, without waiting: the screen may go at any moment once a passphrase was typed.
				const waiting = await page
					.evaluate(() => {
						const submit = document.querySelector<HTMLButtonElement>('[data-testid="lock-submit"]');
						return submit !== null && !submit.disabled;
					})
					// A navigation under way: the next check sees the new page.
					.catch(() => false);
				if (waiting) await submitPassphrase(page);
			},
			// The assertion or action goes on (and calls this again) while the screen stays.
			{ noWaitAfter: true }
		)
		// A page closed at once (a handed-over tab) needs no handler.
		.catch(() => undefined);
}

/**
 * Waits until the node has started: past loading and past the lock screen (unlocked
 * automatically). A first run measures and runs several key derivations, an unlock one:
 * about a second on a quiet machine, 7-10 s each was seen with every core busy.
 */
export async function waitUntilOpen(page: Page): Promise<void> {
	unlockAutomatically(page);
	await expect(page.getByTestId('app')).not.toHaveAttribute('data-status', /^(loading|setup|locked)$/, { timeout: 120_000 });
}

/** Opens the app, sets or types the passphrase, and waits until the node has started. */
export async function openApp(page: Page): Promise<void> {
	unlockAutomatically(page);
	await page.goto('/');
	await waitUntilOpen(page);
}

export async function createNetwork(page: Page, name: string): Promise<void> {
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await page.getByTestId('clinic-name').fill(name);
	await page.getByTestId('create-network').click();
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('network-name')).toHaveText(name);
	// A clinic opens on its patients (routes.spec.ts); the specs written for the ledger start there.
	await expect(page).toHaveURL(/\/patients$/);
	await page.getByTestId('tab-ledger').click();
	await expect(page.getByTestId('entry-form')).toBeVisible();
}

/** The ledger rows, in the order shown. */
export const rows = (page: Page): Locator => page.getByTestId('block-row');

/** The row whose entry text is exactly `text`. */
export const rowWithText = (page: Page, text: string): Locator =>
	rows(page).filter({ has: page.getByTestId('block-text').getByText(text, { exact: true }) });

/** Adds an entry and waits for the UI to acknowledge it (stored, shown, form cleared). */
export async function addEntry(page: Page, text: string): Promise<void> {
	// The ledger's size, not the rows drawn: right after a screen change the list may not be
	// drawn yet, and counting its rows then raced the render (0 counted, 5 found).
	const size = page.getByTestId('ledger-size');
	const before = Number(await size.getAttribute('data-size'));
	await page.getByTestId('entry-text').fill(text);
	await page.getByTestId('add-entry').click();
	await expect(page.getByTestId('entry-status')).toContainText('Saved in block');
	await expect(size).toHaveAttribute('data-size', String(before + 1));
	await expect(rowWithText(page, text)).toHaveCount(1);
	await expect(page.getByTestId('entry-text')).toHaveValue('');
}

/** The full hex public key this browser stored as its node identity, or null. */
export function storedIdentity(page: Page): Promise<string | null> {
	return page.evaluate(
		() =>
			new Promise<string | null>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger-identity');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					if (!db.objectStoreNames.contains('keys')) return resolve(null);
					const get = db.transaction('keys').objectStore('keys').get('node');
					get.onerror = () => reject(get.error);
					get.onsuccess = () => {
						const record = get.result as { publicKey: Uint8Array } | undefined;
						db.close();
						resolve(record ? Array.from(record.publicKey, (b) => b.toString(16).padStart(2, '0')).join('') : null);
					};
				};
			})
	);
}

/**
 * The stored identity record as JSON-safe values (byte arrays as `{ bytes: hex }`), or
 * null: to check what is kept at rest and that a refused attempt changed nothing.
 */
export function storedKeyRecord(page: Page): Promise<Record<string, unknown> | null> {
	return page.evaluate(
		() =>
			new Promise<Record<string, unknown> | null>((resolve, reject) => {
				const plain = (value: unknown): unknown => {
					if (value instanceof Uint8Array) return { bytes: Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('') };
					if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
					return value;
				};
				const open = indexedDB.open('clinic-ledger-identity');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					if (!db.objectStoreNames.contains('keys')) return resolve(null);
					const get = db.transaction('keys').objectStore('keys').get('node');
					get.onerror = () => reject(get.error);
					get.onsuccess = () => {
						db.close();
						resolve(get.result === undefined ? null : (plain(get.result) as Record<string, unknown>));
					};
				};
			})
	);
}

/** Number of blocks in the ledger database. */
export function storedBlockCount(page: Page): Promise<number> {
	return page.evaluate(
		() =>
			new Promise<number>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					// Schema 3: one byId index entry per block (core/storage/indexeddb-schema.ts).
					const count = db.transaction('segments').objectStore('segments').index('byId').count();
					count.onerror = () => reject(count.error);
					count.onsuccess = () => {
						db.close();
						resolve(count.result);
					};
				};
			})
	);
}

/**
 * Flips one bit of a stored block, found by a text it carries, behind the app's back:
 * `body` flips a bit of that text (the hash no longer matches), `signature` a bit of the
 * signature's R half (the signature no longer verifies). Returns the block's id.
 */
export function tamperStoredBlock(page: Page, marker: string, where: 'body' | 'signature'): Promise<string> {
	return page.evaluate(
		({ marker, where }) =>
			new Promise<string>((resolve, reject) => {
				const needle = new TextEncoder().encode(marker);
				const indexOf = (haystack: Uint8Array) => {
					outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
						for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
						return i;
					}
					return -1;
				};
				const open = indexedDB.open('clinic-ledger');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					// Schema 3: a segment holds its blocks' bytes one after another (core/storage/segment.ts).
					const tx = db.transaction('segments', 'readwrite');
					const cursor = tx.objectStore('segments').openCursor();
					let found: string | undefined;
					cursor.onsuccess = () => {
						const at = cursor.result;
						if (!at) {
							if (!found) reject(new Error(`no stored block carries "${marker}"`));
							return;
						}
						const record = at.value as { ids: string[]; bytes: Uint8Array; ends: Uint32Array };
						for (let slot = 0; slot < record.ids.length && !found; slot++) {
							const from = slot === 0 ? 0 : record.ends[slot - 1]!;
							const bytes = record.bytes.subarray(from, record.ends[slot]);
							if (indexOf(bytes) < 0) continue;
							// The signature is the last 64 bytes of the wire form; R is its first half.
							const offset = from + (where === 'body' ? indexOf(bytes) : bytes.length - 48);
							record.bytes[offset] = record.bytes[offset]! ^ 0x01;
							found = record.ids[slot]!;
							at.update(record);
						}
						if (!found) at.continue();
					};
					tx.oncomplete = () => {
						db.close();
						if (found) resolve(found);
					};
					tx.onerror = () => reject(tx.error);
					cursor.onerror = () => reject(cursor.error);
				};
			}),
		{ marker, where }
	);
}
