/**
 * The supply fold: stock per clinic, lot and location, lots with their expiry and
 * recall, transfers in transit, the recall index (lot → administrations) and the
 * fraud and error flags, computed from supply transactions in ledger order on every
 * node. Everything here is deterministic: time is the block's `time`, never the clock of
 * the node folding.
 *
 * A rule cannot see this state, so a movement the stock contradicts (a dose of a
 * recalled or expired lot, more out than in) is accepted into the ledger and judged
 * here: the outcome is recorded with the blocks that caused it, identically everywhere.
 */
import { compileRule, ruleHolds } from '../contracts/rule-logic.js';
import { toHex, type Block, type CborValue, type Fold, type Tx } from '$lib/core/index.js';
import { memberClinicsFold, type MemberClinics } from '../members.js';
import type { AdministrationRecord, ContactState, Flag, ItemState, LotState, Totals, TransferState } from './entities.js';
import { DEFAULT_LOCATION, type AdministrationKind, type ContactStatus } from './transactions.js';

export const DEFAULT_HORIZON_DAYS = 90;
export const DEFAULT_TRANSIT_DAYS = 7;
const DAY_MS = 86_400_000;
/** Evidence kept per flag: the first blocks, enough to look into it. */
export const MAX_EVIDENCE = 20;

export interface SupplyState {
	/** Device key → clinic key, as `member.add` with `clinic` says (a device without one is its own clinic). */
	clinics: MemberClinics;
	policy: { horizonDays: number; transitDays: number };
	items: Record<string, ItemState>;
	lots: Record<string, LotState>;
	/** lot key → clinic → location → quantity on hand. */
	stock: Record<string, Record<string, Record<string, number>>>;
	/** lot key → clinic → cumulative movements. */
	totals: Record<string, Record<string, Totals>>;
	transfers: Record<string, TransferState>;
	/** Transfer ids sent, not yet received and not yet flagged overdue. */
	open: string[];
	/** The recall index: lot key → every administration of that lot, in ledger order. */
	administrations: Record<string, AdministrationRecord[]>;
	/** `${gtin}|${serial}` → block of the administration that used it. */
	serials: Record<string, string>;
	/** `${block}:${rid}` of encounter records (in block order) → patient key and block time. */
	encounters: Record<string, { patient: string; time: number }>;
	/** lot key → patient → follow-up status. */
	contacts: Record<string, Record<string, ContactState>>;
	/** clinic → GTIN → reorder point. */
	reorder: Record<string, Record<string, number>>;
	flags: Record<string, Flag>;
}

/** Key of a lot: GTIN and lot number (`|` is outside the GS1 character set). */
export const lotKey = (gtin: string, lot: string) => `${gtin}|${lot}`;

export const emptyTotals = (): Totals => ({ received: 0, sent: 0, transferredIn: 0, administered: 0, wasted: 0, adjusted: 0 });

/** Milliseconds from which a lot with this last day of use is expired (the next midnight UTC). */
export function expiryInstant(expiry: string): number {
	return Date.parse(`${expiry}T00:00:00Z`) + DAY_MS;
}

/**
 * Why a dose of the lot may not be given at `time`, or null. Used by the fold (judging
 * an administration already on the ledger) and by the form (refusing before writing).
 */
export function administerProblem(state: SupplyState, gtin: string, lot: string, time: number): string | null {
	const known = state.lots[lotKey(gtin, lot)];
	if (!known) return null;
	const data = {
		time,
		lot: {
			recalled: known.recall !== null && known.recall !== undefined,
			expiresAt: known.expiry === null ? null : expiryInstant(known.expiry)
		}
	};
	for (const rule of ADMINISTER_RULES) {
		if (ruleHolds(rule.logic, data)) continue;
		return rule.code === 'recalled' ? `lot ${lot} was recalled: ${known.recall!.reason}` : `lot ${lot} expired on ${known.expiry}`;
	}
	return null;
}

/**
 * The administration rules as contract data (JsonLogic, checked and bounded by the
 * contract engine of docs/contracts.md): a dose may be given only while each holds. The
 * data a rule sees: `time` (the block's time, ms) and `lot` {`recalled`, `expiresAt`
 * (ms, null when the lot has no expiry)}.
 */
export const ADMINISTER_RULE_DATA = [
	{ code: 'recalled', rule: { '!': { var: 'lot.recalled' } } },
	{ code: 'expired', rule: { or: [{ '==': [{ var: 'lot.expiresAt' }, null] }, { '<': [{ var: 'time' }, { var: 'lot.expiresAt' }] }] } }
] as const;
const ADMINISTER_RULES = ADMINISTER_RULE_DATA.map((r) => ({
	code: r.code,
	logic: compileRule(r.rule as unknown as CborValue, `administer.${r.code}`).logic
}));

/** The clinic a device writes for. */
export const clinicOf = (state: SupplyState, author: string) => state.clinics[author] ?? author;

const str = (v: CborValue | undefined) => (typeof v === 'string' ? v : null);
const hex = (v: CborValue | undefined) => (v instanceof Uint8Array ? toHex(v) : null);

function flag(
	state: SupplyState,
	key: string,
	block: Block,
	f: Omit<Flag, 'evidence' | 'time' | 'resolved'>,
	evidence: string[] = [block.id]
): void {
	const existing = state.flags[key];
	if (existing) {
		for (const id of evidence) if (existing.evidence.length < MAX_EVIDENCE && !existing.evidence.includes(id)) existing.evidence.push(id);
		return;
	}
	state.flags[key] = { ...f, evidence: evidence.slice(0, MAX_EVIDENCE), time: block.time, resolved: null };
}

function totalsOf(state: SupplyState, key: string, clinic: string): Totals {
	const byClinic = (state.totals[key] ??= {});
	return (byClinic[clinic] ??= emptyTotals());
}

/** Adds `delta` to a location's stock; going below zero is flagged, never silent. */
function move(state: SupplyState, block: Block, gtin: string, lot: string, clinic: string, location: string, delta: number): void {
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

function ensureLot(state: SupplyState, gtin: string, lot: string): LotState {
	return (state.lots[lotKey(gtin, lot)] ??= { gtin, lot, expiry: null, recall: null });
}

function applyTx(state: SupplyState, block: Block, tx: Tx, index: number, clinic: string): void {
	const gtin = str(tx.gtin);
	const lot = str(tx.lot);
	const location = str(tx.location) ?? DEFAULT_LOCATION;
	switch (tx.t) {
		case 'record.put': {
			// An encounter record: administrations link to it by block id and record id.
			const rid = hex(tx.rid);
			const patient = hex(tx.patient);
			if (tx.category === 'encounters' && rid && patient) state.encounters[`${block.id}:${rid}`] = { patient, time: block.time };
			return;
		}
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
		case 'supply.administer': {
			const key = lotKey(gtin!, lot!);
			const patient = hex(tx.patient)!;
			const qty = (tx.qty as number | undefined) ?? 1;
			const serial = str(tx.serial);
			const enc = tx.encounter as { block?: CborValue; rid?: CborValue } | undefined;
			const encounter = enc ? { block: hex(enc.block)!, rid: hex(enc.rid)! } : null;
			const refused = administerProblem(state, gtin!, lot!, block.time);
			const record: AdministrationRecord = {
				block: block.id,
				index,
				patient,
				clinic,
				author: block.author,
				time: block.time,
				kind: tx.kind as AdministrationKind,
				qty,
				serial,
				encounter,
				refused
			};
			(state.administrations[key] ??= []).push(record);
			ensureLot(state, gtin!, lot!);
			const where = { clinic, gtin, lot };
			if (refused)
				flag(state, `refused-administration|${block.id}|${index}`, block, {
					kind: 'refused-administration',
					message: `dose given although ${refused}`,
					...where
				});
			if (serial !== null) {
				const serialKey = `${gtin}|${serial}`;
				const first = state.serials[serialKey];
				if (first === undefined) state.serials[serialKey] = block.id;
				else
					flag(
						state,
						`serial-reused|${serialKey}`,
						block,
						{ kind: 'serial-reused', message: `serial ${serial} of ${gtin} given more than once`, ...where },
						[first, block.id]
					);
			}
			if (!encounter) {
				flag(state, `no-encounter|${block.id}|${index}`, block, {
					kind: 'no-encounter',
					message: 'administration not linked to an encounter',
					...where
				});
			} else {
				const encounterPatient = state.encounters[`${encounter.block}:${encounter.rid}`]?.patient;
				if (encounterPatient === undefined)
					flag(state, `no-encounter|${block.id}|${index}`, block, {
						kind: 'no-encounter',
						message: `encounter ${encounter.rid.slice(0, 8)} in block ${encounter.block.slice(0, 8)} is not on the ledger before this administration`,
						...where
					});
				else if (encounterPatient !== patient)
					flag(
						state,
						`encounter-patient-mismatch|${block.id}|${index}`,
						block,
						{ kind: 'encounter-patient-mismatch', message: 'the encounter is another patient’s', ...where },
						[encounter.block, block.id]
					);
			}
			totalsOf(state, key, clinic).administered += qty;
			move(state, block, gtin!, lot!, clinic, location, -qty);
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
		case 'supply.recall': {
			const known = ensureLot(state, gtin!, lot!);
			known.recall ??= { block: block.id, time: block.time, by: block.author, reason: str(tx.reason)! };
			return;
		}
		case 'supply.contact': {
			const byPatient = (state.contacts[lotKey(gtin!, lot!)] ??= {});
			byPatient[hex(tx.patient)!] = {
				status: tx.status as ContactStatus,
				note: str(tx.note),
				block: block.id,
				time: block.time,
				by: block.author
			};
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
function flagOverdue(state: SupplyState, block: Block): void {
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

export const supplyFold: Fold<SupplyState> = {
	name: 'supply',
	version: 1,
	init: () => ({
		clinics: {},
		policy: { horizonDays: DEFAULT_HORIZON_DAYS, transitDays: DEFAULT_TRANSIT_DAYS },
		items: {},
		lots: {},
		stock: {},
		totals: {},
		transfers: {},
		open: [],
		administrations: {},
		serials: {},
		encounters: {},
		contacts: {},
		reorder: {},
		flags: {}
	}),
	apply(state, block) {
		state.clinics = memberClinicsFold.apply(state.clinics, block);
		const clinic = clinicOf(state, block.author);
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index, clinic));
		flagOverdue(state, block);
		return state;
	},
	encode: (state) => structuredClone(state) as unknown as CborValue,
	decode: (value) => structuredClone(value) as unknown as SupplyState
};
