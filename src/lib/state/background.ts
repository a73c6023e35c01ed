/**
 * Background work on the page's main thread (reading every patient's name, checking every
 * stored block): done a slice at a time, each slice started when the page is idle, so
 * drawing and input come first; at most `ms` later when the page never idles (a busy page
 * still makes progress). Outside a browser (tests, the headless peer), the next task.
 *
 * Work a user is waiting for (the first lists of a screen: {@link inForeground}) comes
 * before it: while any runs, background slices wait for it to end, and its own slices only
 * yield to input and drawing ({@link yieldToPage}).
 */

/** Foreground work under way, and the background slices waiting for it to end. */
let foreground = 0;
let waiting: (() => void)[] = [];

function idle(ms: number): Promise<void> {
	return new Promise((resolve) => {
		if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: ms });
		else setTimeout(resolve, 0);
	});
}

/** Resolves when the page is idle (or `ms` have passed), and no foreground work runs. */
export function whenIdle(ms = 200): Promise<void> {
	if (foreground === 0) return idle(ms);
	return new Promise<void>((resolve) => waiting.push(resolve)).then(() => whenIdle(ms));
}

/** Runs `work`, which a user is waiting for, ahead of background work ({@link whenIdle} waits until it ends). */
export async function inForeground<T>(work: () => Promise<T>): Promise<T> {
	foreground++;
	try {
		return await work();
	} finally {
		if (--foreground === 0) {
			const resume = waiting;
			waiting = [];
			for (const r of resume) r();
		}
	}
}

/** Between two slices of foreground work: lets input and drawing in, then goes on before any background slice. */
export function yieldToPage(): Promise<void> {
	const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
	if (typeof scheduler?.yield === 'function') return scheduler.yield();
	return new Promise((resolve) => setTimeout(resolve, 0));
}
