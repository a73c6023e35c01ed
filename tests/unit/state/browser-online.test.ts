/** The offline banner's source: the browser's online and offline events, and a re-read that catches a change no event announced. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrowserOnline, RECHECK_MS } from '$lib/state/browser-online.svelte.js';

function fakeBrowser(onLine: boolean) {
	const target = new EventTarget();
	const state = { onLine };
	vi.stubGlobal('window', target);
	vi.stubGlobal('navigator', {
		get onLine() {
			return state.onLine;
		}
	});
	return { target, state };
}

afterEach(() => {
	vi.unstubAllGlobals();
	vi.useRealTimers();
});

describe('BrowserOnline', () => {
	it('follows the events, and within a re-check interval a change that came without one', () => {
		vi.useFakeTimers();
		const browser = fakeBrowser(true);
		const online = new BrowserOnline();
		const said: string[] = [];
		const stop = online.watch((text) => said.push(text));
		expect(online.online).toBe(true);
		// Offline with no event (a reload racing the connection's drop): seen at the next re-check.
		browser.state.onLine = false;
		vi.advanceTimersByTime(RECHECK_MS - 1);
		expect(online.online).toBe(true);
		vi.advanceTimersByTime(1);
		expect(online.online).toBe(false);
		expect(said).toEqual(['the browser went offline: peers are unreachable until it is back']);
		// Back online, announced by its event: no second report from the re-check.
		browser.state.onLine = true;
		browser.target.dispatchEvent(new Event('online'));
		vi.advanceTimersByTime(3 * RECHECK_MS);
		expect(online.online).toBe(true);
		expect(said).toHaveLength(2);
		// Stopped: no more changes followed.
		stop();
		browser.state.onLine = false;
		vi.advanceTimersByTime(3 * RECHECK_MS);
		expect(online.online).toBe(true);
	});

	it('starts from what the browser says', () => {
		fakeBrowser(false);
		const online = new BrowserOnline();
		const stop = online.watch(() => {});
		expect(online.online).toBe(false);
		stop();
	});
});
