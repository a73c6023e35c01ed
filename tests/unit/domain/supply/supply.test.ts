import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	decodeCanonical,
	encodeCanonical,
	fromHex,
	publicKeyOf,
	toHex,
	type AuthorId,
	type Block,
	type BlockId,
	type Ledger,
	type Tx
} from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import { grantMessage, grantTx } from '$lib/domain/privacy/consent.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { SYSTEMS } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { administerProblem, lotKey, supplyFold, type SupplyState } from '$lib/domain/supply/fold.js';
import { administrationResource } from '$lib/domain/supply/fhir.js';
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
import {
	activeRecalls,
	encountersOf,
	expiryAlerts,
	expiryTimeline,
	flagsFor,
	incomingTransfers,
	inventory,
	recallTrace,
	reorderAlerts
} from '$lib/domain/supply/views.js';

const GTIN = '09506000134352';
const GTIN2 = '04006381333931';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1); // 2026-11-01
const options = { rules: APP_RULES, folds: APP_FOLDS };
const supply = (ledger: Ledger) => ledger.state().supply as SupplyState;
const key = (label: string) => fromHex(authorOf(label));
const patientKey = (n: number) => new Uint8Array(32).fill(n);
const transferId = (n: number) => new Uint8Array(16).fill(n);

/** A clock tests move by hand; block times come from it. */
function clock(start = T0) {
	let now = start;
	return { now: () => now, set: (t: number) => (now = t) };
}

/** A block for the fold alone (the fold reads id, author, time and txs; signatures are the ledger's business). */
function fakeBlock(n: number, author: string, time: number, txs: Tx[]): Block {
	return {
		id: n.toString(16).padStart(64, '0') as BlockId,
		net: null,
		author: author as AuthorId,
		seq: n,
		prev: null,
		deps: [],
		clock: n,
		time,
		txs,
		body: new Uint8Array(),
		signature: new Uint8Array(),
		bytes: new Uint8Array()
	};
}
function foldAll(blocks: Block[]): SupplyState {
	return blocks.reduce((s, b) => supplyFold.apply(s, b), supplyFold.init());
}

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
		for (const o of ops) {
			const node = nodes[o.clinic]!;
			if (o.kind === 'sync') {
				await syncInto(node, nodes[o.from]!);
				continue;
			}
			const location = LOCATIONS[o.location]!;
			if (o.kind === 'accept') {
				const incoming = incomingTransfers(supply(node), authorOf(CLINICS[o.clinic]!));
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
				await node.append([administerTx({ ...gtinLot, patient: patientKey(o.qty), kind: 'immunization', qty: o.qty })]);
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
		return { founder, blocks, expected, net };
	}

	it('random movements, in any arrival order, give the same stock, and stock = receipts - out + in - given - wasted + adjusted', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(op, { minLength: 5, maxLength: 18 }),
				fc.array(fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), { minLength: 2, maxLength: 2 }),
				async (ops, orders) => {
					const { founder, blocks, expected, net } = await run(ops);
					const reference = encodeCanonical(supplyFold.encode(supply(founder)));
					for (const order of orders) {
						// Deliver one block at a time in a shuffled order: parked blocks wait for what they depend on.
						const shuffled = blocks.map((b, i) => [order[i % order.length]! * 1000 + i, b] as const).sort((a, b) => a[0] - b[0]);
						const observer = await joinNetwork(founder.net, 'observer', options);
						for (const [, b] of shuffled) expect((await observer.receive([b])).rejected).toEqual([]);
						expect(observer.versionVector()).toEqual(founder.versionVector());
						expect(encodeCanonical(supplyFold.encode(supply(observer)))).toEqual(reference);
					}
					const state = supply(founder);
					for (const [l, lot] of LOTS.entries()) {
						const byClinic = state.stock[lotKey(GTIN, lot)] ?? {};
						const onHand = (c: number) => Object.values(byClinic[authorOf(CLINICS[c]!)] ?? {}).reduce((s, q) => s + q, 0);
						for (const c of CLINICS.keys()) expect(onHand(c), `${lot} at ${CLINICS[c]}`).toBe(expected[l]![c]);
						// Network-wide: what is on hand plus what is in transit is what came in minus what went out.
						const transit = recallTrace(state, GTIN, lot).inTransit.reduce((s, t) => s + t.qty, 0);
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
				recallTx({ gtin: GTIN, lot: 'L1', reason: 'x' })
			])
		]);
		const bytes = encodeCanonical(supplyFold.encode(state));
		const decoded = supplyFold.decode(decodeCanonical(bytes));
		expect(decoded).toEqual(state);
		expect(encodeCanonical(supplyFold.encode(decoded))).toEqual(bytes);
		// Folding on from the decoded copy and from the original gives the same state.
		const next = fakeBlock(3, a, T0 + 2, [wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x' })]);
		expect(supplyFold.apply(decoded, next)).toEqual(supplyFold.apply(state, next));
	});
});

describe('expired and recalled lots at administration', () => {
	it('are refused with the reason: by the check the form runs before writing, and by the fold for a dose written anyway', async () => {
		const time = clock();
		const admin = await foundNetwork({ ...options, now: time.now });
		await admin.append([
			itemTx({ gtin: GTIN, name: 'Measles vaccine' }),
			receiveTx({ gtin: GTIN, lot: 'OLD', expiry: '2026-11-10', qty: 5, supplier: 'Acme' }),
			receiveTx({ gtin: GTIN, lot: 'BAD', expiry: '2027-06-30', qty: 5, supplier: 'Acme' }),
			receiveTx({ gtin: GTIN, lot: 'GOOD', expiry: '2027-06-30', qty: 5, supplier: 'Acme' })
		]);
		await admin.append([recallTx({ gtin: GTIN, lot: 'BAD', reason: 'particles found in vials' })]);
		// The last day of use is still usable; from the next midnight (UTC) the lot is expired.
		expect(administerProblem(supply(admin), GTIN, 'OLD', Date.UTC(2026, 10, 10, 23, 59))).toBeNull();
		expect(administerProblem(supply(admin), GTIN, 'OLD', Date.UTC(2026, 10, 11))).toBe('lot OLD expired on 2026-11-10');
		expect(administerProblem(supply(admin), GTIN, 'BAD', T0)).toBe('lot BAD was recalled: particles found in vials');
		expect(administerProblem(supply(admin), GTIN, 'GOOD', T0)).toBeNull();

		time.set(Date.UTC(2026, 10, 12));
		const dose = (lot: string, n: number) => administerTx({ patient: patientKey(n), gtin: GTIN, lot, kind: 'immunization' });
		const block = await admin.append([dose('OLD', 1), dose('BAD', 2), dose('GOOD', 3)]);
		const state = supply(admin);
		const refusedOf = (lot: string) => state.administrations[lotKey(GTIN, lot)]!.map((a) => a.refused);
		expect(refusedOf('OLD')).toEqual(['lot OLD expired on 2026-11-10']);
		expect(refusedOf('BAD')).toEqual(['lot BAD was recalled: particles found in vials']);
		expect(refusedOf('GOOD')).toEqual([null]);
		expect(state.flags[`refused-administration|${block.id}|0`]).toMatchObject({
			kind: 'refused-administration',
			message: 'dose given although lot OLD expired on 2026-11-10',
			evidence: [block.id]
		});
		expect(state.flags[`refused-administration|${block.id}|1`]?.message).toBe(
			'dose given although lot BAD was recalled: particles found in vials'
		);
		expect(state.flags[`refused-administration|${block.id}|2`]).toBeUndefined();
		// The doses left the shelf all the same; the inventory says which lots are blocked and why.
		const rows = inventory(state, admin.author!, time.now());
		expect(rows.map((r) => [r.lot, r.qty, r.blocked])).toEqual([
			['OLD', 4, 'lot OLD expired on 2026-11-10'],
			['BAD', 4, 'lot BAD was recalled: particles found in vials'],
			['GOOD', 4, null]
		]);
		// The FHIR resource of a dose that should not have been given says so.
		const resource = administrationResource(
			state.administrations[lotKey(GTIN, 'BAD')]![0]!,
			state.lots[lotKey(GTIN, 'BAD')]!,
			state.items[GTIN]!
		);
		expect(resource).toMatchObject({
			resourceType: 'Immunization',
			status: 'completed',
			lotNumber: 'BAD',
			expirationDate: '2027-06-30',
			isSubpotent: true,
			vaccineCode: { coding: [{ code: GTIN, display: 'Measles vaccine' }] }
		});
	});
});

describe('recall across clinics', () => {
	it('blocks the lot everywhere, lists the clinics holding it and the patients who received it, with contact status', async () => {
		const time = clock();
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'clinician' }, now: time.now });
		const b = await joinNetwork(a.net, 'clinic-b', { ...options, now: time.now });
		await syncInto(b, a);
		await a.append([receiveTx({ gtin: GTIN, lot: 'L7', expiry: '2027-12-31', qty: 10, supplier: 'Acme', location: 'fridge' })]);
		await a.append([transferSendTx({ id: transferId(9), to: key('clinic-b'), gtin: GTIN, lot: 'L7', qty: 4, location: 'fridge' })]);
		await a.append([administerTx({ patient: patientKey(1), gtin: GTIN, lot: 'L7', kind: 'immunization', location: 'fridge' })]);
		await a.append([administerTx({ patient: patientKey(2), gtin: GTIN, lot: 'L7', kind: 'immunization', location: 'fridge' })]);
		await syncInto(b, a);
		await b.append([transferReceiveTx({ id: transferId(9) })]);
		await syncInto(a, b);
		// The supplier's recall, entered by clinic A's admin.
		await a.append([recallTx({ gtin: GTIN, lot: 'L7', reason: 'cold chain failure at the distributor' })]);
		await syncInto(b, a);
		// Clinic B's form refuses before writing, with the reason.
		expect(administerProblem(supply(b), GTIN, 'L7', time.now())).toBe('lot L7 was recalled: cold chain failure at the distributor');
		// Written anyway (an old node, a device offline): every node records it as refused.
		const late = await b.append([administerTx({ patient: patientKey(3), gtin: GTIN, lot: 'L7', kind: 'immunization' })]);
		await syncInto(a, b);
		for (const node of [a, b]) {
			const state = supply(node);
			expect(activeRecalls(state).map((r) => [r.lot, r.recall.reason])).toEqual([['L7', 'cold chain failure at the distributor']]);
			const trace = recallTrace(state, GTIN, 'L7');
			expect(trace.patients.map((p) => [p.patient, p.status])).toEqual([
				[toHex(patientKey(1)), 'pending'],
				[toHex(patientKey(2)), 'pending'],
				[toHex(patientKey(3)), 'pending']
			]);
			expect(trace.administrations.map((x) => [x.clinic, x.refused !== null])).toEqual([
				[authorOf('clinic-a'), false],
				[authorOf('clinic-a'), false],
				[authorOf('clinic-b'), true]
			]);
			expect(trace.holding).toEqual([
				{ clinic: authorOf('clinic-a'), qty: 4 },
				{ clinic: authorOf('clinic-b'), qty: 3 }
			]);
			expect(state.flags[`refused-administration|${late.id}|0`]?.kind).toBe('refused-administration');
		}
		await a.append([contactTx({ gtin: GTIN, lot: 'L7', patient: patientKey(1), status: 'contacted', note: 'booked a new dose' })]);
		const contacted = recallTrace(supply(a), GTIN, 'L7').patients[0]!;
		expect([contacted.status, contacted.contact?.note]).toEqual(['contacted', 'booked a new dose']);
	});
});

describe('supply flags with evidence', () => {
	const a = authorOf('clinic-a');
	const b = authorOf('clinic-b');
	const rcv = (lot: string, qty: number) => receiveTx({ gtin: GTIN, lot, expiry: '2027-12-31', qty, supplier: 'Acme' });
	const give = (lot: string, extra: Partial<Parameters<typeof administerTx>[0]> = {}) =>
		administerTx({ patient: patientKey(1), gtin: GTIN, lot, kind: 'medication', ...extra });

	it('more dispensed than received, even when an upward adjustment hides it from the stock count', () => {
		const state = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 1), adjustTx({ gtin: GTIN, lot: 'L1', delta: 5, reason: 'found some' })]),
			fakeBlock(2, a, T0, [give('L1')]),
			fakeBlock(3, a, T0, [give('L1')])
		]);
		expect(Object.values(state.stock[lotKey(GTIN, 'L1')]![a]!)).toEqual([4]);
		const over = state.flags[`dispensed-exceeds-received|${lotKey(GTIN, 'L1')}|${a}`]!;
		expect(over.message).toBe('lot L1: 2 given, 0 wasted and 0 sent, but only 1 received and 0 transferred in');
		expect(over.evidence).toEqual([fakeBlock(3, a, T0, []).id]);
		expect(Object.keys(state.flags).filter((k) => k.startsWith('negative-stock'))).toEqual([]);
	});

	it('negative stock at a location is flagged with the block that caused it', () => {
		const state = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 1)]),
			fakeBlock(2, a, T0, [wasteTx({ gtin: GTIN, lot: 'L1', qty: 3, reason: 'dropped' })])
		]);
		expect(state.flags[`negative-stock|${lotKey(GTIN, 'L1')}|${a}|main`]).toMatchObject({
			message: 'stock of lot L1 at main went to -2',
			evidence: [fakeBlock(2, a, T0, []).id]
		});
		// One block taking two locations below zero: two flags, each listed once for the clinic.
		supplyFold.apply(
			state,
			fakeBlock(3, a, T0 + 1, [
				wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x', location: 'fridge' }),
				wasteTx({ gtin: GTIN, lot: 'L1', qty: 1, reason: 'x', location: 'bag' })
			])
		);
		const listed = flagsFor(state, a).filter((f) => f.kind === 'negative-stock');
		expect(listed.map((f) => f.key)).toEqual([
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|fridge`,
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|bag`,
			`negative-stock|${lotKey(GTIN, 'L1')}|${a}|main`
		]);
		expect(flagsFor(state, authorOf('clinic-b'))).toEqual([]);
	});

	it('a transfer sent and never received is flagged once the transit days pass (block time), and marked settled when received', () => {
		const send = fakeBlock(1, a, T0, [
			policyTx({ transitDays: 3 }),
			rcv('L1', 5),
			transferSendTx({ id: transferId(1), to: fromHex(b), gtin: GTIN, lot: 'L1', qty: 2 })
		]);
		const early = foldAll([send, fakeBlock(2, a, T0 + 3 * DAY, [])]);
		expect(Object.keys(early.flags)).toEqual([]);
		const late = foldAll([send, fakeBlock(2, a, T0 + 3 * DAY + 1, [])]);
		const id = toHex(transferId(1));
		expect(late.flags[`transfer-not-received|${id}`]).toMatchObject({ clinic: a, evidence: [send.id], resolved: null });
		const settled = supplyFold.apply(late, fakeBlock(3, b, T0 + 4 * DAY, [transferReceiveTx({ id: transferId(1) })]));
		expect(settled.flags[`transfer-not-received|${id}`]!.resolved).toBe(fakeBlock(3, b, 0, []).id);
		expect(settled.stock[lotKey(GTIN, 'L1')]![b]).toEqual({ main: 2 });
	});

	it('a receipt by another clinic than the addressee, of an unknown transfer, or a second receipt is ignored and flagged', () => {
		const c = authorOf('clinic-c');
		const state = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 5), transferSendTx({ id: transferId(1), to: fromHex(b), gtin: GTIN, lot: 'L1', qty: 2 })]),
			fakeBlock(2, c, T0, [transferReceiveTx({ id: transferId(1) }), transferReceiveTx({ id: transferId(2) })]),
			fakeBlock(3, b, T0, [transferReceiveTx({ id: transferId(1) })]),
			fakeBlock(4, b, T0, [transferReceiveTx({ id: transferId(1) })])
		]);
		expect(
			Object.values(state.flags)
				.map((f) => f.kind)
				.sort()
		).toEqual(['transfer-duplicate', 'transfer-unknown', 'transfer-wrong-clinic']);
		expect(state.stock[lotKey(GTIN, 'L1')]![c]).toBeUndefined();
		expect(state.stock[lotKey(GTIN, 'L1')]![b]).toEqual({ main: 2 });
	});

	it('the same serial used twice, with both administrations as evidence', () => {
		const state = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 5), give('L1', { serial: 'S9' })]),
			fakeBlock(2, b, T0, [give('L1', { serial: 'S9' })]),
			fakeBlock(3, b, T0, [give('L1', { serial: 'S8' })])
		]);
		expect(state.flags[`serial-reused|${GTIN}|S9`]).toMatchObject({
			kind: 'serial-reused',
			evidence: [fakeBlock(1, a, 0, []).id, fakeBlock(2, b, 0, []).id]
		});
		expect(Object.keys(state.flags).filter((k) => k.startsWith('serial-reused'))).toHaveLength(1);
	});

	it('administrations with no encounter, an encounter not on the ledger, or another patient’s encounter', () => {
		const rid = new Uint8Array(16).fill(7);
		const encounterBlock = fakeBlock(1, a, T0, [
			rcv('L1', 5),
			{
				t: 'record.put',
				patient: patientKey(1),
				category: 'encounters',
				rid,
				kid: 0,
				ver: 0,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(8)
			}
		]);
		const ref = { block: fromHex(encounterBlock.id), rid };
		const state = foldAll([
			encounterBlock,
			fakeBlock(2, a, T0, [
				give('L1', { encounter: ref }),
				give('L1'),
				give('L1', { encounter: { block: ref.block, rid: new Uint8Array(16) } }),
				give('L1', { encounter: ref, patient: patientKey(2) })
			])
		]);
		const id = fakeBlock(2, a, T0, []).id;
		expect(state.flags[`no-encounter|${id}|0`]).toBeUndefined();
		expect(state.flags[`no-encounter|${id}|1`]?.message).toBe('administration not linked to an encounter');
		expect(state.flags[`no-encounter|${id}|2`]?.message).toMatch(/is not on the ledger before this administration/);
		expect(state.flags[`encounter-patient-mismatch|${id}|3`]).toMatchObject({ evidence: [encounterBlock.id, id] });
	});

	it('a lot received twice with different expiry dates keeps the first and is flagged', () => {
		const state = foldAll([
			fakeBlock(1, a, T0, [rcv('L1', 1)]),
			fakeBlock(2, b, T0, [receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2028-01-31', qty: 1, supplier: 'Other' })])
		]);
		expect(state.lots[lotKey(GTIN, 'L1')]!.expiry).toBe('2027-12-31');
		expect(state.flags[`lot-expiry-mismatch|${lotKey(GTIN, 'L1')}`]?.message).toBe(
			'lot L1 received with expiry 2028-01-31, earlier with 2027-12-31 (the earlier one is used)'
		);
	});
});

describe('alerts and timeline', () => {
	it('expiry alerts follow the policy horizon, reorder points count usable stock only, the timeline groups by month', () => {
		const a = authorOf('clinic-a');
		const blocks = [
			fakeBlock(1, a, T0, [
				itemTx({ gtin: GTIN, name: 'Measles vaccine' }),
				itemTx({ gtin: GTIN2, name: 'Amoxicillin 500 mg' }),
				receiveTx({ gtin: GTIN, lot: 'SOON', expiry: '2026-12-15', qty: 3, supplier: 'Acme' }),
				receiveTx({ gtin: GTIN, lot: 'LATER', expiry: '2027-09-30', qty: 4, supplier: 'Acme', location: 'fridge' }),
				receiveTx({ gtin: GTIN2, lot: 'A1', expiry: '2026-12-31', qty: 20, supplier: 'Acme' }),
				reorderTx({ gtin: GTIN, level: 5 }),
				reorderTx({ gtin: GTIN2, level: 5 })
			])
		];
		const state = foldAll(blocks);
		expect(expiryAlerts(state, a, T0).map((r) => [r.lot, r.daysLeft])).toEqual([
			['A1', 60],
			['SOON', 44]
		]);
		supplyFold.apply(state, fakeBlock(2, a, T0, [policyTx({ horizonDays: 50 })]));
		expect(expiryAlerts(state, a, T0).map((r) => r.lot)).toEqual(['SOON']);
		// 7 measles doses on hand, above the reorder point of 5, until SOON expires.
		expect(reorderAlerts(state, a, T0)).toEqual([]);
		expect(reorderAlerts(state, a, Date.UTC(2026, 11, 16))).toEqual([{ gtin: GTIN, name: 'Measles vaccine', onHand: 4, level: 5 }]);
		expect(expiryTimeline(state, a, T0)).toEqual([
			{ month: '2026-12', qty: 23, lots: ['A1', 'SOON'], expired: false },
			{ month: '2027-09', qty: 4, lots: ['LATER'], expired: false }
		]);
		expect(inventory(state, authorOf('clinic-b'), T0)).toEqual([]);
	});
});

describe('doses linked to encounter records of the records layer', () => {
	it('a dose linked to a sealed Encounter raises no flag; one linked to another patient’s encounter does', async () => {
		const ledger = await foundNetwork({ ...options, founder: 'clinic-a', now: () => T0 });
		const book = new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		// The patient grants clinic A their encounters; A records the visit, sealed.
		const seed = testSecret('patient-9');
		const patient = toHex(publicKeyOf(seed));
		const other = toHex(patientKey(8));
		const grant = {
			id: 'cd'.repeat(16),
			patient,
			grantee: authorOf('clinic-a'),
			categories: ['encounters' as const],
			purpose: 'treatment' as const,
			expires: T0 + 365 * DAY,
			issued: T0
		};
		await ledger.append([grantTx(grant, signNoble(seed, grantMessage(grant)))]);
		// The visit: its Encounter first, then a vital sign, in one block.
		const vital = book.sealTxs(
			{
				resourceType: 'Observation',
				status: 'final',
				category: [{ coding: [{ system: SYSTEMS.obsCategory, code: 'vital-signs' }] }],
				code: { coding: [{ system: SYSTEMS.loinc, code: '8310-5', display: 'Body temperature' }] },
				subject: { reference: `Patient/${patient}` },
				effectiveDateTime: '2026-11-20T09:00:00Z',
				valueQuantity: { value: 37.2, unit: 'Cel', system: SYSTEMS.ucum, code: 'Cel' }
			},
			{ now: T0 }
		);
		const visit = await book.write(
			{
				resourceType: 'Encounter',
				status: 'finished',
				class: { system: SYSTEMS.actCode, code: 'AMB' },
				subject: { reference: `Patient/${patient}` },
				period: { start: '2026-11-20T09:00:00Z' }
			},
			{ now: T0, extra: vital.txs }
		);
		// The dose form offers the visit by its Encounter record, once.
		expect(encountersOf(supply(ledger), patient)).toEqual([{ block: visit.block, rid: visit.rid, time: T0 }]);
		expect(Object.keys(supply(ledger).encounters)).toHaveLength(2);
		expect(encountersOf(supply(ledger), other)).toEqual([]);
		await ledger.append([receiveTx({ gtin: GTIN, lot: 'L1', expiry: '2030-01-31', qty: 5, supplier: 'Acme' })]);
		const encounter = { block: fromHex(visit.block), rid: fromHex(visit.rid) };
		const good = await ledger.append([administerTx({ patient: fromHex(patient), gtin: GTIN, lot: 'L1', kind: 'immunization', encounter })]);
		const wrong = await ledger.append([administerTx({ patient: fromHex(other), gtin: GTIN, lot: 'L1', kind: 'immunization', encounter })]);
		const flags = Object.values(supply(ledger).flags);
		expect(flags.filter((f) => f.evidence.includes(good.id))).toEqual([]);
		expect(flags.map((f) => [f.kind, f.evidence])).toEqual([['encounter-patient-mismatch', [visit.block, wrong.id]]]);
		const dose = supply(ledger).administrations[lotKey(GTIN, 'L1')]![0]!;
		expect(administrationResource(dose, supply(ledger).lots[lotKey(GTIN, 'L1')]!, null)).toMatchObject({
			resourceType: 'Immunization',
			encounter: { reference: `Encounter/${visit.block}-${visit.rid}` },
			patient: { identifier: { value: patient } }
		});
	});
});

describe('administration rules on the contract engine', () => {
	it('are JsonLogic compiled within the step budget, and judge recalled and expired lots', async () => {
		const { ADMINISTER_RULE_DATA } = await import('$lib/domain/supply/fold.js');
		const { compileRule, ruleHolds, STEP_BUDGET } = await import('$lib/domain/contracts/rule-logic.js');
		const compiled = ADMINISTER_RULE_DATA.map((r) => ({ code: r.code, ...compileRule(r.rule as never, r.code) }));
		for (const c of compiled) expect(c.cost).toBeLessThan(STEP_BUDGET);
		const holds = (code: string, data: unknown) => ruleHolds(compiled.find((c) => c.code === code)!.logic, data);
		expect(holds('recalled', { time: 5, lot: { recalled: false, expiresAt: 10 } })).toBe(true);
		expect(holds('recalled', { time: 5, lot: { recalled: true, expiresAt: 10 } })).toBe(false);
		expect(holds('expired', { time: 5, lot: { recalled: false, expiresAt: 10 } })).toBe(true);
		expect(holds('expired', { time: 10, lot: { recalled: false, expiresAt: 10 } })).toBe(false);
		expect(holds('expired', { time: 10, lot: { recalled: false, expiresAt: null } })).toBe(true);
	});
});
