/** Supply transaction rules (builders, malformed fields, roles) and the stock fold (random movements, every dose with one of two serials, in any arrival order, checkpoints). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, fromHex, toHex, type CborValue, type Tx } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto } from '$lib/core/testing/fixtures.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import { lotKey, supplyFold, supplyView } from '$lib/domain/supply/fold.js';
import { lotPageKey } from '$lib/domain/supply/supply-state.js';
import {
	SUPPLY_RULES,
	adjustTx,
	administerTx,
	contactTx,
	itemTx,
	policyTx,
	recallTx,
	receiveTx,
	reorderTx,
	transferReceiveTx,
	transferSendTx,
	wasteTx
} from '$lib/domain/supply/transactions.js';
import { incomingTransfers, lotWhereabouts } from '$lib/domain/supply/views.js';
import { causalOrder } from '../../support/arrival-orders.js';
import { prng } from '$lib/core/testing/prng.js';
import { GTIN, T0, fakeBlock, foldAll, foldOn, key, options, patientKey, supply, transferId } from './supply-support.js';

describe('supply transaction rules', () => {
	const rule = (t: string) => SUPPLY_RULES.find((r) => r.type === t)!;
	const check = (tx: Tx) => rule(tx.t).check(tx, undefined as never);

	it('accept what the builders write', () => {
		const txs = [
			itemTx({ gtin: GTIN, name: 'Measles vaccine', form: 'powder for injection', strength: '0.5 ml', storage: '2-8 °C' }),
			receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2027-01-31', qty: 2, supplier: 'Acme', location: 'fridge', serials: ['S1', 'S2'] }),
			transferSendTx({ id: transferId(1), to: key('b'), gtin: GTIN, lot: 'L1', qty: 1 }),
			transferReceiveTx({ id: transferId(1), location: 'fridge' }),
			administerTx({
				patient: patientKey(1),
				gtin: GTIN,
				lot: 'L1',
				kind: 'immunization',
				serial: 'S1',
				encounter: { block: new Uint8Array(32), rid: new Uint8Array(16) }
			}),
			wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'vial broken' }),
			adjustTx({ gtin: GTIN, lot: 'L1', delta: -1, reason: 'count' }),
			recallTx({ gtin: GTIN, lot: 'L1', reason: 'contamination' }),
			contactTx({ gtin: GTIN, lot: 'L1', patient: patientKey(1), status: 'contacted', note: 'phoned' }),
			policyTx({ horizonDays: 30 }),
			reorderTx({ gtin: GTIN, level: 10 })
		];
		expect(txs.map((t) => t.t).sort()).toEqual(SUPPLY_RULES.map((r) => r.type).sort());
		for (const tx of txs) expect(check(tx), tx.t).toBeNull();
		// Every type reads as words in the ledger view, not as its type name.
		for (const tx of txs) expect(summarizeTx(tx).text, tx.t).not.toMatch(/Transaction of type|undefined|\?/);
		expect(summarizeTx(txs[1]!).text).toBe('Received 2 × lot L1 of 09506000134352 (expires 2027-01-31) from Acme at fridge');
		expect(summarizeTx(txs[7]!).text).toBe('RECALL of lot L1 of 09506000134352: contamination');
		expect(administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L1', kind: 'medication', qty: 1 })).not.toHaveProperty('qty');
	});

	it('refuse malformed transactions, naming the field', () => {
		const receive = receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2027-01-31', qty: 2, supplier: 'Acme' });
		expect(check({ ...receive, gtin: '09506000134353' })).toMatch(/^gtin: check digit/);
		expect(check({ ...receive, lot: 'L 1' })).toMatch(/^lot: expected 1-20 characters of the GS1 set/);
		expect(check({ ...receive, expiry: '2027-02-30' })).toMatch(/^expiry: expected a date/);
		expect(check({ ...receive, qty: 0 })).toMatch(/^qty: expected a whole number from 1/);
		expect(check({ ...receive, qty: 1.5 })).toMatch(/^qty:/);
		expect(check({ ...receive, serials: ['A'] })).toMatch(/^serials: 1 serial numbers for a quantity of 2/);
		expect(check({ ...receive, serials: ['A', 'A'] })).toMatch(/^serials\[1\]: serial A listed twice/);
		expect(check({ ...receive, location: ' fridge' })).toMatch(/^location:/);
		expect(check({ ...receive, price: 3 })).toBe('unexpected field price');
		const { supplier: _, ...noSupplier } = receive;
		expect(check(noSupplier as Tx)).toBe('supplier: missing');
		const administer = administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L1', kind: 'immunization' });
		expect(check({ ...administer, patient: new Uint8Array(31) })).toMatch(/^patient: expected the patient key/);
		expect(check({ ...administer, kind: 'injection' })).toMatch(/^kind: expected one of immunization, medication/);
		expect(check({ ...administer, encounter: { block: new Uint8Array(32) } })).toMatch(/^encounter: expected the record id/);
		expect(check(adjustTx({ gtin: GTIN, lot: 'L1', delta: 0, reason: 'x' }))).toMatch(/^delta: expected a change other than 0/);
		expect(check({ t: 'supply.policy' })).toBe('expected horizonDays or transitDays');
		expect(check(transferSendTx({ id: new Uint8Array(8), to: key('b'), gtin: GTIN, lot: 'L1', qty: 1 }))).toMatch(
			/^id: expected a transfer id/
		);
	});

	it('only the roles named may sign: a front desk cannot give doses, only an admin recalls', async () => {
		const admin = await foundNetwork({ ...options, members: { desk: 'front-desk', nurse: 'clinician' } });
		const desk = await joinNetwork(admin.net, 'desk', options);
		const nurse = await joinNetwork(admin.net, 'nurse', options);
		await syncInto(desk, admin);
		await syncInto(nurse, admin);
		await expect(desk.append([administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L1', kind: 'immunization' })])).rejects.toThrow(
			/NOT_AUTHORIZED/
		);
		await expect(nurse.append([recallTx({ gtin: GTIN, lot: 'L1', reason: 'x' })])).rejects.toThrow(/NOT_AUTHORIZED/);
		await desk.append([receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2027-01-31', qty: 2, supplier: 'Acme' })]);
		await expect(
			admin.append([{ ...receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2027-01-31', qty: 2, supplier: 'Acme' }), qty: -2 }])
		).rejects.toThrow(/TX_INVALID.*qty/);
	});
});

describe('stock fold', () => {
	const LOTS = ['L1', 'L2'];
	const LOCATIONS = ['main', 'fridge'];
	const CLINICS = ['founder', 'north', 'south'];
	type Op =
		| { kind: 'receive' | 'administer' | 'waste'; clinic: number; lot: number; qty: number; location: number }
		| { kind: 'adjust'; clinic: number; lot: number; qty: number; location: number; up: boolean }
		| { kind: 'send'; clinic: number; lot: number; qty: number; location: number; to: number }
		| { kind: 'accept'; clinic: number; location: number }
		| { kind: 'sync'; clinic: number; from: number };
	const common = { clinic: fc.nat(2), lot: fc.nat(1), qty: fc.integer({ min: 1, max: 5 }), location: fc.nat(1) };
	const op: fc.Arbitrary<Op> = fc.oneof(
		fc.record({ kind: fc.constantFrom('receive' as const, 'administer' as const, 'waste' as const), ...common }),
		// More doses than other movements: each gives one of two serials, so serials come back across clinics and lots.
		fc.record({ kind: fc.constant('administer' as const), ...common }),
		fc.record({ kind: fc.constant('adjust' as const), ...common, up: fc.boolean() }),
		fc.record({ kind: fc.constant('send' as const), ...common, to: fc.nat(2) }),
		fc.record({ kind: fc.constant('accept' as const), clinic: fc.nat(2), location: fc.nat(1) }),
		fc.record({ kind: fc.constant('sync' as const), clinic: fc.nat(2), from: fc.nat(2) })
	);

	/** Three clinics writing movements on their own nodes, syncing now and then; returns every block and the expected totals. */
	async function run(ops: Op[]) {
		const founder = await foundNetwork({ ...options, members: { north: 'clinician', south: 'clinician' } });
		const nodes = [founder, await joinNetwork(founder.net, 'north', options), await joinNetwork(founder.net, 'south', options)];
		for (const node of nodes.slice(1)) await syncInto(node, founder);
		// expected[lot][clinic] = receipts - out + in - given - wasted + adjusted, counted here, not read from the fold.
		const expected = LOTS.map(() => CLINICS.map(() => 0));
		const net = LOTS.map(() => 0);
		let transfers = 0;
		/** Doses given per serial number: a serial given twice anywhere, in any order, is one `serial-reused` flag. */
		const serials = new Map<string, number>();
		for (const o of ops) {
			const node = nodes[o.clinic]!;
			if (o.kind === 'sync') {
				await syncInto(node, nodes[o.from]!);
				continue;
			}
			const location = LOCATIONS[o.location]!;
			if (o.kind === 'accept') {
				const incoming = incomingTransfers(await supply(node), authorOf(CLINICS[o.clinic]!));
				const t = incoming[0];
				if (!t) continue;
				await node.append([transferReceiveTx({ id: fromHex(t.id), location })]);
				expected[LOTS.indexOf(t.lot)]![o.clinic]! += t.qty;
				continue;
			}
			const gtinLot = { gtin: GTIN, lot: LOTS[o.lot]!, location };
			const e = expected[o.lot]!;
			if (o.kind === 'receive') {
				await node.append([receiveTx({ ...gtinLot, expiry: '2030-01-31', qty: o.qty, supplier: 'Acme' })]);
				e[o.clinic]! += o.qty;
				net[o.lot]! += o.qty;
			} else if (o.kind === 'administer') {
				const serial = `S${o.qty % 2}`;
				await node.append([administerTx({ ...gtinLot, patient: patientKey(o.qty), kind: 'immunization', qty: o.qty, serial })]);
				serials.set(serial, (serials.get(serial) ?? 0) + 1);
				e[o.clinic]! -= o.qty;
				net[o.lot]! -= o.qty;
			} else if (o.kind === 'waste') {
				await node.append([wasteTx({ ...gtinLot, qty: o.qty, reason: 'broken' })]);
				e[o.clinic]! -= o.qty;
				net[o.lot]! -= o.qty;
			} else if (o.kind === 'adjust') {
				const delta = o.up ? o.qty : -o.qty;
				await node.append([adjustTx({ ...gtinLot, delta, reason: 'count' })]);
				e[o.clinic]! += delta;
				net[o.lot]! += delta;
			} else if (o.kind === 'send') {
				if (o.to === o.clinic) continue;
				await node.append([transferSendTx({ ...gtinLot, id: transferId(++transfers), to: key(CLINICS[o.to]!), qty: o.qty })]);
				e[o.clinic]! -= o.qty;
			}
		}
		for (const node of nodes.slice(1)) await syncInto(founder, node);
		const blocks: Uint8Array[] = [];
		for await (const b of founder.blocksSince({})) blocks.push(b);
		return { founder, blocks, expected, net, serials };
	}

	it('random movements, in any arrival order, give the same stock, and stock = receipts - out + in - given - wasted + adjusted', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(op, { minLength: 5, maxLength: 18 }),
				fc.array(fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), { minLength: 2, maxLength: 2 }),
				async (ops, orders) => {
					const { founder, blocks, expected, net, serials } = await run(ops);
					const reference = encodeCanonical((await supply(founder)) as unknown as CborValue);
					for (const order of orders) {
						// Deliver one block at a time in a shuffled order: parked blocks wait for what they depend on.
						const shuffled = blocks.map((b, i) => [order[i % order.length]! * 1000 + i, b] as const).sort((a, b) => a[0] - b[0]);
						const observer = await joinNetwork(founder.net, 'observer', { ...options, checkpointEvery: 1 });
						for (const [, b] of shuffled) expect((await observer.receive([b])).rejected).toEqual([]);
						expect(observer.versionVector()).toEqual(founder.versionVector());
						expect(encodeCanonical((await supply(observer)) as unknown as CborValue)).toEqual(reference);
					}
					// And in an order the blocks' dependencies allow, a checkpoint after each: every block is folded
					// alone, its lot, transfer and serial pages read back from the store (not left in memory).
					const paged = await joinNetwork(founder.net, 'paged', { ...options, checkpointEvery: 1 });
					for (const b of causalOrder(blocks, prng(orders[0]![0]! + 1))) expect((await paged.receive([b])).rejected).toEqual([]);
					expect(encodeCanonical((await supply(paged)) as unknown as CborValue)).toEqual(reference);
					const state = await supply(founder);
					// Every serial given more than once is flagged, and no other (the serials index, read in ledger order).
					expect(
						Object.keys(state.flags)
							.filter((k) => k.startsWith('serial-reused|'))
							.sort()
					).toEqual(
						[...serials]
							.filter(([, n]) => n > 1)
							.map(([serial]) => `serial-reused|${GTIN}|${serial}`)
							.sort()
					);
					for (const [l, lot] of LOTS.entries()) {
						const byClinic = state.stock[lotKey(GTIN, lot)] ?? {};
						const onHand = (c: number) => Object.values(byClinic[authorOf(CLINICS[c]!)] ?? {}).reduce((s, q) => s + q, 0);
						for (const c of CLINICS.keys()) expect(onHand(c), `${lot} at ${CLINICS[c]}`).toBe(expected[l]![c]);
						// Network-wide: what is on hand plus what is in transit is what came in minus what went out.
						const transit = lotWhereabouts(state, GTIN, lot).inTransit.reduce((s, t) => s + t.qty, 0);
						expect(CLINICS.reduce((s, _, c) => s + onHand(c), 0) + transit).toBe(net[l]);
						// Stock below zero never goes unnoticed.
						for (const [clinic, locations] of Object.entries(byClinic))
							for (const [location, qty] of Object.entries(locations))
								if (qty < 0) expect(state.flags[`negative-stock|${lotKey(GTIN, lot)}|${clinic}|${location}`]?.kind).toBe('negative-stock');
					}
				}
			),
			{ numRuns: 10 }
		);
	}, 120_000);

	it('checkpoints round-trip exactly through canonical CBOR', () => {
		const a = authorOf('founder');
		const state = foldAll([
			fakeBlock(1, a, T0, [
				receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2027-01-31', qty: 3, supplier: 'Acme' }),
				transferSendTx({ id: transferId(1), to: key('b'), gtin: GTIN, lot: 'L1', qty: 1 })
			]),
			fakeBlock(2, a, T0 + 1, [
				administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L1', kind: 'medication', serial: 'S1' }),
				administerTx({ patient: patientKey(2), gtin: GTIN, lot: 'L1', kind: 'medication', serial: 'S1' }),
				recallTx({ gtin: GTIN, lot: 'L1', reason: 'x' })
			]),
			fakeBlock(3, authorOf('b'), T0 + 2, [transferReceiveTx({ id: transferId(1) }), transferReceiveTx({ id: transferId(2) })])
		]);
		const bytes = encodeCanonical(supplyFold.encode(state));
		const decoded = supplyFold.decode(decodeCanonical(bytes));
		expect(supplyView(decoded)).toEqual(supplyView(state));
		// A page per lot, per transfer received, per transfer flagged (the second was never sent), per serial flagged.
		expect(decoded.pages.keys().sort()).toEqual([
			lotPageKey(GTIN, 'L1'),
			`s:${GTIN}|S1`,
			`t:${toHex(transferId(1))}`,
			`tf:${toHex(transferId(2))}`
		]);
		expect(Object.keys(supplyView(decoded).transfers)).toEqual([toHex(transferId(1))]);
		expect(encodeCanonical(supplyFold.encode(decoded))).toEqual(bytes);
		// Folding on from the decoded copy and from the original gives the same state.
		const next = fakeBlock(4, a, T0 + 3, [wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x' })]);
		expect(supplyView(foldOn(decoded, next))).toEqual(supplyView(foldOn(state, next)));
	});
});
