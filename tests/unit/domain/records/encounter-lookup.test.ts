/**
 * The claims and supply folds check the encounter a claim line or a dose names against the
 * records index (`Fold.reads`), not a map in their state. What they find must be what a
 * fold over the blocks in the total order finds, on every node whatever order the blocks
 * arrived in: an encounter recorded before the claim counts, one that sorts after it does
 * not, however early it arrives; one of another clinic or another patient is flagged.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeBlock, detectVerifier, fromHex, orderKey, compareOrder, toHex, type Block, type Ledger, type Tx } from '$lib/core/index.js';
import { publicKeyOf } from '$lib/core/crypto/ed25519.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { foldBlocks } from '$lib/core/testing/causal.js';
import { prng } from '$lib/core/testing/prng.js';
import { claimResource, claimsFold, samplePolicy, type ClaimsState } from '$lib/domain/contracts/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { encountersOfPatient } from '$lib/domain/records/encounter-lookup.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { supplyFold, type SupplyState } from '$lib/domain/supply/fold.js';
import { administerTx } from '$lib/domain/supply/transactions.js';

const PATIENT = publicKeyOf(testSecret('patient'));
const OTHER = publicKeyOf(testSecret('other patient'));
const te = new TextEncoder();
const rid = (label: string) => sha256(te.encode(`encounter-lookup/${label}`)).slice(0, 16);

/** A `record.put` of category encounters (the ciphertext's content does not matter here). */
const encounterTx = (label: string, patient = PATIENT): Tx => ({
	t: 'record.put',
	patient,
	category: 'encounters',
	epoch: 0,
	kid: new Uint8Array(16),
	rid: rid(label),
	nonce: new Uint8Array(24),
	ct: new Uint8Array(40)
});

const claimTx = (clinic: Ledger, encounters: { block: string; rid: string }[]): Tx => ({
	t: 'claim.submit',
	claim: JSON.stringify(
		claimResource({
			patient: toHex(PATIENT),
			provider: clinic.author!,
			coverage: 'cov-1',
			diagnoses: ['E11.9'],
			created: '2025-03-05',
			lines: encounters.map((encounter, i) => ({ code: '99213', units: 1, unitPrice: 9_200 + i, date: '2025-03-03', encounter }))
		})
	)
});

const doseTx = (patient: Uint8Array, encounter: { block: string; rid: Uint8Array }): Tx =>
	administerTx({
		patient,
		gtin: '09506000134352',
		lot: 'L1',
		kind: 'immunization',
		encounter: { block: fromHex(encounter.block), rid: encounter.rid }
	});

const encounterFlags = (claims: ClaimsState, supply: SupplyState) => ({
	claims: claims.flags.filter((f) => f.kind.startsWith('encounter')),
	supply: Object.entries(supply.flags)
		.filter(([, f]) => f.kind === 'no-encounter' || f.kind === 'encounter-patient-mismatch')
		.sort(([a], [b]) => (a < b ? -1 : 1))
});

/** Clinicians record visits and give doses, a billing clinic bills them, some concurrently with the visits they name. */
async function scenario() {
	const options = {
		rules: APP_RULES,
		folds: APP_FOLDS,
		indexes: APP_INDEXES,
		now: () => Date.UTC(2025, 2, 5),
		verifier: await detectVerifier()
	};
	const founder = await foundNetwork({
		...options,
		members: { payer: 'payer', clinic: 'billing', doctor: 'clinician', nurse: 'clinician' }
	});
	const nodes: Record<string, Ledger> = {};
	for (const label of ['payer', 'clinic', 'doctor', 'nurse']) {
		nodes[label] = await joinNetwork(founder.net, label, options);
		await syncInto(nodes[label]!, founder);
	}
	const { payer, clinic, doctor, nurse } = nodes as Record<'payer' | 'clinic' | 'doctor' | 'nurse', Ledger>;
	await payer.append([
		{ t: 'contract.deploy', plan: 'ppo', version: 1, policy: samplePolicy() },
		{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: PATIENT, start: '2025-01-01' }
	]);
	await syncInto(clinic, payer);
	// A visit the clinic sees before billing it (another clinic's device: flagged as such).
	const seen = await doctor.append([encounterTx('seen')]);
	await syncInto(clinic, doctor);
	// A visit recorded while the clinic, not having it, bills it by id: it may sort either side of the claim.
	const unseen = await doctor.append([encounterTx('unseen'), encounterTx('second', OTHER)]);
	const ref = (b: Block, label: string) => ({ block: b.id, rid: toHex(rid(label)) });
	await clinic.append([claimTx(clinic, [ref(seen, 'seen'), ref(unseen, 'unseen'), ref(seen, 'no such record')])]);
	// The nurse, having both visits, gives doses: one right, one to the other patient, one naming a record that is not an encounter.
	await syncInto(nurse, doctor);
	await nurse.append([
		doseTx(PATIENT, { block: unseen.id, rid: rid('unseen') }),
		doseTx(PATIENT, { block: unseen.id, rid: rid('second') }),
		doseTx(OTHER, { block: seen.id, rid: rid('seen') }),
		doseTx(PATIENT, { block: seen.id, rid: rid('unseen') })
	]);
	// A dose naming a visit recorded after it, concurrently.
	const later = await doctor.append([encounterTx('later')]);
	await nurse.append([doseTx(PATIENT, { block: later.id, rid: rid('later') })]);
	const all = [founder, ...Object.values(nodes)];
	for (const node of all) for (const other of all) if (node !== other) await syncInto(node, other);
	return { founder, options, all };
}

describe('encounter records read from the records index', () => {
	it('every node, and 300 nodes receiving the blocks in random orders and batches, flag the same encounters as a fold in the total order', async () => {
		const { founder, options, all } = await scenario();
		const reference = encounterFlags(founder.state().claims as ClaimsState, founder.state().supply as SupplyState);
		// The scenario reaches both answers of each check.
		expect(reference.claims.map((f) => f.kind)).toContain('encounter-other-clinic');
		expect(reference.claims.map((f) => f.kind)).toContain('encounter-missing');
		expect(reference.supply.map(([, f]) => f.kind).sort()).toEqual(
			expect.arrayContaining(['encounter-patient-mismatch', 'no-encounter', 'no-encounter'])
		);
		for (const node of all)
			expect(encounterFlags(node.state().claims as ClaimsState, node.state().supply as SupplyState)).toEqual(reference);

		// The same from the blocks alone, folded by hand in the total order (the model).
		const wire: Uint8Array[] = [];
		for await (const bytes of founder.blocksSince({})) wire.push(bytes);
		const ordered = wire.map((b) => decodeBlock(b)).sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
		expect(encounterFlags(foldBlocks(claimsFold, ordered), foldBlocks(supplyFold, ordered))).toEqual(reference);

		const random = prng(20261204);
		for (let trial = 0; trial < 300; trial++) {
			const order = [...wire];
			for (let i = order.length - 1; i > 0; i--) {
				const j = Math.floor(random() * (i + 1));
				[order[i], order[j]] = [order[j]!, order[i]!];
			}
			const node = await joinNetwork(founder.net, 'observer', options);
			for (let i = 0; i < order.length;) {
				const n = 1 + Math.floor(random() * 4);
				await node.receive(order.slice(i, i + n));
				i += n;
			}
			expect(node.size).toBe(wire.length);
			expect(encounterFlags(node.state().claims as ClaimsState, node.state().supply as SupplyState)).toEqual(reference);
		}
	}, 120_000);

	it('a patient’s visits, newest first, one per block, from the patient’s records', async () => {
		const { founder } = await scenario();
		const visits = await encountersOfPatient(founder, toHex(PATIENT));
		expect(visits.map((v) => v.rid)).toEqual(expect.arrayContaining([toHex(rid('seen')), toHex(rid('unseen')), toHex(rid('later'))]));
		expect(visits).toHaveLength(3);
		expect([...visits].sort((a, b) => b.time - a.time || a.block.localeCompare(b.block))).toEqual(visits);
		expect((await encountersOfPatient(founder, toHex(OTHER))).map((v) => v.rid)).toEqual([toHex(rid('second'))]);
	});
});
