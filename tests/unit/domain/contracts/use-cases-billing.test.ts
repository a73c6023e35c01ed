// The billing use cases (domain/contracts/billing-writes.ts) called as the Billing screen
// and the headless peer call them, on real ledgers over the memory store: each writes one
// block, a refused input or a refused role writes nothing, and the fold decides the claim.
import { describe, expect, it } from 'vitest';
import { LedgerError, toHex, type Ledger } from '$lib/core/index.js';
import { publicKeyOf } from '$lib/core/crypto/ed25519.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import {
	appealClaim,
	BillingInputError,
	deployPolicy,
	enrollPatient,
	recordPayment,
	recordRemittance,
	submitClaim,
	type PolicyInput
} from '$lib/domain/contracts/billing-writes.js';
import { allClaims, claimById, type ClaimForm, type ClaimsState, currentDecision } from '$lib/domain/contracts/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';

const PATIENT = toHex(publicKeyOf(testSecret('patient')));
const ENC = { block: 'e1'.repeat(32), rid: 'f2'.repeat(16) };
const POLICY: PolicyInput = {
	plan: 'ppo',
	name: 'Sample PPO',
	start: '2025-01-01',
	deductible: 0,
	copay: 25,
	coinsurancePercent: 20,
	oopMax: 3000,
	timelyFilingDays: 90
};
const claimsOf = (l: Ledger) => l.state().claims as ClaimsState;
const refusalOf = (promise: Promise<unknown>) => promise.then(() => null).catch((e: unknown) => e);

async function network() {
	const time = { now: Date.UTC(2025, 2, 5) };
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, now: () => time.now };
	const founder = await foundNetwork({ ...options, members: { payer: 'payer', clinic: 'billing' } });
	const payer = await joinNetwork(founder.net, 'payer', options);
	const clinic = await joinNetwork(founder.net, 'clinic', options);
	for (const node of [payer, clinic]) await syncInto(node, founder);
	return { payer, clinic };
}

const form = (clinic: Ledger, over: Partial<ClaimForm> = {}): ClaimForm => ({
	patient: PATIENT,
	provider: clinic.author!,
	coverage: 'cov-1',
	diagnoses: ['E11.9'],
	created: '2025-03-05',
	lines: [{ code: '99213', units: 1, unitPrice: 12_000, date: '2025-03-03', encounter: ENC }],
	...over
});

describe('billing use cases', () => {
	it('a payer deploys versions and enrolls; a clinic submits, appeals and records payments; refusals write nothing', async () => {
		const { payer, clinic } = await network();
		expect(await refusalOf(deployPolicy(clinic, POLICY))).toMatchObject({ code: 'NOT_AUTHORIZED' });
		expect(await deployPolicy(payer, POLICY)).toBe(1);
		expect(await deployPolicy(payer, POLICY)).toBe(2);
		expect(claimsOf(payer).contracts.ppo!.versions.map((v) => v.version)).toEqual([1, 2]);

		let size = payer.size;
		const badKey = await refusalOf(enrollPatient(payer, 'cov-1', 'ppo', 'abc', '2025-01-01'));
		expect(badKey).toBeInstanceOf(BillingInputError);
		expect(badKey).toMatchObject({ code: 'BAD_PATIENT_KEY', message: 'The patient key is 64 hexadecimal characters.' });
		expect(payer.size).toBe(size);
		await enrollPatient(payer, 'cov-1', 'ppo', PATIENT, '2025-01-01');
		await syncInto(clinic, payer);

		size = clinic.size;
		const invalid = await refusalOf(submitClaim(clinic, form(clinic, { lines: [] })));
		expect(invalid).toMatchObject({ code: 'INVALID_CLAIM', message: expect.stringMatching(/^The claim is not valid: /) });
		expect(clinic.size).toBe(size);
		await submitClaim(clinic, form(clinic));
		expect(clinic.size).toBe(size + 1);
		const claimId = allClaims(claimsOf(clinic))[0]!.id;
		const rec = claimById(claimsOf(clinic), claimId)!;
		expect(rec.decisions).toHaveLength(1);
		expect(currentDecision(rec)?.billed).toBe(12_000);

		await appealClaim(clinic, claimId, 'documentation attached', []);
		expect(claimById(claimsOf(clinic), claimId)!.decisions).toHaveLength(2);

		await syncInto(payer, clinic);
		const owed = currentDecision(claimById(claimsOf(payer), claimId)!)!.payer;
		await recordRemittance(payer, claimId, owed);
		expect(await refusalOf(recordRemittance(clinic, claimId, owed))).toBeInstanceOf(LedgerError);

		size = clinic.size;
		for (const [patient, cents] of [
			['abc', 100],
			[PATIENT, 0],
			[PATIENT, 1.5]
		] as const)
			expect(await refusalOf(recordPayment(clinic, patient, cents))).toMatchObject({ code: 'BAD_PAYMENT' });
		expect(clinic.size).toBe(size);
		await recordPayment(clinic, PATIENT, 2_500);
		expect(clinic.size).toBe(size + 1);
	}, 60_000);
});
