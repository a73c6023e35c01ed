/**
 * The stock part of the supply fold (fold.ts): items, lots received with their expiry,
 * stock per clinic, lot and location with cumulative totals, transfers in transit and
 * overdue, waste, adjustments, policy and reorder points. Stock going below zero or more
 * leaving a clinic than arrived is flagged, never silent. A lot's stock, totals and flags
 * are its page; a transfer once received is a page, its flags another (supply-state.ts):
 * the fold's `pages.keysOf` names every page a block touches here.
 */
import type { Block, Tx } from '$lib/core/index.js';
import type { Totals, TransferState } from './entities.js';
import {
	DAY_MS,
	emptyPage,
	emptyTotals,
	flag,
	lotKey,
	lotPageKey,
	transferFlagsPageKey,
	transferPageKey,
	txHex as hex,
	txString as str,
	type SupplyPage,
	type SupplyState
} from './supply-state.js';
import { DEFAULT_LOCATION } from './transactions.js';

/** The page of lot `lot` of `gtin`, made (the lot known, no expiry yet) when there is none. */
export function lotPage(state: SupplyState, gtin: string, lot: string): SupplyPage {
	const page = state.pages.page(lotPageKey(gtin, lot), emptyPage);
	page.lot ??= { gtin, lot, expiry: null, recall: null };
	return page;
}

/** The page of transfer `id`'s flags. */
const transferFlags = (state: SupplyState, id: string): SupplyPage => state.pages.page(transferFlagsPageKey(id), emptyPage);

export const totalsOf = (page: SupplyPage, clinic: string): Totals => (page.totals[clinic] ??= emptyTotals());

/** Adds `delta` to a location's stock of the lot of `page`; going below zero is flagged, never silent. */
export function move(page: SupplyPage, block: Block, clinic: string, location: string, delta: number): void {
	const { gtin, lot } = page.lot!;
	const key = lotKey(gtin, lot);
	const atClinic = (page.stock[clinic] ??= {});
	const qty = (atClinic[location] ?? 0) + delta;
	atClinic[location] = qty;
	if (qty < 0) {
		flag(page, `negative-stock|${key}|${clinic}|${location}`, block, {
			kind: 'negative-stock',
			message: `stock of lot ${lot} at ${location} went to ${qty}`,
			clinic,
			gtin,
			lot
		});
	}
	const t = totalsOf(page, clinic);
	if (t.administered + t.wasted + t.sent > t.received + t.transferredIn) {
		flag(page, `dispensed-exceeds-received|${key}|${clinic}`, block, {
			kind: 'dispensed-exceeds-received',
			message: `lot ${lot}: ${t.administered} given, ${t.wasted} wasted and ${t.sent} sent, but only ${t.received} received and ${t.transferredIn} transferred in`,
			clinic,
			gtin,
			lot
		});
	}
}

/** The transfer `id`: in transit (memory) or received (its page), if it was sent. */
const transferOf = (state: SupplyState, id: string): TransferState | null =>
	state.transit[id] ?? state.pages.find(transferPageKey(id))?.transfer ?? null;

function receiveTransfer(state: SupplyState, block: Block, tx: Tx, clinic: string, location: string): void {
	const id = hex(tx.id)!;
	const transfer = transferOf(state, id);
	if (!transfer) {
		flag(transferFlags(state, id), `transfer-unknown|${id}`, block, {
			kind: 'transfer-unknown',
			message: `receipt of transfer ${id.slice(0, 8)}, which was never sent`,
			clinic,
			gtin: null,
			lot: null
		});
		return;
	}
	const where = { clinic, gtin: transfer.gtin, lot: transfer.lot };
	if (transfer.to !== clinic) {
		flag(
			transferFlags(state, id),
			`transfer-wrong-clinic|${id}|${block.id}`,
			block,
			{
				kind: 'transfer-wrong-clinic',
				message: `transfer ${id.slice(0, 8)} was sent to another clinic; this receipt is ignored`,
				...where
			},
			[transfer.sentBlock, block.id]
		);
		return;
	}
	if (transfer.received) {
		flag(
			transferFlags(state, id),
			`transfer-duplicate|${id}`,
			block,
			{ kind: 'transfer-duplicate', message: `transfer ${id.slice(0, 8)} received twice; the second is ignored`, ...where },
			[transfer.received.block, block.id]
		);
		return;
	}
	transfer.received = { block: block.id, time: block.time, location };
	delete state.transit[id];
	state.pages.page(transferPageKey(id), emptyPage).transfer = transfer;
	state.open = state.open.filter((o) => o !== id);
	// A transfer flagged overdue has a flags page; one received in time has none.
	const overdue = state.pages.find(transferFlagsPageKey(id))?.flags[`transfer-not-received|${id}`];
	if (overdue) overdue.resolved = block.id;
	const lot = lotPage(state, transfer.gtin, transfer.lot);
	totalsOf(lot, clinic).transferredIn += transfer.qty;
	move(lot, block, clinic, location, transfer.qty);
}

/** Applies one stock transaction (item, receive, transfer, waste, adjust, policy, reorder) of `clinic`. */
export function applyStockTx(state: SupplyState, block: Block, tx: Tx, clinic: string): void {
	const gtin = str(tx.gtin);
	const lot = str(tx.lot);
	const location = str(tx.location) ?? DEFAULT_LOCATION;
	switch (tx.t) {
		case 'supply.item':
			state.items[gtin!] = {
				gtin: gtin!,
				name: str(tx.name)!,
				form: str(tx.form),
				strength: str(tx.strength),
				storage: str(tx.storage),
				block: block.id
			};
			return;
		case 'supply.receive': {
			const page = lotPage(state, gtin!, lot!);
			const known = page.lot!;
			const expiry = str(tx.expiry)!;
			if (known.expiry === null) known.expiry = expiry;
			else if (known.expiry !== expiry) {
				flag(page, `lot-expiry-mismatch|${lotKey(gtin!, lot!)}`, block, {
					kind: 'lot-expiry-mismatch',
					message: `lot ${lot} received with expiry ${expiry}, earlier with ${known.expiry} (the earlier one is used)`,
					clinic,
					gtin,
					lot
				});
			}
			totalsOf(page, clinic).received += tx.qty as number;
			move(page, block, clinic, location, tx.qty as number);
			return;
		}
		case 'supply.transfer.send': {
			const id = hex(tx.id)!;
			const earlier = transferOf(state, id);
			if (earlier) {
				flag(
					transferFlags(state, id),
					`transfer-duplicate|${id}`,
					block,
					{ kind: 'transfer-duplicate', message: `transfer ${id.slice(0, 8)} sent twice; the second is ignored`, clinic, gtin, lot },
					[earlier.sentBlock, block.id]
				);
				return;
			}
			const page = lotPage(state, gtin!, lot!);
			const qty = tx.qty as number;
			state.transit[id] = {
				id,
				from: clinic,
				to: hex(tx.to)!,
				gtin: gtin!,
				lot: lot!,
				qty,
				location,
				sentBlock: block.id,
				sentTime: block.time,
				received: null
			};
			state.open.push(id);
			totalsOf(page, clinic).sent += qty;
			move(page, block, clinic, location, -qty);
			return;
		}
		case 'supply.transfer.receive':
			return receiveTransfer(state, block, tx, clinic, location);
		case 'supply.waste': {
			const page = lotPage(state, gtin!, lot!);
			totalsOf(page, clinic).wasted += tx.qty as number;
			move(page, block, clinic, location, -(tx.qty as number));
			return;
		}
		case 'supply.adjust': {
			const page = lotPage(state, gtin!, lot!);
			totalsOf(page, clinic).adjusted += tx.delta as number;
			move(page, block, clinic, location, tx.delta as number);
			return;
		}
		case 'supply.policy':
			if (typeof tx.horizonDays === 'number') state.policy.horizonDays = tx.horizonDays;
			if (typeof tx.transitDays === 'number') state.policy.transitDays = tx.transitDays;
			return;
		case 'supply.reorder':
			(state.reorder[clinic] ??= {})[gtin!] = tx.level as number;
			return;
	}
}

/** Transfers still in transit after the policy's days (by this block's time) become flags. */
export function flagOverdue(state: SupplyState, block: Block): void {
	if (state.open.length === 0) return;
	const limit = state.policy.transitDays * DAY_MS;
	const still: string[] = [];
	for (const id of state.open) {
		const transfer = state.transit[id]!;
		if (block.time - transfer.sentTime > limit) {
			flag(
				transferFlags(state, id),
				`transfer-not-received|${id}`,
				block,
				{
					kind: 'transfer-not-received',
					message: `${transfer.qty} of lot ${transfer.lot} sent ${state.policy.transitDays}+ days ago, not received`,
					clinic: transfer.from,
					gtin: transfer.gtin,
					lot: transfer.lot
				},
				[transfer.sentBlock]
			);
		} else still.push(id);
	}
	state.open = still;
}
