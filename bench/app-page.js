// Driving the built app in a benchmark page, as a person would: elements by test id,
// waits on their attributes, and the lock screen (the node key is passphrase-protected).

/**
 * @param {import('playwright-core').Page} page
 * @param {string} passphrase
 */
export function appDriver(page, passphrase) {
	const byId = (/** @type {string} */ id) => page.locator(`[data-testid="${id}"]`);
	/** Waits until element `id` has attribute `name` = `value`. */
	const waitAttr = (/** @type {string} */ id, /** @type {string} */ name, /** @type {string} */ value, timeout = 600_000) =>
		page.waitForFunction(([i, n, v]) => document.querySelector(`[data-testid="${i}"]`)?.getAttribute(n) === v, [id, name, value], {
			timeout,
			polling: 200
		});
	/** Past the lock screen: chooses the passphrase on a first run, types it after a reload; then waits for status `expected`. */
	const unlock = async (/** @type {string} */ expected) => {
		await page.waitForFunction(
			() => !/^(loading)?$/.test(document.querySelector('[data-testid="app"]')?.getAttribute('data-status') ?? ''),
			null,
			{ timeout: 300_000, polling: 200 }
		);
		const status = await byId('app').getAttribute('data-status');
		if (status === 'setup' || status === 'locked') {
			await byId('lock-passphrase').fill(passphrase);
			if ((await byId('lock-screen').getAttribute('data-mode')) !== 'unlock') await byId('lock-confirm').fill(passphrase);
			await byId('lock-submit').click();
		}
		await waitAttr('app', 'data-status', expected, 300_000);
	};
	/** Opens the app at `url` in a fresh profile, past the lock screen, and founds a network named `name`. */
	const foundNetwork = async (/** @type {string} */ url, name = 'Benchmark Clinic') => {
		await page.goto(url);
		await unlock('no-network');
		await byId('clinic-name').fill(name);
		await byId('create-network').click();
		await waitAttr('app', 'data-status', 'ready', 60_000);
	};
	return { byId, waitAttr, unlock, foundNetwork };
}
