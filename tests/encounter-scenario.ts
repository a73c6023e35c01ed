/**
 * A small network whose claims and doses name encounter records seen, unseen, concurrent,
 * of another clinic, of another patient or not encounters at all: shared by the Node test
 * (tests/unit/domain/records/encounter-lookup.test.ts) and the Chromium one on IndexedDB
 * (tests/browser/encounters.test.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { detectVerifier, fromHex, toHex, type Block, type Ledger, type Tx } from '../src/lib/core/index.js';
import { publicKeyOf } from '../src/lib/core/crypto/ed25519.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '../src/lib/core/testing/fixtures.js';
import { claimResource, recordedFlags, samplePolicy, type ClaimForm, type ClaimsState } from '../src/lib/domain/contracts/index.js';
import { APP_FOLDS, APP_INDEXES } from '../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../src/lib/domain/rule-registry.js';
import { readSupply, type SupplyView } from '../src/lib/domain/supply/fold.js';
import { administerTx } from '../src/lib/domain/supply/transactions.js';
import { shuffled } from './unit/support/arrival-orders.js';

export const PATIENT = publicKeyOf(testSecret('patient'));
export const OTHER = publicKeyOf(testSecret('other patient'));
const te = new TextEncoder();
export const rid = (label: string) => sha256(te.encode(`encounter-lookup/${label}`)).slice(0, 16);

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

/** A `claim.submit` by `clinic` for the patient under cov-1, filed on 2025-03-05. */
export const claimTx = (clinic: Ledger, form: Pick<ClaimForm, 'lines' | 'diagnoses'> & Partial<ClaimForm>): Tx => ({
	t: 'claim.submit',
	claim: JSON.stringify(
		claimResource({ patient: toHex(PATIENT), provider: clinic.author!, coverage: 'cov-1', created: '2025-03-05', ...form })
	)
});

/** A visit's claim: one line of 99213 on 2025-03-03 for each encounter named. */
const visitClaimTx = (clinic: Ledger, encounters: { block: string; rid: string }[]): Tx =>
	claimTx(clinic, {
		diagnoses: ['E11.9'],
		lines: encounters.map((encounter, i) => ({ code: '99213', units: 1, unitPrice: 9_200 + i, date: '2025-03-03', encounter }))
	});

const doseTx = (patient: Uint8Array, encounter: { block: string; rid: Uint8Array }): Tx =>
	administerTx({
		patient,
		gtin: '09506000134352',
		lot: 'L1',
		kind: 'immunization',
		encounter: { block: fromHex(encounter.block), rid: encounter.rid }
	});

export const encounterFlags = (claims: ClaimsState, supply: SupplyView) => ({
	claims: recordedFlags(claims).filter((f) => f.kind.startsWith('encounter')),
	supply: Object.entries(supply.flags)
		.filter(([, f]) => f.kind === 'no-encounter' || f.kind === 'encounter-patient-mismatch')
		.sort(([a], [b]) => (a < b ? -1 : 1))
});

/** Clinicians record visits and give doses, a billing clinic bills them, some concurrently with the visits they name. */
export async function scenario() {
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
	await clinic.append([visitClaimTx(clinic, [ref(seen, 'seen'), ref(unseen, 'unseen'), ref(seen, 'no such record')])]);
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

/** A ledger's encounter flags, as {@link encounterFlags} gives them. */
export const ledgerEncounterFlags = async (ledger: Ledger) =>
	encounterFlags(ledger.state().claims as ClaimsState, await readSupply(ledger));

/** Hands `node` the blocks `wire` in a random order, in batches of 1 to 4, one after another. */
export async function receiveShuffled(node: Ledger, wire: readonly Uint8Array[], random: () => number): Promise<void> {
	const order = shuffled(wire, random);
	for (let i = 0; i < order.length;) {
		const n = 1 + Math.floor(random() * 4);
		await node.receive(order.slice(i, i + n));
		i += n;
	}
}
