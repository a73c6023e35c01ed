/**
 * Background work on the page's main thread (reading every patient's name, every claim):
 * done a slice at a time, each slice started when the page is idle, so drawing and input
 * come first; at most `ms` later when the page never idles (a busy page still makes
 * progress). Outside a browser (tests, the headless peer), the next task.
 */
export function whenIdle(ms = 200): Promise<void> {
	return new Promise((resolve) => {
		if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: ms });
		else setTimeout(resolve, 0);
	});
}
