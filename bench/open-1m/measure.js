// One timed open of the built app on a loaded profile (bench/open-1m.js): a freshly
// started Chromium on the profile opens /ledger, the lock screen shows, the passphrase is
// typed, and the unlock is clicked in the page; the page times from that click until the
// ledger screen is usable (defined in timedOpen), and the page's JS heap is read then.
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.js';
import { summarizeProfile } from '../lib/cpu-profile.js';

/**
 * Opens the app at `url` in a browser started on `profile`; returns the open's figures:
 * `ms` (click on unlock to usable: the screen shown, then the page's first idle period),
 * its parts (`keyMs`: the passphrase's key derivation until the status turns 'loading';
 * `openMs`: 'loading' until 'ready', i.e. IndexedDBStore.open, Ledger.open and the ledger
 * view's first read; `drawMs`: 'ready' until the screen is shown (`shownMs` from the click);
 * `busyMs`: from shown until the main thread is first idle), the
 * heap at usable (`heapMb`), after a forced collection (`heapGcMb`), and the highest
 * heap polled during the open (`peakMb`; polls are answered between tasks, so a peak
 * inside one long task can be missed). With `profile: true`, also a CPU profile summary.
 */
export async function timedOpen({
	url,
	profileDir,
	passphrase,
	blocks,
	name,
	cpuProfile = false,
	screens = false,
	timeoutMs = 900_000,
	log
}) {
	const context = await chromium.launchPersistentContext(profileDir, {
		executablePath: chromiumPath(),
		args: [...chromiumArgs, '--enable-precise-memory-info'],
		headless: true,
		viewport: { width: 1280, height: 900 }
	});
	try {
		const page = context.pages()[0] ?? (await context.newPage());
		let crashed = false;
		page.on('crash', () => {
			crashed = true;
			log('the page crashed');
		});
		page.on('pageerror', (error) => log(`[page error] ${error.message}`));
		const cdp = await context.newCDPSession(page);
		const t0 = performance.now();
		await page.goto(new URL('/ledger', url).href);
		await page.waitForFunction(() => document.querySelector('[data-testid="app"]')?.getAttribute('data-status') === 'locked', null, {
			timeout: 120_000
		});
		const lockMs = performance.now() - t0;
		await page.locator('[data-testid="lock-passphrase"]').fill(passphrase);
		await cdp.send('HeapProfiler.collectGarbage');
		const baseMb = (await cdp.send('Runtime.getHeapUsage')).usedSize / 1e6;
		let peak = 0;
		let polling = true;
		const poll = (async () => {
			while (polling && !crashed) {
				const used = await cdp
					.send('Runtime.getHeapUsage')
					.then((h) => h.usedSize)
					.catch(() => 0);
				peak = Math.max(peak, used);
				await new Promise((r) => setTimeout(r, 20));
			}
		})();
		if (cpuProfile) {
			await cdp.send('Profiler.enable');
			await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
			await cdp.send('Profiler.start');
		}
		let timing;
		const clicked = performance.now();
		try {
			timing = await page.evaluate(
				async ([blocks, name, timeout]) => {
					// Usable: the node is open (status ready) and the ledger screen shows the whole ledger: the
					// size line and the ledger's own count say at least `blocks` (the node may
					// append its own block once open), its rows are drawn, and the header
					// shows the network's name and the node's sync status.
					const q = (id) => document.querySelector(`[data-testid="${id}"]`);
					const ready = () =>
						q('app')?.getAttribute('data-status') === 'ready' &&
						Number(q('ledger-size')?.getAttribute('data-size')) >= blocks &&
						Number(/^[\d,]+/.exec((q('ledger-window')?.textContent ?? '').trim())?.[0].replaceAll(',', '')) >= blocks &&
						document.querySelectorAll('[data-testid="block-row"]').length > 0 &&
						q('network-name')?.textContent === name &&
						q('sync-status') !== null;
					const app = document.querySelector('[data-testid="app"]');
					const marks = {};
					const observer = new MutationObserver(() => {
						const status = app.getAttribute('data-status');
						marks[status] ??= performance.now();
					});
					observer.observe(app, { attributes: true, attributeFilter: ['data-status'] });
					const t = performance.now();
					document.querySelector('[data-testid="lock-submit"]').click();
					await new Promise((resolve, reject) => {
						const give = setTimeout(() => reject(new Error(`not usable after ${timeout} ms: ${app.textContent.slice(0, 500)}`)), timeout);
						// The node's error screen ends the wait too (reported as `error`).
						const done = () => ready() || app.getAttribute('data-status') === 'error';
						const check = () => (done() ? (clearTimeout(give), resolve(undefined)) : requestAnimationFrame(check));
						check();
					});
					const shown = performance.now();
					// Usable also means the page answers: the first idle period of its main thread
					// once the screen is shown (work the open leaves running keeps it busy).
					if (marks.error === undefined) await new Promise((resolve) => requestIdleCallback(resolve));
					const end = performance.now();
					observer.disconnect();
					const memory = performance.memory;
					return {
						ms: end - t,
						shownMs: shown - t,
						busyMs: end - shown,
						keyMs: (marks.loading ?? end) - t,
						openMs: (marks.ready ?? end) - (marks.loading ?? t),
						drawMs: shown - (marks.ready ?? shown),
						error: marks.error !== undefined ? app.textContent.slice(0, 500) : null,
						memoryMb: memory ? memory.usedJSHeapSize / 1e6 : null
					};
				},
				[blocks, name, timeoutMs]
			);
		} catch (error) {
			// The renderer gone (out of memory) or the wait given up: what was seen until then.
			if (!crashed) throw error;
			return {
				ms: NaN,
				error: `the page crashed ${((performance.now() - clicked) / 1000).toFixed(0)} s after the click`,
				lockMs,
				baseMb,
				peakMb: peak / 1e6
			};
		} finally {
			polling = false;
			await poll;
		}
		const heapMb = (await cdp.send('Runtime.getHeapUsage')).usedSize / 1e6;
		let summary;
		if (cpuProfile) {
			const { profile } = await cdp.send('Profiler.stop');
			summary = { profile, text: summarizeProfile(profile, { modules: 12, functions: 25, inclusive: 40 }) };
		}
		await cdp.send('HeapProfiler.collectGarbage');
		const usage = await cdp.send('Runtime.getHeapUsage');
		const heapGcMb = usage.usedSize / 1e6;
		// Array buffers' bytes live outside the JS heap (the claims fold's patient pages not yet decoded, for one): reported beside it.
		const buffersMb = typeof usage.backingStorageSize === 'number' ? usage.backingStorageSize / 1e6 : null;
		const shown = {};
		if (screens && !timing.error)
			for (const screen of SCREENS) {
				try {
					shown[screen.tab] = await timedScreen(page, cdp, screen, timeoutMs);
				} catch (error) {
					shown[screen.tab] = { error: error.message };
				}
			}
		return { ...timing, lockMs, baseMb, heapMb, heapGcMb, buffersMb, peakMb: Math.max(peak / 1e6, heapMb), cpu: summary, screens: shown };
	} finally {
		await context.close();
	}
}

/**
 * The screens a clinic opens after the ledger's, each timed on the same page once the
 * ledger screen is usable: the click on its tab until it shows its first rows (`ready`:
 * a selector) and the main thread is first idle. Patients: the registry (every patient's
 * name this node may decrypt); Billing: its first view (claims, or the flags);
 * Inventory: the stock table.
 */
export const SCREENS = [
	{ tab: 'patients', ready: '[data-testid="patient-row"]' },
	{ tab: 'billing', ready: '[data-testid="claim"], [data-testid="flag"], [data-testid="no-flags"], [data-testid="no-claims"]' },
	{ tab: 'inventory', ready: '[data-testid="supply-stock-row"]' }
];

/**
 * One screen (see {@link SCREENS}): `ms` from the click on its tab until rows show and the
 * main thread is first idle, `shownMs` until rows show, the page's JS heap after a forced
 * collection then (`heapGcMb`), and how many elements the page holds (`elements`: a list
 * drawn whole grows with the ledger) and how many rows of the screen's kind (`rows`).
 */
async function timedScreen(page, cdp, { tab, ready }, timeoutMs) {
	// PROFILE_SCREEN=<tab>: a CPU profile of that screen's timing (where it goes), printed by the caller.
	const profiling = process.env.PROFILE_SCREEN === tab;
	if (profiling) {
		await cdp.send('Profiler.enable');
		await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
		await cdp.send('Profiler.start');
	}
	const timing = await page.evaluate(
		async ([tab, ready, timeout]) => {
			const t = performance.now();
			document.querySelector(`[data-testid="tab-${tab}"]`).click();
			await new Promise((resolve, reject) => {
				const give = setTimeout(() => reject(new Error(`${tab}: no rows after ${timeout} ms`)), timeout);
				const check = () => (document.querySelector(ready) ? (clearTimeout(give), resolve(undefined)) : requestAnimationFrame(check));
				check();
			});
			const shown = performance.now();
			await new Promise((resolve) => requestIdleCallback(resolve));
			return {
				ms: performance.now() - t,
				shownMs: shown - t,
				elements: document.getElementsByTagName('*').length,
				rows: document.querySelectorAll(ready).length
			};
		},
		[tab, ready, timeoutMs]
	);
	if (profiling) {
		const { profile } = await cdp.send('Profiler.stop');
		const s = summarizeProfile(profile, { modules: 12, functions: 25, inclusive: 40 });
		console.log(
			`\nprofile of the ${tab} screen: ${s.totalMs.toFixed(0)} ms sampled\nby module:\n${s.modules}\nby function (self):\n${s.functions}\nby function (inclusive, app code):\n${s.inclusive}\n`
		);
	}
	await cdp.send('HeapProfiler.collectGarbage');
	const usage = await cdp.send('Runtime.getHeapUsage');
	return {
		...timing,
		heapGcMb: usage.usedSize / 1e6,
		buffersMb: typeof usage.backingStorageSize === 'number' ? usage.backingStorageSize / 1e6 : null
	};
}
