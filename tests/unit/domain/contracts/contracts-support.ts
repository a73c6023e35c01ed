/** Shared fixtures of the contract engine tests: a hand-made block chain, the claims fold, claim forms, a payer scenario and the balance check. */
import { expect } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { toHex, type AuthorId, type Block, type BlockId, type CborValue, type Tx } from '$lib/core/index.js';
import {
	allClaims,
	claimById,
	type ClaimForm,
	claimResource,
	claimsFold,
	type ClaimsState,
	currentDecision,
	dayOf,
	type Decision,
	reconcile,
	samplePolicy
} from '$lib/domain/contracts/index.js';

const DAY = 86_400_000;
const te = new TextEncoder();
export const key = (label: string) => sha256(te.encode(`contracts-test/${label}`));
const hex = (label: string) => toHex(key(label));
export const PAYER = hex('payer');
export const CLINIC = hex('clinic');
export const PATIENT = hex('patient');
export const ENC = { block: 'e1'.repeat(32), rid: 'f2'.repeat(16) };

/** Hand-made decoded blocks, one per call, in order, each with the one before as its dependency (each has seen all earlier ones). */
export function chain() {
	let clock = 0;
	const blocks: Block[] = [];
	return {
		blocks,
		/** `deps`: the block's dependencies when not just the block before it. */
		add(author: string, date: string, txs: Tx[], deps?: BlockId[]): Block {
			clock++;
			const id = toHex(sha256(te.encode(`${author}/${clock}`))) as BlockId;
			const b: Block = {
				id,
				net: '00'.repeat(32) as BlockId,
				author: author as AuthorId,
				seq: clock,
				prev: null,
				deps: deps ?? (blocks.length > 0 ? [blocks[blocks.length - 1]!.id] : []),
				clock,
				time: dayOf(date)! * DAY + 3_600_000,
				txs,
				body: new Uint8Array(),
				signature: new Uint8Array(),
				bytes: new Uint8Array()
			};
			blocks.push(b);
			return b;
		}
	};
}

export function fold(blocks: readonly Block[]): ClaimsState {
	return foldBlocks(claimsFold, blocks);
}

export type Line = { code: string; units?: number; price: number; date?: string; modifiers?: string[] };
export function form(lines: Line[], extra: Partial<ClaimForm> = {}): ClaimForm {
	return {
		patient: PATIENT,
		provider: CLINIC,
		coverage: 'cov-1',
		diagnoses: ['E11.9', 'I10'],
		created: '2025-03-05',
		lines: lines.map((l) => ({
			code: l.code,
			units: l.units ?? 1,
			unitPrice: l.price,
			date: l.date ?? '2025-03-03',
			modifiers: l.modifiers,
			encounter: ENC
		})),
		...extra
	};
}
export const submitTx = (f: ClaimForm): Tx => ({ t: 'claim.submit', claim: JSON.stringify(claimResource(f)) });

/** A payer on the sample policy (or `policy`), coverage cov-1 for the patient from 2025-01-01, then `steps`. */
export function scenario(policy: CborValue = samplePolicy(), coverage: Partial<Record<'start' | 'end', string>> = {}) {
	const c = chain();
	c.add(PAYER, '2024-12-01', [{ t: 'contract.deploy', plan: 'ppo', version: 1, policy }]);
	c.add(PAYER, '2024-12-02', [
		{
			t: 'coverage.enroll',
			id: 'cov-1',
			plan: 'ppo',
			patient: key('patient'),
			start: coverage.start ?? '2025-01-01',
			...(coverage.end ? { end: coverage.end } : {})
		}
	]);
	return c;
}

/** The decision of the claim in block `b` (tx 0). */
export const decisionOf = (state: ClaimsState, b: Block): Decision => currentDecision(claimById(state, `${b.id}-0`)!)!;
export const carcs = (d: Decision) => d.lines.map((l) => (l.denied ? l.adjustments[0]!.carc : null));

export function expectBalanced(state: ClaimsState) {
	for (const rec of allClaims(state)) {
		for (const d of rec.decisions) {
			expect(d.payer + d.patient + d.adjusted).toBe(d.billed);
			for (const l of d.lines) expect(l.payer + l.adjustments.reduce((s, a) => s + a.amount, 0)).toBe(l.billed);
		}
	}
	const r = reconcile(state);
	expect(r.unbalanced).toEqual([]);
	expect(r.balancesMatch).toBe(true);
	expect(r.payer + r.patient + r.adjusted).toBe(r.billed);
}
