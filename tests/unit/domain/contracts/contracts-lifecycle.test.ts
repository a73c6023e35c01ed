/** The contract engine over time: new versions, corrections and appeals, billing, fraud checks, fold checkpoints and transaction summaries. */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '$lib/core/index.js';
import {
	accountsOf,
	accumOf,
	allFlags,
	claimById,
	claimResource,
	claimResponseOf,
	claimsFold,
	currentDecision,
	ignoredOf,
	parseClaim,
	recordedFlags,
	samplePolicy,
	statementOf,
	viewPage
} from '$lib/domain/contracts/index.js';
import { foldContexts, foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { syntheticClaims } from '../../../synthetic/claims.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import { CONTRACT_RULES } from '$lib/domain/contracts/transactions.js';
import { canonicalState } from '../../support/canonical-state.js';
import {
	carcs,
	chain,
	CLINIC,
	decisionOf,
	expectBalanced,
	fold,
	form,
	key,
	PATIENT,
	PAYER,
	scenario,
	submitTx
} from './contracts-support.js';

describe('contract versions, corrections and appeals', () => {
	it('a new version decides claims from its position; earlier outcomes keep their version', () => {
		const c = scenario(samplePolicy({ copay: 2_500 }));
		const a = c.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))]);
		c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 4_000 }) }]);
		c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 1 }) }]);
		c.add(CLINIC, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 3, policy: samplePolicy({ copay: 1 }) }]);
		const b = c.add(CLINIC, '2025-03-07', [submitTx(form([{ code: '99213', price: 9_200, date: '2025-03-04' }]))]);
		const state = fold(c.blocks);
		expect([decisionOf(state, a).version, decisionOf(state, a).lines[0]!.adjustments[0]]).toEqual([
			1,
			{ group: 'PR', carc: '3', amount: 2_500 }
		]);
		expect([decisionOf(state, b).version, decisionOf(state, b).lines[0]!.adjustments[0]]).toEqual([
			2,
			{ group: 'PR', carc: '3', amount: 4_000 }
		]);
		expect(ignoredOf(state).map((i) => i.reason)).toEqual(['version 2 is not after version 2', 'plan ppo belongs to another payer']);
		expect(state.contracts.ppo!.versions.map((v) => v.version)).toEqual([1, 2]);
	});

	it('a version applies from its causal position: a claim that did not see it keeps the version it saw', () => {
		const c = scenario(samplePolicy({ copay: 2_500 }));
		const before = c.blocks[c.blocks.length - 1]!;
		const v2 = c.add(PAYER, '2025-03-06', [{ t: 'contract.deploy', plan: 'ppo', version: 2, policy: samplePolicy({ copay: 4_000 }) }]);
		// Written concurrently with version 2 (its only dependency is the enrolment), though it sorts after it.
		const concurrent = c.add(CLINIC, '2025-03-07', [submitTx(form([{ code: '99213', price: 9_200 }]))], [before.id]);
		// The clinic has now seen version 2.
		const after = c.add(
			CLINIC,
			'2025-03-08',
			[submitTx(form([{ code: '99213', price: 9_200, date: '2025-03-04' }]))],
			[concurrent.id, v2.id]
		);
		const state = fold(c.blocks);
		expect(decisionOf(state, concurrent).version).toBe(1);
		expect(decisionOf(state, after).version).toBe(2);
		// A claim whose past holds no contract at all is not covered.
		const blind = chain();
		blind.add(PAYER, '2024-12-01', [{ t: 'contract.deploy', plan: 'ppo', version: 1, policy: samplePolicy() }]);
		blind.add(PAYER, '2024-12-02', [{ t: 'coverage.enroll', id: 'cov-1', plan: 'ppo', patient: key('patient'), start: '2025-01-01' }]);
		const unseen = blind.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))], []);
		expect(carcs(decisionOf(fold(blind.blocks), unseen))).toEqual(['31']);
	});

	it('a corrected claim replaces the original and re-adjudicates; an appeal re-decides and links to the claim', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [
			submitTx(
				form([
					{ code: '99213', price: 9_200 },
					{ code: '73721', price: 30_000 }
				])
			)
		]);
		const fix = c.add(CLINIC, '2025-03-06', [
			{
				t: 'claim.correct',
				original: `${a.id}-0`,
				claim: JSON.stringify(
					claimResource(
						form([
							{ code: '99214', price: 13_000 },
							{ code: '73721', price: 30_000 }
						])
					)
				)
			}
		]);
		c.add(PAYER, '2025-03-07', [{ t: 'auth.grant', id: 'pa-9', coverage: 'cov-1', code: '73721', start: '2025-03-01', end: '2025-03-31' }]);
		c.add(CLINIC, '2025-03-08', [
			{ t: 'claim.appeal', original: `${fix.id}-0`, reason: 'authorization was granted by phone', preAuthRef: ['pa-9'] }
		]);
		c.add(CLINIC, '2025-03-08', [{ t: 'claim.appeal', original: `${a.id}-0`, reason: 'wrong claim' }]);
		const state = fold(c.blocks);
		const original = claimById(state, `${a.id}-0`)!;
		const corrected = claimById(state, `${fix.id}-0`)!;
		expect(original.replacedBy).toBe(corrected.id);
		expect(corrected.replaces).toBe(original.id);
		expect(currentDecision(original)).toBeNull();
		expect(claimResponseOf(corrected).disposition).toBe(`appeal decision under ppo v1: paid; corrects Claim/${original.id}`);
		expect(claimResponseOf(original).disposition).toContain(`replaced by Claim/${corrected.id}`);
		expect(corrected.decisions.map((d) => [d.kind, carcs(d)])).toEqual([
			['correction', [null, '197']],
			['appeal', [null, null]]
		]);
		expect(ignoredOf(state).map((i) => i.reason)).toEqual(['the claim was corrected; appeal the correction']);
		// Deductible booked once, for the claim as it stands now.
		const now = currentDecision(corrected)!;
		expect(accumOf(state, 'cov-1', 2025)![0]).toBe(
			now.lines.reduce((s, l) => s + (l.adjustments.find((x) => x.carc === '1')?.amount ?? 0), 0)
		);
		expect(accumOf(state, 'cov-1', 2025)![1]).toBe(now.patient);
		expectBalanced(state);
	});
});

describe('billing', () => {
	it('patient and payer accounts, statements and remittances always reconcile', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [
			submitTx(
				form([
					{ code: '99214', price: 15_000 },
					{ code: '85025', price: 1_000 }
				])
			)
		]);
		c.add(CLINIC, '2025-03-10', [{ t: 'payment.record', patient: key('patient'), amount: 5_000, claim: `${a.id}-0` }]);
		c.add(PAYER, '2025-03-20', [{ t: 'remittance.record', claim: `${a.id}-0`, amount: 100 }]);
		c.add(CLINIC, '2025-03-20', [{ t: 'remittance.record', claim: `${a.id}-0`, amount: 100 }]);
		const state = fold(c.blocks);
		const d = decisionOf(state, a);
		const accounts = accountsOf(state);
		expect(accounts.patients[`${CLINIC}|${PATIENT}`]).toEqual({
			key: `${CLINIC}|${PATIENT}`,
			charged: d.patient,
			paid: 5_000,
			balance: d.patient - 5_000
		});
		expect(accounts.payers[`${PAYER}|${CLINIC}`]).toMatchObject({ charged: d.payer, paid: 100 });
		expect(ignoredOf(state).map((i) => i.reason)).toEqual(['the claim is not this payer’s']);
		const statement = statementOf(viewPage(state, PATIENT), CLINIC, PATIENT);
		expect(statement.lines.map((l) => [l.code, l.billed, l.insurancePaid + l.adjusted + l.youOwe])).toEqual([
			['99214', 15_000, 15_000],
			['85025', 1_000, 1_000]
		]);
		expect([statement.owed, statement.paid, statement.balance]).toEqual([d.patient, 5_000, d.patient - 5_000]);
		expectBalanced(state);
	});

	it('a synthetic ledger of 300 claims balances claim by claim and in the accounts', () => {
		const state = fold(syntheticClaims({ seed: 7, claims: 300, fraud: true }).blocks);
		expect(state.count).toBeGreaterThan(300);
		expectBalanced(state);
	});
});

describe('fraud checks', () => {
	it('flags each seeded pattern with the blocks it rests on', () => {
		const data = syntheticClaims({ seed: 3, claims: 200, fraud: true });
		const state = fold(data.blocks);
		const flags = allFlags(state);
		const ids = new Set(data.blocks.map((b) => b.id as string));
		for (const [kind, claims] of Object.entries(data.seeded)) {
			for (const claim of claims) {
				const found = flags.filter((f) => f.kind === kind && f.claim === claim);
				expect(found.length, `${kind} ${claim}`).toBeGreaterThan(0);
				for (const f of found) {
					expect(f.blocks.length).toBeGreaterThan(0);
					if (kind !== 'encounter-missing') for (const b of f.blocks) expect(ids.has(b), `${kind} rests on ${b}`).toBe(true);
				}
			}
		}
		expect(new Set(flags.map((f) => f.kind))).toEqual(
			new Set([
				'duplicate',
				'unbundling',
				'excessive-units',
				'after-death',
				'encounter-missing',
				'encounter-other-clinic',
				'provider-outlier'
			])
		);
		// Flags are evidence, not denials: the unbundled component on its own claim was decided on its own terms.
		expect(currentDecision(claimById(state, data.seeded.unbundling![0]!)!)!.status).toBe('paid');
	});

	it('raises no flag on clean data', () => {
		for (const seed of [1, 2, 3]) expect(allFlags(fold(syntheticClaims({ seed, claims: 200 }).blocks))).toEqual([]);
	});

	it('flags claims already recorded when a death is recorded later', () => {
		const c = scenario();
		const a = c.add(CLINIC, '2025-03-05', [submitTx(form([{ code: '99213', price: 9_200 }]))]);
		const death = c.add(CLINIC, '2025-03-09', [{ t: 'patient.deceased', patient: fromHex(PATIENT), date: '2025-03-01' }]);
		const state = fold(c.blocks);
		expect(recordedFlags(state).filter((f) => f.kind === 'after-death')).toEqual([
			{ kind: 'after-death', claim: `${a.id}-0`, detail: expect.stringContaining('2025-03-03'), blocks: [a.id, death.id] }
		]);
	});
});

describe('the fold checkpoints exactly', () => {
	it('encodes and decodes to the same state, and folds on from it identically', async () => {
		const { encodeCanonical, decodeCanonical } = await import('$lib/core/index.js');
		const { blocks } = syntheticClaims({ seed: 5, claims: 120, fraud: true });
		const half = Math.floor(blocks.length / 2);
		const whole = fold(blocks);
		// Decoding gives back the very same state (compared field by field, every page decoded).
		const again = claimsFold.decode(decodeCanonical(encodeCanonical(claimsFold.encode(whole))));
		expect(canonicalState(again)).toBe(canonicalState(whole));
		// One record of what each block has seen, carried across the checkpoint as the ledger's version vectors are.
		const causal = foldContexts(claimsFold.reads);
		const first = foldBlocks(claimsFold, blocks.slice(0, half), claimsFold.init(), causal);
		const resumed = foldBlocks(
			claimsFold,
			blocks.slice(half),
			claimsFold.decode(decodeCanonical(encodeCanonical(claimsFold.encode(first)))),
			causal
		);
		expect(toHex(encodeCanonical(claimsFold.encode(resumed)))).toBe(toHex(encodeCanonical(claimsFold.encode(whole))));
	});

	it('decodes no patient page until used: a block decodes the pages of the patients it names, the others are written back as they were', async () => {
		const { encodeCanonical, decodeCanonical } = await import('$lib/core/index.js');
		const { blocks } = syntheticClaims({ seed: 7, claims: 120, fraud: true });
		const causal = foldContexts(claimsFold.reads);
		const claimBlocks = blocks.filter((b) => b.txs.some((t) => t.t === 'claim.submit'));
		const last = claimBlocks.at(-1)!;
		const before = blocks.slice(0, blocks.indexOf(last));
		const first = foldBlocks(claimsFold, before, claimsFold.init(), causal);
		const packed = claimsFold.encode(first) as { head: Uint8Array; pages: Uint8Array[] };
		const state = claimsFold.decode(decodeCanonical(encodeCanonical(packed)));
		const patients = state.pages.shorts().length;
		expect(patients).toBeGreaterThan(5);
		expect(state.pages.counts).toEqual({ decoded: 0, packed: patients, stored: 0 });
		// The head answers what it holds without a page: the number of claims, the contracts.
		expect(state.count).toBe(first.count);
		foldBlocks(claimsFold, [last], state, causal);
		const billed = new Set(last.txs.flatMap((t) => (t.t === 'claim.submit' ? [parseClaim(t.claim as string).claim!.patient] : [])));
		expect(state.pages.counts).toEqual({ decoded: billed.size, packed: patients - billed.size, stored: 0 });
		// Pages never decoded are written back byte for byte; the whole equals a fold without a checkpoint.
		const again = claimsFold.encode(state) as { head: Uint8Array; pages: Uint8Array[] };
		const unchanged = again.pages.filter((bytes) => packed.pages.some((p) => toHex(p) === toHex(bytes)));
		expect(unchanged.length).toBeGreaterThanOrEqual(patients - billed.size);
		const whole = foldBlocks(claimsFold, [...before, last], claimsFold.init(), foldContexts(claimsFold.reads));
		expect(canonicalState(state)).toBe(canonicalState(whole));
		// Reading it whole (as JSON) decodes no page into the fold's state.
		expect(state.pages.counts).toEqual({ decoded: billed.size, packed: patients - billed.size, stored: 0 });
	});
});

describe('contract transactions in words', () => {
	it('every contract transaction type has its own summary', () => {
		for (const rule of CONTRACT_RULES) expect(summarizeTx({ t: rule.type }).text).not.toBe(`Transaction of type ${rule.type}`);
		expect(summarizeTx({ t: 'payment.record', patient: key('patient'), amount: 2_550 }).text).toBe(
			`Payment of $25.50 from patient ${PATIENT.slice(0, 8)}`
		);
	});
});
