/**
 * The payers' part of the claims fold's head (contracts, coverages, authorizations),
 * rebuilt by itself when a block deploying a contract, enrolling a coverage or granting an
 * authorization lands before blocks already folded (core/fold.ts `SharedPiece`): instead of
 * the fold rewinding to a checkpoint, every such transaction in the ledger (the claim-blocks
 * index's `h/payers` rows) is applied again in ledger order into an empty piece, and the
 * pages of the claims that read what changed are re-applied: the claims naming a coverage
 * or an authorization whose entries changed (`v/<id>`, `a/<id>`), and those naming a
 * coverage that is, or was, of a plan whose contract changed. Nothing else a page reads
 * depends on them: a claim reads its own coverage (as of its place: claims-state.ts
 * `coverageAt`), the authorizations its claim and appeals name (`authAt`), and the versions
 * of its coverage's plan in its causal past, which a late block is never part of (a node
 * takes a block only after its whole past), though a late version can change which later
 * versions are refused. An authorization reads its coverage as of its own place, which the
 * rebuild does in order; a contract or a coverage reads only its own earlier entries.
 * Refusals of these transactions move with them in the head's `ignored`, in ledger order.
 */
import { isFactKey, type Block, type FoldContext, type SharedPiece, type Tx } from '$lib/core/index.js';
import { authRow, coverageRow, PAYER_HEAD_ROW } from './claim-index.js';
import type { ClaimsState } from './claims-state.js';
import { comparePlace, type Coverage, type Ignored } from './claims-types.js';

/** What the claims fold does with one transaction: why it was refused, or null. */
export type ApplyTx = (state: ClaimsState, block: Block, tx: Tx, index: number, context: FoldContext) => string | null;

const PIECE = new Set(['contract.deploy', 'coverage.enroll', 'auth.grant']);
/** Whether `tx` changes the payers' part of the head (and nothing else). */
export const inPayerHead = (tx: Tx): boolean => PIECE.has(tx.t);

/** JSON with every object's keys sorted: equal values, equal text, whatever order their fields were set in. */
const canonical = (value: unknown): string =>
	JSON.stringify(value, (_, v: unknown) =>
		v !== null && typeof v === 'object' && !Array.isArray(v)
			? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
			: v
	);

/** The ids whose entries differ between `before` and `after` (each a record of id → entries). */
function changedIds(before: readonly Record<string, unknown>[], after: readonly Record<string, unknown>[]): string[] {
	const ids = new Set([...before, ...after].flatMap((entries) => Object.keys(entries)));
	const entry = (maps: readonly Record<string, unknown>[], id: string) => canonical(maps.map((m) => (Object.hasOwn(m, id) ? m[id] : null)));
	return [...ids].filter((id) => entry(before, id) !== entry(after, id));
}

/** The coverages that are, or were, of one of `plans`, in either state. */
function coveragesOfPlans(states: readonly ClaimsState[], plans: ReadonlySet<string>): string[] {
	const out = new Set<string>();
	const of = (c: Coverage) => plans.has(c.plan) && out.add(c.id);
	for (const s of states) {
		Object.values(s.coverages).forEach(of);
		for (const history of Object.values(s.coverageHistory)) history.forEach(of);
	}
	return [...out];
}

const byPlace = (a: Ignored, b: Ignored) => comparePlace([a.clock, a.block, a.tx], [b.clock, b.block, b.tx]);

/** The piece, applying each transaction with the fold's own `apply`. */
export function payerHead(apply: ApplyTx): SharedPiece<ClaimsState> {
	return {
		rows: [PAYER_HEAD_ROW],
		touches: (block) => block.txs.some(inPayerHead),
		rebuild(state, blocks) {
			const piece: ClaimsState = { ...state, contracts: {}, coverages: {}, coverageHistory: {}, auths: {}, ignored: [] };
			const rebuilt = new Set<string>();
			for (const { block, context } of blocks)
				block.txs.forEach((tx, index) => {
					if (!inPayerHead(tx)) return;
					rebuilt.add(`${block.id}/${index}`);
					const reason = apply(piece, block, tx, index, context);
					if (reason !== null) piece.ignored.push({ block: block.id, clock: block.clock, tx: index, reason });
				});
			const plans = new Set(changedIds([state.contracts], [piece.contracts]));
			const coverages = new Set([
				...changedIds([state.coverages, state.coverageHistory], [piece.coverages, piece.coverageHistory]),
				...coveragesOfPlans([state, piece], plans)
			]);
			const rows = [...[...coverages].map(coverageRow), ...changedIds([state.auths], [piece.auths]).map(authRow)];
			// A claim naming an id no index key can hold was filed under none: rewind rather than miss it.
			if (!rows.every(isFactKey)) return null;
			return {
				rows,
				commit() {
					state.contracts = piece.contracts;
					state.coverages = piece.coverages;
					state.coverageHistory = piece.coverageHistory;
					state.auths = piece.auths;
					state.ignored = [...state.ignored.filter((e) => !rebuilt.has(`${e.block}/${e.tx}`)), ...piece.ignored].sort(byPlace);
				}
			};
		}
	};
}
