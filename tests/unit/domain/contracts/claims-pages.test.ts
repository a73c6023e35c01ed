// The claims fold's pages as rows of the store (core/ledger/fold-pages.ts) on the memory
// store: tests/claims-pages-scenario.ts (the same in Chromium: tests/browser/claims-pages.test.ts),
// and a checkpoint written before pages were rows, every page in it, opened by this release.
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, Ledger, type LedgerStore } from '$lib/core/index.js';
import type { FactRow } from '$lib/core/index-fold.js';
import { checkpointStates } from '../../support/checkpoint-states.js';
import { earlierPageFacts, pageLog, pageRows, unpackRow } from '$lib/core/ledger/fold-pages.js';
import { joinNetwork, testSigner } from '$lib/core/testing/fixtures.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { claimsFold, type ClaimsState } from '$lib/domain/contracts/index.js';
import { readClaimsState } from '$lib/domain/contracts/claims-read.js';
import { checkClaimsPages, claimsNetwork } from '../../../claims-pages-scenario.js';
import { APP_FOLDS } from '$lib/domain/fold-registry.js';
import { syntheticClaims } from '../../../synthetic/claims.js';
import { canonicalState } from '../../support/canonical-state.js';
import { KeptStore } from '../../support/kept-store.js';

describe('claims pages in the store', () => {
	it('every arrival order and batching, and a reopen, read back the claims the writing nodes folded', async () => {
		const { stored, pages } = await checkClaimsPages(
			8,
			async () => new KeptStore(),
			async (_trial, store: LedgerStore) => store
		);
		expect(stored).toBe(8 * pages);
	}, 180_000);

	it('a checkpoint of the layout before pages were rows (every page in it) decodes to the same state, its pages counting as changed', () => {
		const state = foldBlocks(claimsFold, syntheticClaims({ seed: 3, claims: 80, fraud: true }).blocks);
		const value = claimsFold.encode(state) as { head: Uint8Array; pages: Uint8Array[]; coverages: unknown; auths: unknown };
		// The old head: no `inlineKeys` (every page inline), no `sizes`.
		const { inlineKeys, sizes, ...old } = JSON.parse(new TextDecoder().decode(value.head)) as Record<string, unknown>;
		expect(inlineKeys).toEqual(old.pageKeys);
		expect(sizes).toBeDefined();
		const decoded = claimsFold.decode({ ...value, head: new TextEncoder().encode(JSON.stringify(old)) } as never);
		expect(canonicalState(decoded)).toBe(canonicalState(state));
		const pages = (decoded as ClaimsState).pages;
		// None is stored: the next checkpoint writes them all as rows.
		expect(
			pages
				.changed()
				.map(([key]) => key)
				.sort()
		).toEqual(pages.keys().sort());
		expect([...pages.sizes].sort()).toEqual([...state.pages.sizes].sort());
	});

	it('a ledger whose checkpoints name pages stored one per row (an earlier layout) opens to the same claims: they are folded again, no row misread', async () => {
		const { founder, wire, options } = await claimsNetwork();
		const reference = canonicalState(await readClaimsState(founder));
		const store = new KeptStore();
		const node = await joinNetwork(founder.net, 'old', { ...options, store, checkpointEvery: 5 });
		await node.receive(wire);
		await node.close();
		// The earlier layout: each page its own row under `claims:pages`, logged by key; heads without `perRow`.
		const put: FactRow[] = [];
		const drop: FactRow[] = [];
		for (const row of await store.factKeys(pageRows('claims'), null, 1000))
			for (const fact of await store.facts(pageRows('claims'), row, null, 1000)) {
				drop.push(fact);
				for (const [key, bytes] of unpackRow(fact.value as Uint8Array)) put.push({ ...fact, fold: 'claims:pages', key, value: bytes });
			}
		for (const log of await store.facts(pageLog('claims'), 'log', null, 1000)) {
			drop.push(log);
			put.push({ ...log, fold: 'claims:page-log' });
		}
		expect(put.length).toBeGreaterThan(20);
		await store.writeFacts(put, drop);
		for (const position of await store.checkpointPositions()) {
			const states = await checkpointStates((await store.checkpointAtOrBefore(position))!, 'claims');
			const claims = decodeCanonical(states.state) as { head: Uint8Array; pages: Uint8Array[] };
			const { perRow, ...head } = JSON.parse(new TextDecoder().decode(claims.head)) as Record<string, unknown>;
			expect(perRow).toBe(16);
			await states.store(store, encodeCanonical({ ...claims, head: new TextEncoder().encode(JSON.stringify(head)) }));
		}
		// Which earlier-layout names the open looks for: the claims fold's only (the other paged folds never had that layout).
		const looked: string[] = [];
		const factKeys = store.factKeys.bind(store);
		store.factKeys = (fold, ...rest) => {
			if (fold.endsWith(':pages') || fold.endsWith(':page-log')) looked.push(fold);
			return factKeys(fold, ...rest);
		};
		const again = await Ledger.open({ ...options, store, signer: testSigner('old'), checkpointEvery: 5 });
		expect(looked).toEqual(earlierPageFacts('claims'));
		expect(APP_FOLDS.filter((f) => f.pages).map((f) => f.name)).toEqual(expect.arrayContaining(['claims', 'research', 'supply']));
		expect(canonicalState(await readClaimsState(again))).toBe(reference);
		// The earlier layout's rows are deleted at the open (nothing reads them); the new layout's are written.
		expect(earlierPageFacts('claims')).toEqual(['claims:pages', 'claims:page-log']);
		for (const name of earlierPageFacts('claims')) expect(await store.factKeys(name, null, 1)).toEqual([]);
		expect((await store.factKeys(pageRows('claims'), null, 1000)).length).toBeGreaterThan(0);
		await again.close();
	}, 60_000);
});
