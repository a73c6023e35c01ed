/**
 * A payer's coverage change and authorization that land late, on real IndexedDB in Chromium:
 * the claims fold rebuilds its coverages and authorizations from the store's rows and
 * re-applies the pages of the claims naming them (domain/contracts/claims-head.ts) instead
 * of rewinding, and reaches the state of a node that received every block in order.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/lib/core/bytes.js';
import { IndexedDBStore, type Ledger, type Tx } from '../../src/lib/core/index.js';
import { joinNetwork, syncInto } from '../../src/lib/core/testing/fixtures.js';
import { allClaims, CARC, type ClaimsState } from '../../src/lib/domain/contracts/index.js';
import { claimTx, PATIENT, scenario } from '../encounter-scenario.js';
import { canonicalState } from '../unit/support/canonical-state.js';

const run = `${Date.now()}`;

/** An MRI of the patient on `date` under cov-1, naming authorization `auth` (its encounter is not a record: flagged, still decided). */
const mriTx = (clinic: Ledger, date: string, auth: string): Tx =>
	claimTx(clinic, {
		preAuth: [auth],
		diagnoses: ['M25.561'],
		lines: [{ code: '73721', units: 1, unitPrice: 30_000, date, encounter: { block: 'ab'.repeat(32), rid: 'cd'.repeat(16) } }]
	});

describe('a late coverage or authorization in IndexedDB', () => {
	it('rebuilds those and re-applies the claims naming them, to the state of a node that had every block in order', async () => {
		const { founder, options, all } = await scenario();
		const [payer, clinic] = [all[1]!, all[2]!];
		// The clinic bills three MRIs; meanwhile the payer, not having them, ends cov-1 on
		// 2025-03-02 and grants pa-1: its block sorts before the later claims.
		for (const date of ['2025-03-01', '2025-03-02', '2025-03-03']) await clinic.append([mriTx(clinic, date, 'pa-1')]);
		const late = await payer.append([
			{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: PATIENT, start: '2025-01-01', end: '2025-03-02' },
			{ t: 'auth.grant', id: 'pa-1', coverage: 'cov-1', code: '73721', start: '2025-02-01', end: '2025-03-31' }
		]);
		await syncInto(founder, clinic);
		await syncInto(founder, payer);
		// The reference receives every block in one batch: folded in ledger order, nothing late.
		const everything: Uint8Array[] = [];
		for await (const bytes of founder.blocksSince({})) everything.push(bytes);
		const reference = await joinNetwork(founder.net, 'reference', options);
		expect((await reference.receive(everything)).rejected).toEqual([]);
		expect(reference.reapplied).toEqual({ keys: 0, blocks: 0, shared: 0 });
		const expected = canonicalState(reference.state().claims);
		const decided = allClaims(reference.state().claims as ClaimsState).filter((c) => c.lines.some((l) => l.code === '73721'));
		const carcs = decided.map((c) => c.decisions.at(-1)!.lines[0]!.adjustments[0]?.carc ?? null);
		// The grant and the coverage's new end both decide them: authorized while covered, after coverage once it ended.
		expect(carcs).toContain(CARC.afterCoverage);
		expect(carcs.some((c) => c !== CARC.afterCoverage && c !== CARC.noAuthorization)).toBe(true);

		const observer = await joinNetwork(founder.net, 'observer', {
			...options,
			store: await IndexedDBStore.open(`claims-head-${run}`),
			checkpointEvery: 5
		});
		const wire: Uint8Array[] = [];
		for (const bytes of everything) if (!bytesEqual(bytes, late.bytes)) wire.push(bytes);
		expect((await observer.receive(wire)).rejected).toEqual([]);
		expect(canonicalState(observer.state().claims)).not.toBe(expected);
		expect((await observer.receive([late.bytes])).accepted).toHaveLength(1);
		expect(observer.reapplied.shared).toBe(1);
		expect(observer.reapplied.keys).toBeGreaterThan(0);
		expect(canonicalState(observer.state().claims)).toBe(expected);
		await observer.close();
	}, 60_000);
});
