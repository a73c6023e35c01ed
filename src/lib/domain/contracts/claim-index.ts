/**
 * Where each claim is, kept in the store by claim id (core index-fold.ts), not in the
 * claims fold's state: a correction, an appeal or a remittance names only the claim, and
 * the fold needs its patient to find its page (claims-state.ts). One row per claim
 * (`claim.submit` or `claim.correct` whose claim parses) under the claim's id
 * (`<block>-<index>`), holding the patient's key. The fold reads the rows of the ids a
 * block names (`Fold.reads`), up to the block's place in the order; a row says where the
 * claim would be, and the patient's page says whether the fold recorded it (a claim the
 * fold refused has a row and no record).
 */
import { toHex, type Block, type Fact, type FactRow, type FoldContext, type FoldReads, type IndexFold, type Tx } from '$lib/core/index.js';
import { parseClaim } from './claim.js';

export const CLAIM_PATIENTS = 'claim-patients';

/** A claim transaction's claim, parsed once: the index, the fold's `reads` and its `apply` all need it. */
const parsed = new WeakMap<Tx, ReturnType<typeof parseClaim>>();
export function parsedClaim(tx: Tx): ReturnType<typeof parseClaim> {
	let result = parsed.get(tx);
	if (!result) parsed.set(tx, (result = parseClaim(tx.claim as string)));
	return result;
}

export const claimPatientsIndex: IndexFold = {
	name: CLAIM_PATIENTS,
	version: 1,
	facts(block: Block): Fact[] {
		const out: Fact[] = [];
		block.txs.forEach((tx, index) => {
			if (tx.t !== 'claim.submit' && tx.t !== 'claim.correct') return;
			const { claim } = parsedClaim(tx);
			if (claim) out.push([`${block.id}-${index}`, claim.patient]);
		});
		return out;
	}
};

/** The claim ids a block's corrections, appeals and remittances name. */
function namedClaims(block: Block): string[] {
	const out: string[] = [];
	for (const tx of block.txs) {
		const id = tx.t === 'claim.correct' || tx.t === 'claim.appeal' ? tx.original : tx.t === 'remittance.record' ? tx.claim : undefined;
		if (typeof id === 'string') out.push(id);
	}
	return out;
}

export const claimReads: FoldReads = { index: claimPatientsIndex, keys: namedClaims };

/** The patient of claim `id` as of the block being folded, if a claim transaction before it made one. */
export function patientOfClaim(context: FoldContext, id: string): string | undefined {
	const rows: readonly FactRow[] = context.facts(CLAIM_PATIENTS, id);
	return rows.length > 0 ? (rows[0]!.value as string) : undefined;
}

/** The claim-blocks index's row key of patient `hex`'s own transactions. */
export const patientRow = (hex: string) => `p/${hex}`;
/** The claim-blocks index's row key of the transactions naming claim `id`. */
export const claimRow = (id: string) => `c/${id}`;
/** The claim-blocks index's row key of the claims whose lines name encounter record `rid`. */
export const encounterRow = (rid: string) => `e/${rid}`;
/** The claim-blocks index's row key of the claims naming coverage `id`. */
export const coverageRow = (id: string) => `v/${id}`;
/** The claim-blocks index's row key of the claims and appeals naming authorization `id`. */
export const authRow = (id: string) => `a/${id}`;
/** The claim-blocks index's row key of every block deploying a contract, enrolling a coverage or granting an authorization. */
export const PAYER_HEAD_ROW = 'h/payers';
/** The claim-blocks index's row key of the coverages enrolled for patient `hex` (each row's value: the coverage id). */
export const patientCoveragesRow = (hex: string) => `pv/${hex}`;

/**
 * Which blocks each patient's page of the claims fold is made of (claims-fold.ts `keyed`):
 * one row per block and key, under `p/<patient>` for the claims, corrections, payments and
 * deaths that name the patient, and `c/<claim id>` for the corrections, appeals and
 * remittances that name a claim (a block alone cannot say whose claim that is). A page
 * re-applied reads its patient's rows, then the rows of each claim those blocks make.
 * Under `e/<record id>`, the claims whose lines name that encounter record: a record that
 * arrives late changes what they found (encounter-lookup.ts), so their pages are re-applied.
 * Under `v/<coverage id>` and `a/<authorization id>`, the claims (and appeals) naming that
 * coverage or authorization, and under `h/payers` every block deploying a contract,
 * enrolling a coverage or granting an authorization: a late one rebuilds those
 * (claims-head.ts) and re-applies the pages of the claims naming what changed. Under
 * `pv/<patient>`, each coverage enrolled for the patient, its id the row's value: the claim
 * form finds the coverage in force for a visit (claims-read.ts `readCoveragesOf`).
 */
export const claimBlocksIndex: IndexFold = {
	name: 'claim-blocks',
	// 2: `v/`, `a/` and `h/payers` rows, for a late contract, coverage or authorization (claims-head.ts).
	// 3: `pv/` rows, after version 2's rows of the same blocks, all of blocks version 2 files under `h/payers`.
	version: 3,
	growsFrom: 2,
	growsUnder: [PAYER_HEAD_ROW],
	facts(block: Block): Fact[] {
		const keys = new Set<string>();
		const enrolled: Fact[] = [];
		for (const tx of block.txs) {
			if (tx.t === 'claim.submit' || tx.t === 'claim.correct') {
				const { claim } = parsedClaim(tx);
				if (claim) keys.add(patientRow(claim.patient)).add(coverageRow(claim.coverage));
				for (const id of claim?.preAuth ?? []) keys.add(authRow(id));
				for (const line of claim?.lines ?? []) for (const ref of line.encounters) keys.add(encounterRow(ref.rid));
			} else if ((tx.t === 'payment.record' || tx.t === 'patient.deceased') && tx.patient instanceof Uint8Array)
				keys.add(patientRow(toHex(tx.patient)));
			else if (tx.t === 'claim.appeal' && Array.isArray(tx.preAuthRef))
				for (const id of tx.preAuthRef) if (typeof id === 'string') keys.add(authRow(id));
			if (tx.t === 'contract.deploy' || tx.t === 'coverage.enroll' || tx.t === 'auth.grant') keys.add(PAYER_HEAD_ROW);
			if (tx.t === 'coverage.enroll' && tx.patient instanceof Uint8Array && typeof tx.id === 'string')
				enrolled.push([patientCoveragesRow(toHex(tx.patient)), tx.id]);
		}
		for (const id of namedClaims(block)) keys.add(claimRow(id));
		return [...[...keys].map((key): Fact => [key, null]), ...enrolled];
	}
};
