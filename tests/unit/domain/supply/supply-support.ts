/** Shared fixtures of the supply tests: GTINs, the ledger options, a hand-moved clock, and fake blocks folded by the supply fold alone. */
import { foldBlocks, foldContexts } from '$lib/core/testing/fold-contexts.js';
import { fromHex, type AuthorId, type Block, type BlockId, type Ledger, type Tx } from '$lib/core/index.js';
import { authorOf } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { readSupply, supplyFold, supplyView, type SupplyState, type SupplyView } from '$lib/domain/supply/fold.js';

export const GTIN = '09506000134352';
export const GTIN2 = '04006381333931';
export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 10, 1); // 2026-11-01
export const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
/** The supply state of `ledger` with every page, read from memory or the store. */
export const supply = (ledger: Ledger): Promise<SupplyView> => readSupply(ledger);
export const key = (label: string) => fromHex(authorOf(label));
export const patientKey = (n: number) => new Uint8Array(32).fill(n);
export const transferId = (n: number) => new Uint8Array(16).fill(n);

/** A clock tests move by hand; block times come from it. */
export function clock(start = T0) {
	let now = start;
	return { now: () => now, set: (t: number) => (now = t) };
}

/** A block for the fold alone (the fold reads id, author, time and txs; signatures are the ledger's business). */
export function fakeBlock(n: number, author: string, time: number, txs: Tx[]): Block {
	return {
		id: n.toString(16).padStart(64, '0') as BlockId,
		net: null,
		author: author as AuthorId,
		seq: n,
		prev: null,
		deps: [],
		clock: n,
		time,
		txs,
		body: new Uint8Array(),
		signature: new Uint8Array(),
		bytes: new Uint8Array()
	};
}
export function foldAll(blocks: Block[]): SupplyState {
	return foldBlocks(supplyFold, blocks);
}

/** The view of the supply fold over `blocks` (every page in memory). */
export const foldView = (blocks: Block[]): SupplyView => supplyView(foldAll(blocks));

/** Folds one more block onto `state` (encounter records of earlier blocks not visible: for tests whose doses name no visit). */
export const foldOn = (state: SupplyState, block: Block): SupplyState =>
	supplyFold.apply(state, block, foldContexts(supplyFold.reads)(block));
