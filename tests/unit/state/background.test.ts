// Background slices and foreground work on the page's thread (src/lib/state/background.ts):
// while work a user waits for runs, background slices wait; they resume once every such
// work has ended, whether it finished or failed.
import { describe, expect, it } from 'vitest';
import { inForeground, whenIdle, yieldToPage } from '../../../src/lib/state/background.js';

/** Lets timers and promise callbacks run `n` times. */
const turns = async (n: number) => {
	for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

function deferred() {
	let resolve!: () => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
	return { promise, resolve, reject };
}

describe('background and foreground work', () => {
	it('a background slice waits while foreground work runs, nested or failing, and goes on once all of it has ended', async () => {
		let ran = false;
		await whenIdle().then(() => (ran = true));
		expect(ran).toBe(true);

		const first = deferred();
		const second = deferred();
		const order: string[] = [];
		const a = inForeground(async () => {
			await first.promise;
			order.push('first done');
		});
		const b = inForeground(async () => {
			await yieldToPage(); // foreground slices are not held back
			order.push('second sliced');
			await second.promise;
		}).catch(() => order.push('second failed'));
		const slice = whenIdle().then(() => order.push('background slice'));
		await turns(5);
		expect(order).toEqual(['second sliced']);
		first.resolve();
		await a;
		await turns(5);
		expect(order).toEqual(['second sliced', 'first done']);
		second.reject(new Error('refused'));
		await b;
		await slice;
		expect(order).toEqual(['second sliced', 'first done', 'second failed', 'background slice']);

		// Nothing left waiting: the next slice runs at once.
		let next = false;
		await whenIdle().then(() => (next = true));
		expect(next).toBe(true);
	});
});
