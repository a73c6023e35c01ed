import 'fake-indexeddb/auto';
import { describe, it } from 'vitest';
import {
	checkAgainstMemory,
	checkHeadsRepaired,
	checkScansReadDisk,
	checkTwoConnections
} from '../../../browser/fixtures/segments-check.js';

// fake-indexeddb in Node; the real browser run is tests/browser/store-segments.test.ts.
describe('IndexedDB segments (fake-indexeddb)', () => {
	for (const seed of [1, 2, 3]) {
		it(`answers every read as the memory store does, segments overlapping (seed ${seed})`, { timeout: 30_000 }, async () => {
			await checkAgainstMemory(`segments-${seed}`, seed);
		});
	}
	it("sees another connection's appends (another tab) in every read", async () => {
		await checkTwoConnections('segments-tabs');
	});
	it('scans read the bytes on disk, even of a segment a point lookup holds in memory', async () => {
		await checkScansReadDisk('segments-tamper');
	});
	it('writes again at open a heads record that disagrees with the stored blocks (damaged): no stored id is taken twice, none claimed unheld', async () => {
		await checkHeadsRepaired('segments-heads');
	});
});
