/**
 * Which coverage and authorization pages (payer-pages.ts) a block's transactions read or
 * write: the claims fold's `pages.keysOf` and `moreKeysOf` (claims-fold.ts).
 */
import type { Block, FoldContext, Tx } from '$lib/core/index.js';
import { parsedClaim, patientOfClaim } from './claim-index.js';
import { knownKey, type ClaimsState, type PatientPage } from './claims-state.js';
import { authKey, coverageKey } from './payer-pages.js';

/** The coverage and authorization pages a transaction reads or writes, as far as it names them (an appeal: `moreKeysOf`). */
export function payerPagesOf(tx: Tx): string[] {
	const str = (v: unknown) => (typeof v === 'string' ? [v] : []);
	switch (tx.t) {
		case 'coverage.enroll':
			return str(tx.id).map(coverageKey);
		case 'auth.grant':
			return [...str(tx.coverage).map(coverageKey), ...str(tx.id).map(authKey)];
		case 'claim.submit':
		case 'claim.correct': {
			const { claim } = parsedClaim(tx);
			return claim ? [coverageKey(claim.coverage), ...claim.preAuth.map(authKey)] : [];
		}
		case 'claim.appeal':
			return Array.isArray(tx.preAuthRef) ? tx.preAuthRef.flatMap(str).map(authKey) : [];
		default:
			return [];
	}
}

/**
 * What the appeals of `block` read besides what they name: an appeal decides its claim
 * again, under the coverage and authorizations the claim's record names (earlier appeals
 * add some), read from the claim's page once {@link payerPagesOf}'s round of pages is read.
 */
export function appealPagesOf(block: Block, context: FoldContext, state: ClaimsState, peek: (key: string) => unknown): string[] {
	const keys: string[] = [];
	for (const tx of block.txs) {
		if (tx.t !== 'claim.appeal' || typeof tx.original !== 'string') continue;
		const patient = patientOfClaim(context, tx.original);
		const short = patient === undefined ? undefined : knownKey(state, patient);
		const page = short === undefined ? undefined : (peek(String(short)) as PatientPage | undefined);
		const rec = page && Object.hasOwn(page.claims, tx.original) ? page.claims[tx.original]! : undefined;
		if (rec) keys.push(coverageKey(rec.coverage), ...rec.preAuth.map(authKey));
	}
	return keys;
}
