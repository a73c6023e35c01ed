/**
 * The claims pages scenario (core/ledger/fold-pages.ts, domain/contracts/claims-state.ts),
 * run on the memory store (tests/unit/domain/contracts/claims-pages.test.ts) and on real
 * IndexedDB in Chromium (tests/browser/claims-pages.test.ts): two clinics and a payer bill
 * 24 patients concurrently (claims, appeals, remittances, payments, a death), while the
 * payer grants authorizations (for the MRI the policy authorizes first; some ids granted
 * twice), ends coverages by re-enrolling them, and the clinics name authorizations in claims
 * and appeals, granted before or after them; observers with a checkpoint after every block
 * receive the blocks in random orders and batchings, or in an order their dependencies allow
 * (each batch folded alone, pages leaving memory between batches), and their claims,
 * coverages and authorizations, read back from memory and the store's rows, after a reopen
 * too, and the Billing screen's lists, must equal the writing nodes'.
 */
import { expect } from 'vitest';
import { detectVerifier, Ledger, toHex, type LedgerStore, type Tx } from '../src/lib/core/index.js';
import { foundNetwork, joinNetwork, syncInto, testSecret, testSigner } from '../src/lib/core/testing/fixtures.js';
import { prng } from '../src/lib/core/testing/prng.js';
import { publicKeyOf } from '../src/lib/core/crypto/ed25519.js';
import {
	accountsOf,
	allClaims,
	allFlags,
	claimResource,
	readClaimsState,
	samplePolicy,
	type ClaimForm,
	type ClaimsState
} from '../src/lib/domain/contracts/index.js';
import { APP_FOLDS, APP_INDEXES } from '../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../src/lib/domain/rule-registry.js';
import { BillingState } from '../src/lib/state/billing.svelte.js';
import { causalOrder, shuffled } from './unit/support/arrival-orders.js';
import { canonicalState } from './unit/support/canonical-state.js';

const PATIENTS = Array.from({ length: 24 }, (_, i) => publicKeyOf(testSecret(`patient-${i}`)));
const ENC = { block: 'e1'.repeat(32), rid: 'f2'.repeat(16) };

const coverageOf = (patient: Uint8Array) => `cov-${toHex(patient).slice(0, 8)}`;

function claimTx(clinic: Ledger, patient: Uint8Array, n: number, preAuth: string[] = []) {
	const form: ClaimForm = {
		patient: toHex(patient),
		provider: clinic.author!,
		coverage: coverageOf(patient),
		preAuth,
		diagnoses: ['E11.9'],
		created: '2025-03-05',
		lines: [
			{ code: n % 3 === 0 ? '99214' : '99213', units: 1, unitPrice: 9_000 + n, date: `2025-03-0${1 + (n % 8)}`, encounter: ENC },
			...(n % 4 === 0 ? [{ code: '36415', units: 1, unitPrice: 500, date: '2025-03-02', encounter: ENC }] : []),
			...(preAuth.length > 0 ? [{ code: '73721', units: 1, unitPrice: 22_000, date: '2025-03-06', encounter: ENC }] : [])
		]
	};
	return { t: 'claim.submit', claim: JSON.stringify(claimResource(form)) };
}

/** Two clinics and a payer billing 24 patients concurrently; every node's clock is `time.now`. */
export async function claimsNetwork() {
	const time = { now: Date.UTC(2025, 2, 5) };
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, now: () => time.now, verifier: await detectVerifier() };
	const founder = await foundNetwork({ ...options, members: { payer: 'payer', north: 'billing', south: 'billing' } });
	const nodes: Record<string, Ledger> = {};
	for (const label of ['payer', 'north', 'south']) {
		nodes[label] = await joinNetwork(founder.net, label, options);
		await syncInto(nodes[label]!, founder);
	}
	const [payer, north, south] = [nodes.payer!, nodes.north!, nodes.south!];
	await payer.append([{ t: 'contract.deploy', plan: 'ppo', version: 1, policy: samplePolicy() }]);
	for (const patient of PATIENTS)
		await payer.append([{ t: 'coverage.enroll', id: `cov-${toHex(patient).slice(0, 8)}`, plan: 'ppo', patient, start: '2025-01-01' }]);
	await syncInto(north, payer);
	await syncInto(south, payer);
	const random = prng(424242);
	const made: { clinic: Ledger; id: string; patient: number; mri: boolean }[] = [];
	// Authorization ids of the first 6 patients' coverages, two each (`auth-<patient>-<k>`), which the clinics name in
	// claims and appeals: some granted before the claim or appeal naming them, some after, some never, some twice.
	const auth = (p: number) => `auth-${p}-${Math.floor(random() * 2)}`;
	for (let n = 0; n < 100; n++) {
		const clinic = random() < 0.5 ? north : south;
		const p = Math.floor(random() * (random() < 0.5 ? 6 : PATIENTS.length));
		const patient = PATIENTS[p]!;
		const roll = random();
		// Appeals mostly of MRI claims: denied for want of an authorization granted since, or naming one.
		const all = made.filter((c) => c.clinic === clinic);
		const mine = random() < 0.7 && all.some((c) => c.mri) ? all.filter((c) => c.mri) : all;
		if (roll < 0.12 && mine.length > 0) {
			const c = mine[Math.floor(random() * mine.length)]!;
			await clinic.append([{ t: 'claim.appeal', original: c.id, reason: 'r', preAuthRef: random() < 0.6 ? [auth(c.patient)] : [] }]);
		} else if (roll < 0.2) await clinic.append([{ t: 'payment.record', patient, amount: 1_000 + n }]);
		else if (roll < 0.32) {
			// The payer authorizes the MRI (an id granted again is refused), or ends a coverage by enrolling it again.
			const q = Math.floor(random() * 6);
			const tx: Tx =
				random() < 0.8
					? { t: 'auth.grant', id: auth(q), coverage: coverageOf(PATIENTS[q]!), code: '73721', start: '2025-03-01', end: '2025-03-31' }
					: {
							t: 'coverage.enroll',
							id: coverageOf(PATIENTS[q]!),
							plan: 'ppo',
							patient: PATIENTS[q]!,
							start: '2025-01-01',
							end: '2025-03-04'
						};
			await payer.append([tx]);
			if (random() < 0.5) await syncInto(clinic, payer);
		} else {
			const preAuth = p < 6 && random() < 0.5 ? [auth(p), auth(p)] : [];
			const block = await clinic.append([claimTx(clinic, patient, n, preAuth)]);
			made.push({ clinic, id: `${block.id}-0`, patient: p, mri: preAuth.length > 0 });
		}
		if (random() < 0.15) {
			await syncInto(payer, clinic);
			const c = made[Math.floor(random() * made.length)];
			if (c) await payer.append([{ t: 'remittance.record', claim: c.id, amount: 500 }]);
		}
		if (random() < 0.2) await syncInto(clinic === north ? south : north, clinic);
		time.now += 3_600_000;
	}
	// MRI claims denied for want of an authorization, granted afterwards, then appealed: one appeal names nothing
	// (the claim's own id now counts), one names the id granted (the claim's does not exist).
	for (const [p, named, granted, appealed] of [
		[7, 'auth-late-7', 'auth-late-7', []],
		[8, 'auth-never-8', 'auth-later-8', ['auth-later-8']]
	] as const) {
		const claim = await north.append([claimTx(north, PATIENTS[p]!, 7, [named])]);
		await syncInto(payer, north);
		await payer.append([
			{ t: 'auth.grant', id: granted, coverage: coverageOf(PATIENTS[p]!), code: '73721', start: '2025-03-01', end: '2025-03-31' }
		]);
		await syncInto(north, payer);
		await north.append([{ t: 'claim.appeal', original: `${claim.id}-0`, reason: 'authorized since', preAuthRef: [...appealed] }]);
	}
	// Transactions naming a claim no claim transaction made (an index past the block's): kept by that claim id, refused.
	const nowhere = `${made[0]!.id.slice(0, 64)}-7`;
	await payer.append([{ t: 'remittance.record', claim: nowhere, amount: 100 }]);
	await north.append([{ t: 'claim.appeal', original: nowhere, reason: 'r', preAuthRef: [] }]);
	await payer.append([{ t: 'remittance.record', claim: nowhere, amount: 200 }]);
	await founder.append([{ t: 'patient.deceased', patient: PATIENTS[0]!, date: '2025-03-03' }]);
	for (const node of [payer, north, south]) await syncInto(founder, node);
	const wire: Uint8Array[] = [];
	for await (const bytes of founder.blocksSince({})) wire.push(bytes);
	return { founder, wire, options };
}

/**
 * `trials` observers, each on the store `storeFor(trial)` gives (and the same store again,
 * `reopen`ed, after it is closed), receive the network's blocks in random orders and
 * batchings; returns how many pages the reopened nodes held as rows.
 */
export async function checkClaimsPages(
	trials: number,
	storeFor: (trial: number) => Promise<LedgerStore>,
	reopen: (trial: number, closed: LedgerStore) => Promise<LedgerStore>
): Promise<{ stored: number; pages: number }> {
	const { founder, wire, options } = await claimsNetwork();
	const reference = canonicalState(await readClaimsState(founder));
	const whole = JSON.parse(reference) as { count: number; pages: object; auths: object; coverages: Record<string, unknown[]> };
	expect(whole.count).toBeGreaterThan(60);
	// Authorizations granted, coverages enrolled again, transactions naming a claim never made.
	expect(Object.values((whole as unknown as { orphans: Record<string, unknown[]> }).orphans).flat().length).toBeGreaterThanOrEqual(2);
	expect(Object.keys(whole.auths).length).toBeGreaterThan(4);
	expect(Object.values(whole.coverages).some((versions) => versions.length > 1)).toBe(true);
	// Claims with the MRI authorized (paid) and not (denied).
	const mri = allClaims(await readClaimsState(founder)).flatMap((c) => (c.decisions.at(-1)?.lines ?? []).filter((l) => l.code === '73721'));
	expect(new Set(mri.map((l) => l.denied))).toEqual(new Set([true, false]));
	// The two appeals after a grant: the MRI paid on appeal, by the claim's own id and by the appeal's.
	const appealedPaid = allClaims(await readClaimsState(founder)).filter((c) => {
		const last = c.decisions.at(-1);
		return last?.kind === 'appeal' && last.lines.some((l) => l.code === '73721' && !l.denied) && c.decisions.length > 1;
	});
	expect(appealedPaid.length).toBeGreaterThanOrEqual(2);
	const pages = Object.keys(whole.pages).length;
	expect(pages).toBeGreaterThan(15);
	const random = prng(7);
	let stored = 0;
	for (let trial = 0; trial < trials; trial++) {
		const store = await storeFor(trial);
		const signer = testSigner(`observer-${trial}`);
		const node = await joinNetwork(founder.net, `observer-${trial}`, { ...options, store, checkpointEvery: 1 });
		// Half the observers get the blocks in any order (most wait, parked, for what they depend on); half in an
		// order their dependencies allow, so each batch is folded by itself and pages leave memory between batches.
		const order = trial % 2 === 0 ? shuffled(wire, random) : causalOrder(wire, random);
		const size = [1, 5, 17, 60][Math.floor(trial / 2) % 4]!;
		for (let i = 0; i < order.length; i += size) await node.receive(order.slice(i, i + size));
		expect(node.size).toBe(wire.length);
		expect(canonicalState(await readClaimsState(node))).toBe(reference);
		await node.close();
		const again = await Ledger.open({ ...options, store: await reopen(trial, store), signer, checkpointEvery: 1 });
		const held = (again.state().claims as ClaimsState).pages.counts;
		expect(held.decoded + held.packed).toBe(0);
		stored += held.stored;
		expect(canonicalState(await readClaimsState(again))).toBe(reference);
		// The Billing screen on a node whose pages are all rows: its lists are the domain's over the whole state.
		if (trial === 0) {
			const full = await readClaimsState(again);
			const billing = new BillingState(() => again);
			const stop = billing.follow();
			await billing.refresh();
			stop();
			const all = allClaims(full);
			expect(billing.all.map((c) => c.id)).toEqual(all.map((c) => c.id).reverse());
			expect(billing.flags).toEqual(allFlags(full, all));
			expect(billing.accounts).toEqual(accountsOf(full, all));
			for (const c of billing.all.slice(0, 30)) expect(billing.record(c)).toEqual(all.find((r) => r.id === c.id));
		}
		await again.close();
	}
	return { stored, pages };
}
