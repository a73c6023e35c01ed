import { describe, it } from 'vitest';
import { checkAgainstMemory, checkHeadsRepaired, checkScansReadDisk, checkTwoConnections } from './fixtures/segments-check.js';

// Real IndexedDB in real Chromium; the same checks run on fake-indexeddb in tests/unit/core/storage/store-segments.test.ts.
const run = `${Date.now()}`;
describe('IndexedDB segments (Chromium)', () => {
	it('answers every read as the memory store does, segments overlapping', { timeout: 120_000 }, async () => {
		await checkAgainstMemory(`segments-${run}`, 4);
	});
	it("sees another connection's appends (another tab) in every read", async () => {
		await checkTwoConnections(`segments-tabs-${run}`);
	});
	it('scans read the bytes on disk, even of a segment a point lookup holds in memory', async () => {
		await checkScansReadDisk(`segments-tamper-${run}`);
	});
	it('writes again at open a heads record that disagrees with the stored blocks (damaged): no stored id is taken twice, none claimed unheld', async () => {
		await checkHeadsRepaired(`segments-heads-${run}`);
	});
});
