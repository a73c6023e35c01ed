// The node key at rest: passphrase on first run, lock screen, unlock, lock, migration of a
// key stored in clear by an earlier version, encrypted backup export and restore, and
// refused backup files. These tests type passphrases themselves (no automatic unlock),
// with the real scrypt cost the app measures in this browser.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect as baseExpect, test, type Page } from '@playwright/test';
import { generateKeyPair } from '../../src/lib/core/index.js';
import { backupFileName, encodeBackup } from '../../src/lib/domain/key-backup.js';
import { encryptIdentity } from '../../src/lib/domain/keystore.js';
import { createNetwork, storedIdentity, storedKeyRecord } from './support.js';

// Each test runs several real key derivations (100 ms to seconds each on a loaded machine) in up to three browsers.
test.describe.configure({ timeout: 300_000 });
// Most steps wait for one or more derivations (7 s each was seen with every core busy):
// each assertion waits for its condition, up to a bound sized for that.
const expect = baseExpect.configure({ timeout: 60_000 });

const PASSPHRASE = 'keys spec passphrase';
const FILE_PASSPHRASE = 'backup file passphrase';

const status = (page: Page) => page.getByTestId('app');

async function choosePassphrase(page: Page, passphrase: string, confirm = passphrase): Promise<void> {
	await expect(page.getByTestId('lock-screen')).not.toHaveAttribute('data-mode', 'unlock');
	await page.getByTestId('lock-passphrase').fill(passphrase);
	await page.getByTestId('lock-confirm').fill(confirm);
	await page.getByTestId('lock-submit').click();
}

async function unlock(page: Page, passphrase: string): Promise<void> {
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'unlock');
	await page.getByTestId('lock-passphrase').fill(passphrase);
	await page.getByTestId('lock-submit').click();
}

async function restore(page: Page, file: { name: string; text: string }, passphrase: string): Promise<void> {
	const panel = page.getByTestId('restore');
	if ((await panel.getAttribute('open')) === null) await panel.locator('summary').click();
	await page.getByTestId('restore-file').setInputFiles({ name: file.name, mimeType: 'application/json', buffer: Buffer.from(file.text) });
	await page.getByTestId('restore-passphrase').fill(passphrase);
	await page.getByTestId('restore-button').click();
}

/** A backup file of a new key pair that no browser of the test holds, under `passphrase`. */
async function foreignBackup(passphrase: string): Promise<{ name: string; text: string }> {
	const key = { ...generateKeyPair(), createdAt: Date.now() };
	// The least scrypt setting the app accepts when it calibrates (one derivation in the browser).
	const encrypted = await encryptIdentity(key, passphrase, { purpose: 'backup', params: { N: 2 ** 15, r: 8, p: 1 } });
	const exportedAt = Date.now();
	return { name: backupFileName(key.publicKey, exportedAt), text: encodeBackup({ key: encrypted, exportedAt, network: null }) };
}

/** Exports a backup from the Members tab; returns the downloaded file. */
async function exportBackup(page: Page, passphrase: string, filePassphrase = ''): Promise<{ name: string; text: string }> {
	await page.getByTestId('tab-members').click();
	await page.getByTestId('backup-passphrase').fill(passphrase);
	if (filePassphrase) {
		await page.getByTestId('backup-file-passphrase').fill(filePassphrase);
		await page.getByTestId('backup-file-confirm').fill(filePassphrase);
	}
	const download = page.waitForEvent('download');
	await page.getByTestId('backup-export').click();
	const file = await download;
	const path = await file.path();
	await expect(page.getByTestId('backup-status')).toContainText(file.suggestedFilename());
	return { name: file.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

test('first run chooses a passphrase; the key is stored encrypted; reload locks; a wrong passphrase changes nothing', async ({ page }) => {
	await page.goto('/');
	const screen = page.getByTestId('lock-screen');
	await expect(screen).toHaveAttribute('data-mode', 'new');
	await expect(status(page)).toHaveAttribute('data-status', 'setup');
	await expect(page.getByTestId('lock-explainer')).toContainText('cannot be recovered');
	await expect(page.getByTestId('lock-explainer')).toContainText('backup file');
	expect(await storedKeyRecord(page)).toBeNull();

	await choosePassphrase(page, 'short', 'short');
	await expect(page.getByTestId('lock-error')).toContainText('at least 8 characters');
	await choosePassphrase(page, PASSPHRASE, `${PASSPHRASE}!`);
	await expect(page.getByTestId('lock-error')).toContainText('differ');
	expect(await storedKeyRecord(page)).toBeNull();

	await choosePassphrase(page, PASSPHRASE);
	await expect(status(page)).toHaveAttribute('data-status', 'no-network');
	const key = await page.getByTestId('node-id').getAttribute('data-full');
	expect(key).toMatch(/^[0-9a-f]{64}$/);
	expect(await storedIdentity(page)).toBe(key);

	// At rest: version 2, ciphertext and parameters only; no 32-byte value but the public key.
	const record = (await storedKeyRecord(page))!;
	expect(Object.keys(record).sort()).toEqual(['cipher', 'ciphertext', 'createdAt', 'kdf', 'nonce', 'publicKey', 'version']);
	expect(record['version']).toBe(2);
	expect(record['cipher']).toBe('xchacha20-poly1305');
	const kdf = record['kdf'] as { name: string; N: number; r: number; p: number; salt: { bytes: string }; costMs: number };
	expect(kdf.name).toBe('scrypt');
	expect(kdf.N).toBeGreaterThanOrEqual(2 ** 15);
	expect(kdf.costMs).toBeGreaterThanOrEqual(100);
	expect((record['ciphertext'] as { bytes: string }).bytes).toHaveLength(96);
	const byteFields = JSON.stringify(record).match(/"bytes":"[0-9a-f]*"/g)!;
	expect(byteFields.filter((f) => f.length === '"bytes":""'.length + 64)).toEqual([`"bytes":"${key}"`]);
	console.log(`scrypt in Chromium here: N=2^${Math.log2(kdf.N)} r=${kdf.r} p=${kdf.p}, ${kdf.costMs} ms per derivation`);

	await page.reload();
	await expect(status(page)).toHaveAttribute('data-status', 'locked');
	await expect(page.getByTestId('lock-key')).toHaveAttribute('title', key!);
	await unlock(page, 'not the passphrase');
	await expect(page.getByTestId('lock-error')).toHaveText('Wrong passphrase. Nothing was changed.');
	await expect(status(page)).toHaveAttribute('data-status', 'locked');
	expect(await storedKeyRecord(page)).toEqual(record);

	await unlock(page, PASSPHRASE);
	await expect(status(page)).toHaveAttribute('data-status', 'no-network');
	await expect(page.getByTestId('node-id')).toHaveAttribute('data-full', key!);

	// Lock: the page drops the key and comes back at the lock screen.
	await page.getByTestId('lock-button').click();
	await expect(status(page)).toHaveAttribute('data-status', 'locked');
	await expect(page.getByTestId('node-id')).toHaveCount(0);
	await unlock(page, PASSPHRASE);
	await expect(status(page)).toHaveAttribute('data-status', 'no-network');
	expect(await storedKeyRecord(page)).toEqual(record);
});

test('a key stored in clear by an earlier version is encrypted in place once a passphrase is chosen', async ({ page }) => {
	const pair = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
	const hex = (b64url: string) => Buffer.from(b64url, 'base64url').toString('hex');
	const legacy = { secretKey: hex(pair.d!), publicKey: hex(pair.x!), createdAt: 1_700_000_000_000 };
	await page.goto('/');
	await expect(status(page)).toHaveAttribute('data-status', 'setup');
	// Write the version 1 record (the key pair in clear) as the earlier app did, then reopen.
	await page.evaluate(
		(legacy) =>
			new Promise<void>((resolve, reject) => {
				const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));
				const open = indexedDB.open('clinic-ledger-identity', 1);
				open.onupgradeneeded = () => open.result.createObjectStore('keys');
				open.onsuccess = () => {
					const tx = open.result.transaction('keys', 'readwrite');
					tx.objectStore('keys').put(
						{ secretKey: bytes(legacy.secretKey), publicKey: bytes(legacy.publicKey), createdAt: legacy.createdAt },
						'node'
					);
					tx.oncomplete = () => {
						open.result.close();
						resolve();
					};
					tx.onerror = () => reject(tx.error);
				};
				open.onerror = () => reject(open.error);
			}),
		legacy
	);
	await page.reload();
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'migrate');
	await expect(page.getByTestId('lock-migrate')).toContainText('encrypted in place');
	await expect(page.getByTestId('lock-key')).toHaveAttribute('title', legacy.publicKey);
	await choosePassphrase(page, PASSPHRASE);
	await expect(status(page)).toHaveAttribute('data-status', 'no-network');
	await expect(page.getByTestId('node-id')).toHaveAttribute('data-full', legacy.publicKey);
	const record = (await storedKeyRecord(page))!;
	expect(record['version']).toBe(2);
	expect(record['secretKey']).toBeUndefined();
	expect(JSON.stringify(record)).not.toContain(legacy.secretKey);

	await page.reload();
	await unlock(page, PASSPHRASE);
	await expect(page.getByTestId('node-id')).toHaveAttribute('data-full', legacy.publicKey);
});

test('a backup file restores the key in a fresh browser; damaged, foreign and unrelated files are refused and change nothing', async ({
	page,
	browser
}) => {
	await page.goto('/');
	await choosePassphrase(page, PASSPHRASE);
	await createNetwork(page, 'Hillside Clinic');
	const key = await page.getByTestId('node-id').getAttribute('data-full');

	await page.getByTestId('tab-members').click();
	await page.getByTestId('backup-passphrase').fill('not the passphrase');
	await page.getByTestId('backup-export').click();
	await expect(page.getByTestId('backup-error')).toContainText('Wrong passphrase');
	const backup = await exportBackup(page, PASSPHRASE, FILE_PASSPHRASE);
	expect(backup.name).toMatch(new RegExp(`^clinic-ledger-key-${key!.slice(0, 12)}-\\d{4}-\\d\\d-\\d\\d\\.json$`));
	const json = JSON.parse(backup.text);
	expect(json).toMatchObject({ format: 'clinic-ledger-key-backup', version: 1, publicKey: key, network: { name: 'Hillside Clinic' } });
	expect(json.kdf.costMs).toBeGreaterThanOrEqual(100);

	// Another browser (a new context: empty site data).
	const fresh = await browser.newContext();
	const other = await fresh.newPage();
	await other.goto('/');
	await expect(other.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'new');
	const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
	const refused: [string, string, string, RegExp][] = [
		['notes.txt', 'Dear colleague, ...', FILE_PASSPHRASE, /not a clinic ledger key backup/],
		['package.json', '{"name":"clinic-ledger"}', FILE_PASSPHRASE, /not a clinic ledger key backup/],
		[backup.name, backup.text.slice(0, 300), FILE_PASSPHRASE, /damaged .*not complete JSON/],
		[backup.name, JSON.stringify({ ...json, version: 7 }), FILE_PASSPHRASE, /version 7/],
		[
			backup.name,
			JSON.stringify({ ...json, ciphertext: json.ciphertext.slice(0, 80) }),
			FILE_PASSPHRASE,
			/damaged .*ciphertext is 40 bytes/
		],
		[backup.name, JSON.stringify({ ...json, ciphertext: flip(json.ciphertext, 17) }), FILE_PASSPHRASE, /damaged .*checksum/],
		[backup.name, backup.text, PASSPHRASE.replace('keys', 'keyz'), /^Wrong passphrase for this backup file\. Nothing was changed\.$/]
	];
	for (const [name, text, passphrase, message] of refused) {
		await restore(other, { name, text }, passphrase);
		await expect(other.getByTestId('restore-error')).toHaveText(message);
		await expect(status(other)).toHaveAttribute('data-status', 'setup');
		expect(await storedKeyRecord(other), name).toBeNull();
	}

	await restore(other, backup, FILE_PASSPHRASE);
	await expect(status(other)).toHaveAttribute('data-status', 'no-network');
	await expect(other.getByTestId('node-id')).toHaveAttribute('data-full', key!);
	// Kept here under the file's passphrase.
	await other.reload();
	await unlock(other, FILE_PASSPHRASE);
	await expect(other.getByTestId('node-id')).toHaveAttribute('data-full', key!);

	// A backup of another node's key (made by the app's own keystore code, as another
	// browser's export makes it) is refused by a browser that holds a key.
	try {
		const foreign = await foreignBackup(PASSPHRASE);
		await other.getByTestId('lock-button').click();
		await expect(status(other)).toHaveAttribute('data-status', 'locked');
		const before = await storedKeyRecord(other);
		await restore(other, foreign, PASSPHRASE);
		await expect(other.getByTestId('restore-error')).toContainText(`holds another node's key`);
		await expect(other.getByTestId('restore-error')).toContainText(`not this browser's (${key!.slice(0, 12)}`);
		await expect(status(other)).toHaveAttribute('data-status', 'locked');
		expect(await storedKeyRecord(other)).toEqual(before);
		await unlock(other, FILE_PASSPHRASE);
		await expect(other.getByTestId('node-id')).toHaveAttribute('data-full', key!);
	} finally {
		await fresh.close();
	}
});

test('a damaged key record is named on the lock screen and only a backup of that key replaces it', async ({ page }) => {
	await page.goto('/');
	await choosePassphrase(page, PASSPHRASE);
	await createNetwork(page, 'Hillside Clinic');
	const key = await page.getByTestId('node-id').getAttribute('data-full');
	const backup = await exportBackup(page, PASSPHRASE);
	// Cut the stored nonce short behind the app's back.
	await page.evaluate(
		() =>
			new Promise<void>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger-identity');
				open.onsuccess = () => {
					const store = open.result.transaction('keys', 'readwrite').objectStore('keys');
					const get = store.get('node');
					get.onsuccess = () => store.put({ ...get.result, nonce: new Uint8Array(3) }, 'node');
					store.transaction.oncomplete = () => {
						open.result.close();
						resolve();
					};
					store.transaction.onerror = () => reject(store.transaction.error);
				};
				open.onerror = () => reject(open.error);
			})
	);
	await page.reload();
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'damaged');
	await expect(page.getByTestId('lock-damaged')).toContainText('the nonce is not 24 bytes');
	await expect(page.getByTestId('lock-passphrase')).toHaveCount(0);
	const damaged = await storedKeyRecord(page);
	await restore(page, { name: 'notes.txt', text: 'not a backup' }, PASSPHRASE);
	await expect(page.getByTestId('restore-error')).toContainText('not a clinic ledger key backup');
	expect(await storedKeyRecord(page)).toEqual(damaged);
	await restore(page, backup, PASSPHRASE);
	await expect(status(page)).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('node-id')).toHaveAttribute('data-full', key!);
	await expect(page.getByTestId('network-name')).toHaveText('Hillside Clinic');
});
