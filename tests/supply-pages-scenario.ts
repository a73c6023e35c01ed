/**
 * The supply pages scenario (domain/supply/pages.ts; the engine's side is
 * core/ledger/fold-pages.ts), run on the memory store
 * (tests/unit/domain/supply/supply-pages.test.ts) and on real IndexedDB in Chromium
 * (tests/browser/supply-pages.test.ts). Three clinics receive, give, waste, adjust and
 * transfer three lots while apart and after syncing: a transfer received, one received at
 * the wrong clinic and then by its addressee (and again long after), one received twice,
 * one never received (received at the wrong clinic, then flagged overdue), one sent twice,
 * a receipt of a transfer never sent, a serial given at three clinics from three lots, stock
 * below zero, a recall and a dose after it, a policy change. Observers with a checkpoint
 * after every block receive the blocks in random orders and batchings; the supply state they
 * read back (from memory and the store's rows), and again after a reopen that holds no page
 * in memory, equals the writers'. Compared as canonical CBOR (the same bytes for the same
 * state, in Node and in the browser).
 */
import { expect } from 'vitest';
import { encodeCanonical, fromHex, Ledger, toHex, type CborValue, type LedgerStore } from '../src/lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSigner } from '../src/lib/core/testing/fixtures.js';
import { prng } from '../src/lib/core/testing/prng.js';
import { APP_FOLDS, APP_INDEXES } from '../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../src/lib/domain/rule-registry.js';
import { lotKey, readSupply, shownPageKeys, type SupplyState } from '../src/lib/domain/supply/fold.js';
import { lotPageKey } from '../src/lib/domain/supply/supply-state.js';
import {
	administerTx,
	adjustTx,
	policyTx,
	recallTx,
	receiveTx,
	transferReceiveTx,
	transferSendTx,
	wasteTx
} from '../src/lib/domain/supply/transactions.js';
import { causalOrder, shuffled } from './unit/support/arrival-orders.js';

const bytesOf = (value: unknown) => toHex(encodeCanonical(value as CborValue));
const GTIN = '09506000134352';
const DAY = 86_400_000;
const id = (n: number) => new Uint8Array(16).fill(n);
const patient = (n: number) => new Uint8Array(32).fill(n);

export async function supplyNetwork() {
	let now = Date.UTC(2026, 10, 1);
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, now: () => now };
	const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'clinician', 'clinic-c': 'clinician' } });
	const b = await joinNetwork(a.net, 'clinic-b', options);
	const c = await joinNetwork(a.net, 'clinic-c', options);
	const all = [a, b, c];
	const sync = async () => {
		for (const x of all) for (const y of all) if (x !== y) await syncInto(x, y);
	};
	await sync();
	const [B, C] = [fromHex(authorOf('clinic-b')), fromHex(authorOf('clinic-c'))];
	const lot = (name: string) => ({ gtin: GTIN, lot: name });
	await a.append([policyTx({ transitDays: 3 }), receiveTx({ ...lot('L1'), expiry: '2028-01-31', qty: 20, supplier: 'Acme' })]);
	await b.append([receiveTx({ ...lot('L2'), expiry: '2027-06-30', qty: 10, supplier: 'Acme', location: 'fridge' })]);
	await c.append([receiveTx({ ...lot('L3'), expiry: '2027-03-31', qty: 5, supplier: 'Other' })]);
	await sync();
	await a.append([
		transferSendTx({ ...lot('L1'), id: id(1), to: B, qty: 4 }),
		transferSendTx({ ...lot('L1'), id: id(2), to: C, qty: 2 }),
		transferSendTx({ ...lot('L1'), id: id(3), to: B, qty: 1 })
	]);
	// Sent twice (the second ignored); a transfer no one will receive.
	await a.append([transferSendTx({ ...lot('L1'), id: id(1), to: C, qty: 9 }), transferSendTx({ ...lot('L1'), id: id(4), to: C, qty: 3 })]);
	await sync();
	now += DAY;
	await c.append([transferReceiveTx({ id: id(1) }), transferReceiveTx({ id: id(9) })]); // the wrong clinic; never sent
	await b.append([transferReceiveTx({ id: id(1), location: 'fridge' })]);
	await c.append([transferReceiveTx({ id: id(2) })]);
	await b.append([transferReceiveTx({ id: id(4) })]); // the wrong clinic: transfer 4's page has a flag before it is overdue
	// Apart: the same serial from two lots at two clinics; stock below zero; a dose with no visit.
	await b.append([administerTx({ ...lot('L2'), patient: patient(1), kind: 'immunization', serial: 'SN-1', location: 'fridge' })]);
	await c.append([administerTx({ ...lot('L3'), patient: patient(2), kind: 'immunization', serial: 'SN-1' })]);
	await c.append([wasteTx({ ...lot('L3'), qty: 7, reason: 'freezer failed' })]);
	await sync();
	now += 4 * DAY;
	// Four days on: transfers 3 and 4 are overdue at the next supply block; 3 then arrives twice.
	await a.append([adjustTx({ ...lot('L1'), delta: -1, reason: 'count' })]);
	await sync();
	await b.append([transferReceiveTx({ id: id(3) })]);
	await b.append([transferReceiveTx({ id: id(3) })]);
	await a.append([recallTx({ ...lot('L2'), reason: 'cold chain failure' })]);
	// The serial a third time: its flag, a row by now, gains the dose.
	await a.append([administerTx({ ...lot('L1'), patient: patient(4), kind: 'immunization', serial: 'SN-1' })]);
	await sync();
	await b.append([administerTx({ ...lot('L2'), patient: patient(3), kind: 'immunization', location: 'fridge' })]);
	await c.append([receiveTx({ ...lot('L2'), expiry: '2027-07-31', qty: 1, supplier: 'Acme' })]);
	// Transfer 1 again, long after it was received: its page (a row by now) says so.
	await b.append([transferReceiveTx({ id: id(1), location: 'fridge' })]);
	await sync();
	const wire: Uint8Array[] = [];
	for await (const bytes of a.blocksSince({})) wire.push(bytes);
	return { writer: a, wire, net: a.net };
}

/** What the scenario must give, checked on the writer's view: every page kind, every flag kind it sets up. */
function checkWriter(view: Awaited<ReturnType<typeof readSupply>>) {
	const [A, B, C] = [authorOf('clinic-a'), authorOf('clinic-b'), authorOf('clinic-c')];
	expect(Object.keys(view.lots).sort()).toEqual(['L1', 'L2', 'L3'].map((l) => lotKey(GTIN, l)));
	expect(view.stock[lotKey(GTIN, 'L1')]).toEqual({
		[A]: { main: 20 - 4 - 2 - 1 - 3 - 1 - 1 },
		[B]: { fridge: 4, main: 1 },
		[C]: { main: 2 }
	});
	expect(view.stock[lotKey(GTIN, 'L3')]![C]).toEqual({ main: 5 - 1 - 7 });
	expect(Object.values(view.transfers).map((t) => [t.id, t.received !== null])).toEqual(
		expect.arrayContaining([
			[toHex(id(1)), true],
			[toHex(id(2)), true],
			[toHex(id(3)), true],
			[toHex(id(4)), false]
		])
	);
	expect(view.open).toEqual([]);
	const kinds = Object.values(view.flags)
		.map((f) => f.kind)
		.sort();
	expect(kinds).toEqual(
		[
			'dispensed-exceeds-received',
			'lot-expiry-mismatch',
			'negative-stock',
			'no-encounter',
			'no-encounter',
			'no-encounter',
			'no-encounter',
			'refused-administration',
			'serial-reused',
			'transfer-duplicate',
			'transfer-duplicate',
			'transfer-not-received',
			'transfer-not-received',
			'transfer-unknown',
			'transfer-wrong-clinic',
			'transfer-wrong-clinic'
		].sort()
	);
	expect(view.flags[`transfer-not-received|${toHex(id(3))}`]!.resolved).not.toBeNull();
	expect(view.flags[`transfer-not-received|${toHex(id(4))}`]!.resolved).toBeNull();
	expect(view.flags[`serial-reused|${GTIN}|SN-1`]!.evidence).toHaveLength(3);
	// Sent twice, then received twice: both sends and both receipts.
	expect(view.flags[`transfer-duplicate|${toHex(id(1))}`]!.evidence).toHaveLength(4);
}

/**
 * `trials` observers, each on the store `storeFor(trial)` gives (and the same store again,
 * `reopen`ed, after it is closed), receive the network's blocks in random orders and
 * batchings; returns how many supply pages the reopened nodes held as rows.
 */
export async function checkSupplyPages(
	trials: number,
	storeFor: (trial: number) => Promise<LedgerStore>,
	reopen: (trial: number, closed: LedgerStore) => Promise<LedgerStore>
): Promise<number> {
	const { writer, wire, net } = await supplyNetwork();
	const whole = await readSupply(writer);
	checkWriter(whole);
	const reference = bytesOf(whole);
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, checkpointEvery: 1 };
	const random = prng(17);
	const L2 = lotPageKey(GTIN, 'L2');
	let stored = 0;
	for (let trial = 0; trial < trials; trial++) {
		const store = await storeFor(trial);
		const node = await joinNetwork(net, `observer-${trial}`, { ...options, store });
		// Half the observers get the blocks in any order (most wait, parked, for what they depend on); half
		// in an order their dependencies allow, so each batch is folded by itself and pages leave memory between batches.
		const order = trial % 2 === 0 ? shuffled(wire, random) : causalOrder(wire, random);
		const size = [1, 4, 13, 60][Math.floor(trial / 2) % 4]!;
		for (let i = 0; i < order.length; i += size) await node.receive(order.slice(i, i + size));
		expect(node.size).toBe(wire.length);
		expect(bytesOf(await readSupply(node))).toBe(reference);
		// One lot read alone.
		expect(bytesOf((await readSupply(node, [L2])).stock)).toBe(bytesOf({ [lotKey(GTIN, 'L2')]: whole.stock[lotKey(GTIN, 'L2')] }));
		await node.close();
		const again = await Ledger.open({ ...options, store: await reopen(trial, store), signer: testSigner(`observer-${trial}`) });
		const state = again.state().supply as SupplyState;
		// Memory holds no page: every lot, transfer and serial page is a row of the store.
		expect(state.pages.counts).toMatchObject({ decoded: 0, packed: 0 });
		stored += state.pages.counts.stored;
		expect(() => state.pages.view(L2)).toThrow(/not read/);
		expect(bytesOf(await readSupply(again))).toBe(reference);
		// What the Inventory tab reads: every lot and every flag, no received transfer.
		const shown = await readSupply(again, shownPageKeys(state));
		expect(bytesOf({ ...shown, transfers: {} })).toBe(bytesOf({ ...whole, transfers: {} }));
		expect(Object.values(shown.transfers).map((t) => t.received)).toEqual([null]);
		await again.close();
	}
	return stored;
}
