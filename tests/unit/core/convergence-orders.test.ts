// The second half of the 1,000 seeded arrival orders of convergence.test.ts, in a file of
// its own so that Vitest runs the two halves on two cores.
import { beforeAll, describe, expect, it } from 'vitest';
import { RUNS, differingOrders, referenceDag } from '../support/arrival-orders.js';

describe('convergence whatever the arrival order', () => {
	let reference: Awaited<ReturnType<typeof referenceDag>>;

	beforeAll(async () => {
		reference = await referenceDag();
	}, 120_000);

	it('arrival orders 501-1,000 of 1,000, in every batching, reach the identical stored set, heads, vectors, void set, evidence and state', async () => {
		expect(await differingOrders(reference.dag, reference.reference, RUNS / 2, RUNS)).toEqual([]);
	}, 600_000);
});
