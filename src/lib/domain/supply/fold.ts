/**
 * The supply fold: stock per clinic, lot and location, lots with their expiry and
 * recall, transfers in transit, and the fraud and error flags, computed from supply
 * transactions in ledger order on every node. Everything here is deterministic: time is
 * the block's `time`, never the clock of the node folding.
 *
 * A rule cannot see this state, so a movement the stock contradicts (a dose of a
 * recalled or expired lot, more out than in) is accepted into the ledger and judged
 * here: the outcome is recorded with the blocks that caused it, identically everywhere.
 *
 * The parts: supply-state.ts (the state's shape, lot keys, flags), stock-fold.ts (items,
 * lots, stock, transfers), trace-fold.ts (administrations judged, recalls),
 * administer-rules.ts (when a dose may not be given). The recall index (who received a
 * lot, who was reached after its recall) is an index fold kept in the store,
 * lot-index.ts, and so are the serials given (serial-index.ts).
 *
 * Memory and checkpoints hold what every block may read (clinics, policy, items, reorder
 * points, transfers in transit); lots with their stock and flags, received transfers and
 * serials' flags are pages kept as rows of the store (issue 19, item 3; pages.ts), read
 * before a batch that names them. Readers gather the pages they show with `readSupply`.
 * This module is the fold the registry runs and the entry the UI, the bench and the tests
 * import.
 */
import { CodedError, type Block, type Fold } from '$lib/core/index.js';
import { encounterReads } from '../records/encounter-lookup.js';
import { memberClinicsFold } from '../members.js';
import { serialReads } from './serial-index.js';
import { decodeSupply, encodeSupply } from './pages.js';
import { applyStockTx, flagOverdue } from './stock-fold.js';
import {
	clinicOf,
	DEFAULT_HORIZON_DAYS,
	DEFAULT_TRANSIT_DAYS,
	lotPageKey,
	serialPageKey,
	SupplyPages,
	transferFlagsPageKey,
	transferPageKey,
	txHex,
	txString,
	type SupplyState
} from './supply-state.js';
import { applyTraceTx, doseEncounter, TRACE_TXS } from './trace-fold.js';

export { ADMINISTER_RULE_DATA, administerProblem } from './administer-rules.js';
export {
	clinicOf,
	DEFAULT_HORIZON_DAYS,
	DEFAULT_TRANSIT_DAYS,
	emptyTotals,
	expiryInstant,
	lotKey,
	MAX_EVIDENCE,
	type SupplyPage,
	type SupplyState,
	type SupplyView
} from './supply-state.js';
export { readSupply, shownPageKeys, supplyView } from './pages.js';

/**
 * The pages `block` reads or changes: the lot each supply transaction names, the transfer it
 * sends or receives and its flags (and the lot of one in transit before the batch: one sent
 * in the same batch names its lot itself), the serial a dose gives, and the flags of each
 * transfer in transit not yet flagged overdue (a block holding a supply transaction may flag it).
 */
function pageKeysOf(block: Block, state: SupplyState): Set<string> {
	const keys = new Set<string>();
	for (const tx of block.txs) {
		if (!tx.t.startsWith('supply.') || tx.t === 'supply.contact') continue;
		const gtin = txString(tx.gtin);
		const lot = txString(tx.lot);
		if (gtin !== null && lot !== null) keys.add(lotPageKey(gtin, lot));
		const serial = txString(tx.serial);
		if (tx.t === 'supply.administer' && gtin !== null && serial !== null) keys.add(serialPageKey(gtin, serial));
		const id = tx.t.startsWith('supply.transfer.') ? txHex(tx.id) : null;
		if (id === null) continue;
		keys.add(transferPageKey(id));
		keys.add(transferFlagsPageKey(id));
		const sent = state.transit[id];
		if (sent) keys.add(lotPageKey(sent.gtin, sent.lot));
	}
	if (block.txs.some((tx) => tx.t.startsWith('supply.'))) for (const id of state.open) keys.add(transferFlagsPageKey(id));
	return keys;
}

export const supplyFold: Fold<SupplyState> = {
	name: 'supply',
	// 2: the checkpoint is one JSON byte string: decoding a CBOR tree of tens of thousands of
	// small maps took most of a rewind's time (issue 19). 3: administrations and contacts
	// moved to the recall index in the store (lot-index.ts). 4: encounter records read from the
	// records index (records/encounter-lookup.ts), not kept in the state.
	// 5: the overdue-transfer check runs at blocks holding a supply transaction, not at every
	// block: a late block of other transactions then cannot change the state (`affectedBy`).
	// Lots, received transfers and flags became pages, rows of the store (issue 19, item 3),
	// with the same meaning: a checkpoint of the whole state decodes into pages (pages.ts), no refold.
	version: 5,
	// Supply transactions; `member.add` names the clinic a device writes for; a `record.put`
	// is an encounter record a dose may name (read through `reads`).
	affectedBy: (type) => type.startsWith('supply.') || type === 'member.add' || type === 'record.put',
	// The encounter records doses name, and the earlier uses of the serials they give (serial-index.ts).
	reads: [
		encounterReads((block) =>
			block.txs.flatMap((tx) => {
				const ref = tx.t === 'supply.administer' ? doseEncounter(tx) : null;
				return ref ? [ref] : [];
			})
		),
		serialReads
	],
	init: () => ({
		clinics: {},
		policy: { horizonDays: DEFAULT_HORIZON_DAYS, transitDays: DEFAULT_TRANSIT_DAYS },
		items: {},
		reorder: {},
		transit: {},
		open: [],
		pages: new SupplyPages()
	}),
	apply(state, block, context) {
		if (!context) throw new CodedError('FOLD_NEEDS_CONTEXT', 'the supply fold needs each block’s index rows (Fold.apply’s `context`)');
		state.clinics = memberClinicsFold.apply(state.clinics, block);
		const clinic = clinicOf(state, block.author);
		block.txs.forEach((tx, index) =>
			TRACE_TXS.has(tx.t) ? applyTraceTx(state, block, tx, index, clinic, context) : applyStockTx(state, block, tx, clinic)
		);
		if (block.txs.some((tx) => tx.t.startsWith('supply.'))) flagOverdue(state, block);
		return state;
	},
	// Lots, received transfers and serials' flags are pages, rows of the store (pages.ts).
	pages: { keysOf: (block, _context, state) => pageKeysOf(block, state), of: (state) => state.pages },
	encode: encodeSupply,
	decode: decodeSupply
};
