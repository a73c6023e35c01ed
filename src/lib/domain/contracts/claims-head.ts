/**
 * The coverages and authorizations of the claims fold's head, rebuilt by themselves when a
 * block enrolling a coverage or granting an authorization lands before blocks already folded
 * (core/fold.ts `SharedPiece`): instead of the fold rewinding to a checkpoint, every such
 * transaction in the ledger (the claim-blocks index's `h/coverages` rows) is applied again
 * in ledger order into an empty piece, and the pages of the claims naming a coverage or
 * authorization whose entries changed (`v/<id>`, `a/<id>`) are re-applied. Nothing else a
 * page reads depends on them: a claim reads its own coverage and the authorizations its
 * claim and appeals name, as of its place (claims-state.ts `coverageAt`, `authAt`), and an
 * authorization reads its coverage as of its own place, which the rebuild does in order.
 * Refusals of these transactions move with them in the head's `ignored`, kept in ledger order.
 */
import { isFactKey, type Block, type FoldContext, type SharedPiece, type Tx } from '$lib/core/index.js';
import { authRow, COVERAGE_HEAD_ROW, coverageRow } from './claim-index.js';
import type { ClaimsState } from './claims-state.js';
import { comparePlace, type Ignored } from './claims-types.js';

/** What the claims fold does with one transaction: why it was refused, or null. */
export type ApplyTx = (state: ClaimsState, block: Block, tx: Tx, index: number, context: FoldContext) => string | null;

const PIECE = new Set(['coverage.enroll', 'auth.grant']);
/** Whether `tx` changes the coverages and authorizations (and nothing else). */
export const inCoverageHead = (tx: Tx): boolean => PIECE.has(tx.t);

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

const byPlace = (a: Ignored, b: Ignored) => comparePlace([a.clock, a.block, a.tx], [b.clock, b.block, b.tx]);

/** The piece, applying each transaction with the fold's own `apply`. */
export function coverageHead(apply: ApplyTx): SharedPiece<ClaimsState> {
	return {
		rows: [COVERAGE_HEAD_ROW],
		touches: (block) => block.txs.some(inCoverageHead),
		rebuild(state, blocks) {
			const piece: ClaimsState = { ...state, coverages: {}, coverageHistory: {}, auths: {}, ignored: [] };
			const rebuilt = new Set<string>();
			for (const { block, context } of blocks)
				block.txs.forEach((tx, index) => {
					if (!inCoverageHead(tx)) return;
					rebuilt.add(`${block.id}/${index}`);
					const reason = apply(piece, block, tx, index, context);
					if (reason !== null) piece.ignored.push({ block: block.id, clock: block.clock, tx: index, reason });
				});
			const rows = [
				...changedIds([state.coverages, state.coverageHistory], [piece.coverages, piece.coverageHistory]).map(coverageRow),
				...changedIds([state.auths], [piece.auths]).map(authRow)
			];
			// A claim naming an id no index key can hold was filed under none: rewind rather than miss it.
			if (!rows.every(isFactKey)) return null;
			return {
				rows,
				commit() {
					state.coverages = piece.coverages;
					state.coverageHistory = piece.coverageHistory;
					state.auths = piece.auths;
					state.ignored = [...state.ignored.filter((e) => !rebuilt.has(`${e.block}/${e.tx}`)), ...piece.ignored].sort(byPlace);
				}
			};
		}
	};
}
