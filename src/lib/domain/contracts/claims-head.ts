/**
 * The payers' part of the claims fold's head (contracts, coverages, authorizations),
 * rebuilt by itself when a block deploying a contract, enrolling a coverage or granting an
 * authorization lands before blocks already folded (core/fold.ts `SharedPiece`): instead of
 * the fold rewinding to a checkpoint, every such transaction in the ledger (the claim-blocks
 * index's `h/payers` rows) is applied again in ledger order into an empty piece, and the
 * pages of the claims that read what changed are re-applied: the claims naming a coverage
 * or an authorization whose entries changed (`v/<id>`, `a/<id>`), and those naming a
 * coverage that is, or was, of a plan whose contract changed. The coverages and
 * authorizations are pages (payer-pages.ts), mostly stored and not read: what changed is
 * found by rebuilding the piece also without the late blocks (what the state holds), and
 * only the changed pages are put in the state, unread. Nothing else a page reads
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
import { comparePlace, type Ignored } from './claims-types.js';
import { authKey, authPages, coverageKey, coveragePages, type JsonPages } from './payer-pages.js';

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
function changedIds(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
	const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
	const entry = (map: Record<string, unknown>, id: string) => canonical(Object.hasOwn(map, id) ? map[id] : null);
	return [...ids].filter((id) => entry(before, id) !== entry(after, id));
}

/** The coverages that are, or were, of one of `plans`, in either piece. */
function coveragesOfPlans(pieces: readonly ClaimsState[], plans: ReadonlySet<string>): string[] {
	const out = new Set<string>();
	for (const s of pieces) for (const versions of s.coverages.all()) for (const c of versions) if (plans.has(c.plan)) out.add(c.id);
	return [...out];
}

const byPlace = (a: Ignored, b: Ignored) => comparePlace([a.clock, a.block, a.tx], [b.clock, b.block, b.tx]);

/** Puts the pages `ids` of `from` in place of `into`'s, unread (a page `from` lacks is removed). */
function replacePages<P>(into: JsonPages<P>, from: JsonPages<P>, ids: readonly string[], key: (id: string) => string): void {
	for (const id of ids) {
		into.delete(key(id));
		const page = from.view(key(id));
		if (page !== undefined) into.page(key(id), () => page);
	}
}

/** The piece, applying each transaction with the fold's own `apply`. */
export function payerHead(apply: ApplyTx): SharedPiece<ClaimsState> {
	/** The piece of `blocks`' transactions that change it, in ledger order, and the places of those transactions. */
	const pieceOf = (state: ClaimsState, blocks: readonly { block: Block; context: FoldContext }[]) => {
		const piece: ClaimsState = { ...state, contracts: {}, coverages: coveragePages(), auths: authPages(), ignored: [] };
		const places = new Set<string>();
		for (const { block, context } of blocks)
			block.txs.forEach((tx, index) => {
				if (!inPayerHead(tx)) return;
				places.add(`${block.id}/${index}`);
				const reason = apply(piece, block, tx, index, context);
				if (reason !== null) piece.ignored.push({ block: block.id, clock: block.clock, tx: index, reason });
			});
		return { piece, places };
	};
	return {
		rows: [PAYER_HEAD_ROW],
		touches: (block) => block.txs.some(inPayerHead),
		rebuild(state, blocks, late) {
			// The piece the state holds is that of every block but the late ones: rebuilt too, not read page by page.
			const { piece, places } = pieceOf(state, blocks);
			const before = pieceOf(
				state,
				blocks.filter(({ block }) => !late.has(block.id))
			).piece;
			const plans = new Set(changedIds(state.contracts, piece.contracts));
			// Every page of both pieces is in memory (rebuilt from blocks): read whole, by record id.
			const changedCoverages = changedIds(before.coverages.toJSON(), piece.coverages.toJSON());
			const changedAuths = changedIds(before.auths.toJSON(), piece.auths.toJSON());
			const coverages = new Set([...changedCoverages, ...coveragesOfPlans([before, piece], plans)]);
			const rows = [...[...coverages].map(coverageRow), ...changedAuths.map(authRow)];
			// A claim naming an id no index key can hold was filed under none: rewind rather than miss it.
			if (!rows.every(isFactKey)) return null;
			return {
				rows,
				commit() {
					state.contracts = piece.contracts;
					replacePages(state.coverages, piece.coverages, changedCoverages, coverageKey);
					replacePages(state.auths, piece.auths, changedAuths, authKey);
					state.ignored = [...state.ignored.filter((e) => !places.has(`${e.block}/${e.tx}`)), ...piece.ignored].sort(byPlace);
				}
			};
		}
	};
}
