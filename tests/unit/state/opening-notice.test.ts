import { describe, expect, it } from 'vitest';
import { openingNotice } from '$lib/state/node.svelte.js';

describe('the notice while the ledger opens', () => {
	it('names what is rebuilt and how far', () => {
		expect(openingNotice({ phase: 'index', done: 500, total: 100_000 })).toBe(
			'Opening the ledger… Building the indexes: 500 of 100,000 blocks'
		);
		expect(openingNotice({ phase: 'fold', done: 100_000, total: 100_000 })).toBe(
			'Opening the ledger… Rebuilding the state: 100,000 of 100,000 blocks'
		);
	});
});
