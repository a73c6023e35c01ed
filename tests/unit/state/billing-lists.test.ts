// The Billing screen's lists on a ledger of many patients: every patient's page is read a
// slice at a time with progress (the page answers between slices) and none is kept
// decoded (the fold's state stays packed, the lists keep summaries), the lists and totals
// equal what the domain computes from the whole state, a drawn row reads its claim whole,
// and blocks arriving while the lists are computed are listed too, without one
// computation per batch.
import { describe, expect, it } from 'vitest';
import type { Ledger } from '$lib/core/index.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import {
	accountsOf,
	allClaims,
	allFlags,
	claimPlace,
	claimsFold,
	currentDecision,
	reconcile,
	statementOf,
	viewPage,
	pageRowOf,
	type ClaimsState
} from '$lib/domain/contracts/index.js';
import { BillingState, slicesByRow } from '$lib/state/billing.svelte.js';
import { prng } from '$lib/core/testing/prng.js';
import { syntheticClaims } from '../../synthetic/claims.js';

const PATIENTS = 700;

/** The claims state as a start decodes it from a checkpoint: the head, every patient's page still packed. */
function fromCheckpoint(state: ClaimsState): ClaimsState {
	return claimsFold.decode(claimsFold.encode(state));
}

/**
 * The ledger seam BillingState reads: the claims fold's state, its pages (here all in
 * memory: tests/unit/domain/contracts/claims-pages.test.ts and the browser suite read them
 * from a store), and the 'accepted' event. `reads` counts the pages asked for.
 */
function fakeLedger(initial: ClaimsState) {
	let claims = initial;
	const listeners = new Set<() => void>();
	const reads = { pages: 0 };
	const ledger = {
		author: null,
		state: () => ({ claims }),
		readPages: (fold: string, keys: readonly string[]) => {
			expect(fold).toBe('claims');
			reads.pages += keys.length;
			return Promise.resolve(new Map(keys.flatMap((key) => (claims.pages.peek(key) ? [[key, claims.pages.peek(key)!]] : []))));
		},
		on: (_event: string, listener: () => void) => {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
		roster: () => new Map()
	};
	return {
		ledger: ledger as unknown as Ledger,
		reads,
		/** A batch accepted: the fold's state is now `next`. */
		accept(next: ClaimsState) {
			claims = next;
			for (const listener of listeners) listener();
		}
	};
}

describe('Billing lists on a ledger of many patients', () => {
	it('cut the pages into slices at the store’s row boundaries: every page once, in order, each row in one slice', () => {
		const random = prng(11);
		for (let trial = 0; trial < 40; trial++) {
			const keys = [...new Set(Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 20_000)))];
			const slices = slicesByRow(keys);
			expect(slices.flat()).toEqual([...keys].sort((a, b) => a - b));
			const rowSlice = new Map<string, number>();
			slices.forEach((slice, i) => {
				expect(slice.length).toBeLessThan(256 + 16);
				for (const key of slice) {
					const row = pageRowOf(String(key));
					expect(rowSlice.get(row) ?? i).toBe(i);
					rowSlice.set(row, i);
				}
			});
			if (keys.length > 600) expect(slices.length).toBeGreaterThan(1);
		}
	});

	const { blocks } = syntheticClaims({ seed: 7, patients: PATIENTS, claims: 1_400, fraud: true });
	const full = foldBlocks(claimsFold, blocks);

	it('read every page a slice at a time with progress, the page answering between slices, keep none decoded, and list what the domain computes', async () => {
		const state = fromCheckpoint(full);
		const total = state.pages.counts.packed;
		expect(total).toBeGreaterThan(500);
		const { ledger, reads } = fakeLedger(state);
		const billing = new BillingState(() => ledger);
		const seen: { done: number; total: number }[] = [];
		let ticks = 0;
		// A task queued like a click or a frame would be: it runs between the slices.
		const ticker = setInterval(() => {
			ticks++;
			if (billing.reading) seen.push(billing.reading);
		}, 0);
		// The lists, totals, flags and payments come from one pass, each page read once.
		const stop = billing.follow();
		// The head at once (what a claim form needs); the lists not yet.
		expect(billing.claims?.coverages).toEqual(full.coverages);
		expect(billing.listed).toBe(false);
		await billing.refresh();
		clearInterval(ticker);
		stop();
		expect(billing.listed).toBe(true);
		expect(billing.reading).toBeNull();
		// Two passes (the one follow() starts, the one refresh() asks for), each page read once in
		// each, and after each the pages of the newest claims' patients (100 claims: at most 100 patients).
		expect(reads.pages).toBeGreaterThanOrEqual(2 * total);
		expect(reads.pages).toBeLessThanOrEqual(2 * total + 200);
		// The fold's state as the checkpoint left it: every page still packed.
		expect(state.pages.counts).toEqual({ decoded: 0, packed: total, stored: 0 });
		expect(ticks).toBeGreaterThanOrEqual(2);
		expect(seen.length).toBeGreaterThanOrEqual(2);
		for (const r of seen) expect(r.total).toBe(total);
		expect(seen.map((r) => r.done)).toEqual([...seen.map((r) => r.done)].sort((a, b) => a - b));

		const all = allClaims(full);
		// Newest first; each summary says what the claim does, and a drawn row reads the claim whole.
		expect(billing.all.map((c) => c.id)).toEqual(all.map((c) => c.id).reverse());
		for (const [i, c] of billing.all.entries()) {
			const rec = all[all.length - 1 - i]!;
			const d = currentDecision(rec);
			expect(c).toMatchObject({ place: claimPlace(rec), patient: rec.patient, clinic: rec.clinic, payer: rec.payer, paid: d?.payer ?? 0 });
			expect(c.status).toBe(rec.replacedBy !== null ? 'replaced' : (d?.status ?? null));
			expect(c.versions).toEqual([...new Set(rec.decisions.map((x) => `${x.plan}@${x.version}`))]);
		}
		// The newest claims' pages were read with the lists: their rows are drawn at once.
		for (const c of billing.all.slice(0, 60)) expect(billing.record(c)).toEqual(all.find((r) => r.id === c.id));
		// An older claim's row is drawn once its page is read.
		const newest = new Set(billing.all.slice(0, 100).map((c) => c.patient));
		const old = billing.all.findLast((c) => !newest.has(c.patient))!;
		expect(billing.record(old)).toBeNull();
		await expect.poll(() => billing.record(old)).toEqual(all.find((r) => r.id === old.id));
		expect(state.pages.counts).toEqual({ decoded: 0, packed: total, stored: 0 });
		expect(billing.flags).toEqual(allFlags(full, all));
		expect(billing.accounts).toEqual(accountsOf(full, all));
		expect(billing.reconciliation).toEqual(reconcile(full, all));
		// A patient's statement, from the screen's copy of the head (it shares the pages and their keys).
		for (const c of billing.all.slice(0, 20))
			expect(billing.statement(c.clinic, c.patient)).toEqual(statementOf(viewPage(full, c.patient), c.clinic, c.patient));
	});

	it('list the newest state after batches that arrive while they are computed, in fewer computations than batches', async () => {
		// Ten states along the ledger, as ten accepted batches would leave it.
		const cuts = Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * blocks.length) / 10));
		const states = cuts.map((cut) => fromCheckpoint(foldBlocks(claimsFold, blocks.slice(0, cut))));
		const { ledger, accept } = fakeLedger(states[0]!);
		const billing = new BillingState(() => ledger);
		let computed = 0;
		let last: unknown = null;
		const counter = setInterval(() => {
			if (billing.all !== last) computed++;
			last = billing.all;
		}, 0);
		const stop = billing.follow();
		// Batches a task apart, as a sync session hands them over.
		for (const next of states.slice(1)) {
			accept(next);
			await new Promise((resolve) => setTimeout(resolve, 0));
			if (billing.all !== last) computed++;
			last = billing.all;
		}
		await billing.refresh();
		clearInterval(counter);
		stop();
		const final = states.at(-1)!;
		expect(billing.all.map((c) => c.id)).toEqual(
			allClaims(full)
				.map((c) => c.id)
				.reverse()
		);
		expect(billing.all.length).toBe(allClaims(final).length);
		expect(billing.reconciliation).toEqual(reconcile(full, allClaims(full)));
		// The first computation, then one for everything that came in while it ran.
		expect(computed).toBeLessThanOrEqual(3);
	});
});
