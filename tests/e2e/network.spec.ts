// One browser: the network settings, the share link, network links that cannot be used,
// the members form and the diagnostics tools. Sync between browsers is in sync-*.spec.ts.
import { expect, test } from '@playwright/test';
import { createNetwork, openApp, rows, unlockAutomatically, waitUntilOpen } from './support.js';

// Each test founds or joins a network and reloads: several key derivations, about a second
// each on a quiet machine, 7-10 s each with every core busy (over the 60 s default).
test.describe.configure({ timeout: 180_000 });

const showTab = async (page: import('@playwright/test').Page, tab: string) => {
	await page.getByTestId(`tab-${tab}`).click();
	await expect(page.getByTestId(`tab-${tab}`)).toHaveAttribute('aria-current', 'page');
};

test('founding makes sync settings: a share link with this server as signaling, editable and validated', async ({ page, baseURL }) => {
	await openApp(page);
	await createNetwork(page, 'Riverside Family Clinic');
	await showTab(page, 'network');
	const signaling = `ws://${new URL(baseURL!).host}/signaling`;
	await expect(page.getByTestId('signaling-urls')).toHaveValue(signaling);
	const link = await page.getByTestId('network-link').inputValue();
	expect(link.startsWith(`${baseURL}#network=`)).toBe(true);
	await expect(page.getByTestId('connection')).toHaveAttribute('data-online', 'true');
	await expect(page.getByTestId('sync-status')).toHaveAttribute('data-online', 'true');
	await expect(page.getByTestId('peers-none')).toBeVisible();

	// Refused input changes nothing.
	for (const [input, message] of [
		['http://127.0.0.1/signaling', 'must start with ws:// or wss://'],
		['', 'at least one signaling server'],
		['not a url', 'is not a URL'],
		[`${signaling}\n${signaling}`, 'listed twice']
	] as const) {
		await page.getByTestId('signaling-urls').fill(input);
		await page.getByTestId('signaling-save').click();
		await expect(page.getByTestId('signaling-error')).toContainText(message);
	}
	await page.reload();
	await showTab(page, 'network');
	await expect(page.getByTestId('signaling-urls')).toHaveValue(signaling);
	expect(await page.getByTestId('network-link').inputValue()).toBe(link);

	// A valid change is saved, restarts sync and goes into the link shared from now on.
	await page.getByTestId('signaling-urls').fill(`${signaling}\nws://127.0.0.1:9/signaling`);
	await page.getByTestId('signaling-save').click();
	await expect(page.getByTestId('signaling-status')).toContainText('Saved');
	await expect(page.getByTestId('conn-signaling')).toContainText('ws://127.0.0.1:9/signaling');
	await expect(page.getByTestId('connection')).toHaveAttribute('data-online', 'true');
	const changed = await page.getByTestId('network-link').inputValue();
	expect(changed).not.toBe(link);
	await page.reload();
	await showTab(page, 'network');
	await expect(page.getByTestId('signaling-urls')).toHaveValue(`${signaling}\nws://127.0.0.1:9/signaling`);

	// Every tab fits a narrow screen.
	await page.setViewportSize({ width: 390, height: 844 });
	const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	for (const tab of ['network', 'members', 'diagnostics', 'ledger']) {
		await showTab(page, tab);
		expect(await overflow(), `${tab} tab at 390 px`).toBeLessThanOrEqual(0);
	}
});

test('a damaged network link, or a link to another network, is refused with a reason and changes nothing', async ({ page, context }) => {
	unlockAutomatically(page);
	await page.goto('/#network=eyJuZXQiOiJub3QtaGV4');
	// The first-run passphrase (real key derivations, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await expect(page.getByTestId('link-error')).toContainText('cannot be used');
	await expect(page.getByTestId('link-error')).toContainText('Nothing was changed');
	await expect(page.getByTestId('join-network')).toHaveCount(0);
	await expect(page.getByTestId('create-network-form')).toBeVisible();

	// A link of a real network, opened on a browser that holds another one.
	const other = await context.browser()!.newContext();
	const founder = await other.newPage();
	await founder.goto(page.url().split('#')[0]!);
	await createNetwork(founder, 'Lakeside Clinic');
	await showTab(founder, 'network');
	const lakeside = await founder.getByTestId('network-link').inputValue();
	await other.close();

	await page.goto('/');
	await createNetwork(page, 'Hillside Clinic');
	const net = await page.getByTestId('network-id').getAttribute('data-full');
	await page.goto(lakeside);
	await expect(page.getByTestId('link-error')).toContainText('already holds the network “Hillside Clinic”');
	await expect(page.getByTestId('network-id')).toHaveAttribute('data-full', net!);
	await page.reload();
	// The unlock (a real key derivation, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('network-name')).toHaveText('Hillside Clinic');
});

test('the join screen shows the network, this node key and that an admin must add it', async ({ page, context }) => {
	const other = await context.browser()!.newContext();
	const founder = await other.newPage();
	await openApp(founder);
	await createNetwork(founder, 'Lakeside Clinic');
	await showTab(founder, 'network');
	const link = await founder.getByTestId('network-link').inputValue();
	await other.close();

	await openApp(page);
	const key = await page.getByTestId('node-key').inputValue();
	expect(key).toMatch(/^[0-9a-f]{64}$/);
	await page.goto(link);
	await expect(page.getByTestId('join-network-name')).toHaveText('Lakeside Clinic');
	await expect(page.getByTestId('join-node-key')).toHaveValue(key);
	await expect(page.getByTestId('join-membership-note')).toContainText('must add this key as a member');
	await page.getByTestId('join-network-button').click();
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	// The secret does not stay in the address bar.
	expect(page.url()).not.toContain('#network=');
	await expect(page.getByTestId('network-name')).toHaveText('Lakeside Clinic');
	await expect(page.getByTestId('not-member')).toContainText('An admin of the network must add this node');
	await expect(page.getByTestId('not-member-key')).toHaveValue(key);
	await showTab(page, 'members');
	await expect(page.getByTestId('add-member-not-admin')).toBeVisible();
	// Joined but alone: after a reload it still waits for that network.
	await page.reload();
	// The unlock (a real key derivation, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('network-name')).toHaveText('Lakeside Clinic');
	await expect(page.getByTestId('not-member')).toBeVisible();
});

test('an admin adds members: keys are checked, the member appears with name and role', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Riverside Family Clinic');
	const self = await page.getByTestId('node-id').getAttribute('data-full');
	await showTab(page, 'members');
	await expect(page.getByTestId('member')).toHaveCount(1);
	await expect(page.getByTestId('member').first()).toHaveAttribute('data-role', 'admin');
	await expect(page.getByTestId('member').first()).toContainText('Riverside Family Clinic');
	await expect(page.getByTestId('member').first()).toContainText('founder');

	for (const [key, message] of [
		['', 'Enter the public key'],
		['xyz', 'only the characters 0-9 and a-f'],
		['ab'.repeat(31), 'this one has 62'],
		[self!, 'already a member, as admin']
	] as const) {
		await page.getByTestId('member-key-input').fill(key);
		if (key === self) await page.getByTestId('member-role').selectOption('admin');
		await page.getByTestId('add-member-button').click();
		await expect(page.getByTestId('member-error')).toContainText(message);
	}
	await expect(page.getByTestId('member')).toHaveCount(1);

	const key = '3d'.repeat(32);
	await page.getByTestId('member-key-input').fill(`  ${key.toUpperCase()} `);
	await page.getByTestId('member-role').selectOption('researcher');
	await page.getByTestId('member-name').fill('University study team');
	await page.getByTestId('add-member-button').click();
	await expect(page.getByTestId('member-status')).toContainText('Added');
	const added = page.getByTestId('member').and(page.locator(`[data-key="${key}"]`));
	await expect(added).toHaveAttribute('data-role', 'researcher');
	await expect(added).toContainText('University study team');
	await showTab(page, 'ledger');
	await expect(rows(page).last().getByTestId('block-tx')).toHaveAttribute('data-tx-type', 'member.add');
	await expect(rows(page).last()).toContainText('University study team');
});

test('diagnostics: test entries with progress, files up to 5 MiB attached, larger ones refused', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Riverside Family Clinic');
	await showTab(page, 'diagnostics');

	for (const bad of ['0', '50001', '2.5']) {
		await page.getByTestId('test-count').fill(bad);
		await page.getByTestId('test-write').click();
		await expect(page.getByTestId('test-error')).toContainText('from 1 to 50,000');
	}
	await page.getByTestId('test-count').fill('1200');
	await page.getByTestId('test-write').click();
	await expect(page.getByTestId('test-run')).toHaveAttribute('data-running', 'false', { timeout: 60_000 });
	await expect(page.getByTestId('test-run')).toHaveAttribute('data-done', '1200');
	await expect(page.getByTestId('test-progress')).toHaveAttribute('value', '1200');

	const tooLarge = Buffer.alloc(5 * 1024 * 1024 + 1, 1);
	await page.getByTestId('attach-file').setInputFiles({ name: 'mri-series.dcm', mimeType: 'application/dicom', buffer: tooLarge });
	await expect(page.getByTestId('attach-error')).toContainText('too large to attach');
	await expect(page.getByTestId('attach-error')).toContainText('5,242,880 bytes');
	await page
		.getByTestId('attach-file')
		.setInputFiles({ name: 'lab-report.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(300_000, 7) });
	await expect(page.getByTestId('attach-status')).toContainText('lab-report.pdf');

	await showTab(page, 'ledger');
	await expect(page.getByTestId('ledger-size')).toHaveAttribute('data-size', '1202');
	// The newest 50 rows first (a long table is slow to lay out); "Show older" adds 50 at a time, up to 300.
	await expect(page.getByTestId('ledger-window')).toContainText('showing the newest 50');
	await expect(rows(page)).toHaveCount(50);
	await expect(rows(page).first()).toContainText('Test entry 1152 of 1200');
	for (let drawn = 100; drawn <= 300; drawn += 50) {
		await page.getByTestId('ledger-older').click();
		await expect(rows(page)).toHaveCount(drawn);
	}
	await expect(page.getByTestId('ledger-window')).toContainText('showing the newest 300');
	await expect(page.getByTestId('ledger-older')).toHaveCount(0);
	await expect(rows(page).filter({ hasText: 'Test entry 1200 of 1200' })).toHaveCount(1);
	await expect(rows(page).last()).toContainText('File attached: lab-report.pdf (300 kB, application/pdf)');

	await showTab(page, 'diagnostics');
	await page.getByTestId('fingerprint-compute').click();
	await expect(page.getByTestId('fingerprint-value')).toHaveAttribute('data-blocks', '1202');
	await expect(page.getByTestId('fingerprint-value')).toHaveAttribute('data-digest', /^[0-9a-f]{64}$/);
	await expect(page.getByTestId('ledger-summary')).toContainText('note 1,200');
});
