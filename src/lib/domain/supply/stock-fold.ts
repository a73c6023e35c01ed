/**
 * The stock part of the supply fold (fold.ts): items, lots received with their expiry,
 * stock per clinic, lot and location with cumulative totals, transfers in transit and
 * overdue, waste, adjustments, policy and reorder points. Stock going below zero or more
 * leaving a clinic than arrived is flagged, never silent.
 */
import type { Block, Tx } from '$lib/core/index.js';
import type { LotState, Totals } from './entities.js';
import { DAY_MS, emptyTotals, flag, lotKey, txHex as hex, txString as str, type SupplyState } from './supply-state.js';
import { DEFAULT_LOCATION } from './transactions.js';

export function totalsOf(state: SupplyState, key: string, clinic: string): Totals {
	const byClinic = (state.totals[key] ??= {});
	return (byClinic[clinic] ??= emptyTotals());
}

/** Adds `delta` to a location's stock; going below zero is flagged, never silent. */
export function move(state: SupplyState, block: Block, gtin: string, lot: string, clinic: string, location: string, delta: number): void {
	const key = lotKey(gtin, lot);
	const atClinic = ((state.stock[key] ??= {})[clinic] ??= {});
	const qty = (atClinic[location] ?? 0) + delta;
	atClinic[location] = qty;
	if (qty < 0) {
		flag(state, `negative-stock|${key}|${clinic}|${location}`, block, {
			kind: 'negative-stock',
			message: `stock of lot ${lot} at ${location} went to ${qty}`,
			clinic,
			gtin,
			lot
		});
	}
	const t = totalsOf(state, key, clinic);
	if (t.administered + t.wasted + t.sent > t.received + t.transferredIn) {
		flag(state, `dispensed-exceeds-received|${key}|${clinic}`, block, {
			kind: 'dispensed-exceeds-received',
			message: `lot ${lot}: ${t.administered} given, ${t.wasted} wasted and ${t.sent} sent, but only ${t.received} received and ${t.transferredIn} transferred in`,
			clinic,
			gtin,
			lot
		});
	}
}

export function ensureLot(state: SupplyState, gtin: string, lot: string): LotState {
	return (state.lots[lotKey(gtin, lot)] ??= { gtin, lot, expiry: null, recall: null });
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
			const known = ensureLot(state, gtin!, lot!);
			const expiry = str(tx.expiry)!;
			if (known.expiry === null) known.expiry = expiry;
			else if (known.expiry !== expiry) {
				flag(state, `lot-expiry-mismatch|${lotKey(gtin!, lot!)}`, block, {
					kind: 'lot-expiry-mismatch',
					message: `lot ${lot} received with expiry ${expiry}, earlier with ${known.expiry} (the earlier one is used)`,
					clinic,
					gtin,
					lot
				});
			}
			totalsOf(state, lotKey(gtin!, lot!), clinic).received += tx.qty as number;
			move(state, block, gtin!, lot!, clinic, location, tx.qty as number);
			return;
		}
		case 'supply.transfer.send': {
			const id = hex(tx.id)!;
			if (state.transfers[id]) {
				flag(
					state,
					`transfer-duplicate|${id}`,
					block,
					{ kind: 'transfer-duplicate', message: `transfer ${id.slice(0, 8)} sent twice; the second is ignored`, clinic, gtin, lot },
					[state.transfers[id].sentBlock, block.id]
				);
				return;
			}
			ensureLot(state, gtin!, lot!);
			const qty = tx.qty as number;
			state.transfers[id] = {
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
			totalsOf(state, lotKey(gtin!, lot!), clinic).sent += qty;
			move(state, block, gtin!, lot!, clinic, location, -qty);
			return;
		}
		case 'supply.transfer.receive': {
			const id = hex(tx.id)!;
			const transfer = state.transfers[id];
			if (!transfer) {
				flag(state, `transfer-unknown|${id}`, block, {
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
					state,
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
					state,
					`transfer-duplicate|${id}`,
					block,
					{ kind: 'transfer-duplicate', message: `transfer ${id.slice(0, 8)} received twice; the second is ignored`, ...where },
					[transfer.received.block, block.id]
				);
				return;
			}
			transfer.received = { block: block.id, time: block.time, location };
			state.open = state.open.filter((o) => o !== id);
			const overdue = state.flags[`transfer-not-received|${id}`];
			if (overdue) overdue.resolved = block.id;
			totalsOf(state, lotKey(transfer.gtin, transfer.lot), clinic).transferredIn += transfer.qty;
			move(state, block, transfer.gtin, transfer.lot, clinic, location, transfer.qty);
			return;
		}
		case 'supply.waste':
			ensureLot(state, gtin!, lot!);
			totalsOf(state, lotKey(gtin!, lot!), clinic).wasted += tx.qty as number;
			move(state, block, gtin!, lot!, clinic, location, -(tx.qty as number));
			return;
		case 'supply.adjust':
			ensureLot(state, gtin!, lot!);
			totalsOf(state, lotKey(gtin!, lot!), clinic).adjusted += tx.delta as number;
			move(state, block, gtin!, lot!, clinic, location, tx.delta as number);
			return;
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
		const transfer = state.transfers[id]!;
		if (block.time - transfer.sentTime > limit) {
			flag(
				state,
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
