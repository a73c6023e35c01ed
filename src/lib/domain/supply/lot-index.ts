/**
 * The recall index as an index fold (core index-fold.ts): under each lot's key, every fact
 * a recall trace needs, one row each in ledger order: the lot's receipts (their expiry),
 * its recalls, every administration of it and every follow-up contact. Kept in the store,
 * not in the supply fold's memory: a lot's administrations grow with every dose for as
 * long as the network lives, and a trace reads them a page at a time.
 *
 * A row follows from its block alone, so a late block inserts its rows in place and a
 * void block's rows leave with it. What the fold judged in ledger order, the reader judges
 * over the lot's rows in the same order: a dose is refused when, before it, the lot was
 * recalled or its first receipt's last day of use had passed ({@link lotProblem}), the
 * same answer the supply fold gives when it raises the dose's flag.
 */
import {
	factPosition,
	type Block,
	type CborValue,
	type Fact,
	type FactPosition,
	type IndexFold,
	type Ledger,
	type Tx
} from '$lib/core/index.js';

/** Where rows are read from: the ledger (`Ledger.facts`), or a store in a benchmark. */
export type FactSource = Pick<Ledger, 'facts'>;
import { lotProblem } from './administer-rules.js';
import type { AdministrationRecord, ContactState } from './entities.js';
import { clinicOf, lotKey, txHex as hex, txString as str, type SupplyView } from './supply-state.js';
import type { AdministrationKind, ContactStatus } from './transactions.js';
import { lotWhereabouts, type RecallTrace } from './views.js';

/** A row's value: what the transaction says, with its block's time and author (rows carry only the block id and clock). */
type LotFact =
	| { t: 'receive'; time: number; by: string; expiry: string }
	| { t: 'recall'; time: number; by: string; reason: string }
	| {
			t: 'administer';
			time: number;
			by: string;
			index: number;
			patient: string;
			kind: AdministrationKind;
			qty: number;
			serial: string | null;
			encounter: { block: string; rid: string } | null;
	  }
	| { t: 'contact'; time: number; by: string; patient: string; status: ContactStatus; note: string | null };

/** The fact of one transaction, or null: not a lot event, or not well formed (the rules refuse those; nothing is assumed). */
function factOf(block: Block, tx: Tx, index: number): Fact | null {
	const gtin = str(tx.gtin);
	const lot = str(tx.lot);
	if (gtin === null || lot === null) return null;
	const base = { time: block.time, by: block.author as string };
	let value: LotFact;
	switch (tx.t) {
		case 'supply.receive': {
			const expiry = str(tx.expiry);
			if (expiry === null) return null;
			value = { t: 'receive', ...base, expiry };
			break;
		}
		case 'supply.recall':
			value = { t: 'recall', ...base, reason: str(tx.reason) ?? '' };
			break;
		case 'supply.administer': {
			const patient = hex(tx.patient);
			if (patient === null) return null;
			const enc = tx.encounter as { block?: CborValue; rid?: CborValue } | undefined;
			const encBlock = hex(enc?.block);
			const encRid = hex(enc?.rid);
			value = {
				t: 'administer',
				...base,
				index,
				patient,
				kind: tx.kind as AdministrationKind,
				qty: typeof tx.qty === 'number' ? tx.qty : 1,
				serial: str(tx.serial),
				encounter: encBlock !== null && encRid !== null ? { block: encBlock, rid: encRid } : null
			};
			break;
		}
		case 'supply.contact': {
			const patient = hex(tx.patient);
			if (patient === null) return null;
			value = { t: 'contact', ...base, patient, status: tx.status as ContactStatus, note: str(tx.note) };
			break;
		}
		default:
			return null;
	}
	return [lotKey(gtin, lot), value as unknown as CborValue];
}

export const lotIndex: IndexFold = {
	name: 'supply-lots',
	version: 1,
	facts: (block) =>
		block.txs.flatMap((tx, index): Fact[] => {
			const fact = factOf(block, tx, index);
			return fact ? [fact] : [];
		})
};

/** Rows read per page when a trace walks a lot. */
const PAGE = 500;

/**
 * Every administration of the lot, in ledger order, judged as the fold judges it, and the
 * latest contact per patient: the lot's rows read a page at a time. `state`: the supply
 * fold's, for the clinic each device writes for.
 */
export async function lotHistory(
	ledger: FactSource,
	state: Pick<SupplyView, 'clinics'>,
	gtin: string,
	lot: string
): Promise<{ administrations: AdministrationRecord[]; contacts: Map<string, ContactState> }> {
	const key = lotKey(gtin, lot);
	const administrations: AdministrationRecord[] = [];
	const contacts = new Map<string, ContactState>();
	const known: { expiry: string | null; recall: { reason: string } | null } = { expiry: null, recall: null };
	let after: FactPosition | null = null;
	for (;;) {
		const rows = await ledger.facts(lotIndex.name, key, { after, limit: PAGE });
		for (const row of rows) {
			const f = row.value as unknown as LotFact;
			switch (f.t) {
				case 'receive':
					known.expiry ??= f.expiry;
					break;
				case 'recall':
					known.recall ??= { reason: f.reason };
					break;
				case 'administer':
					administrations.push({
						block: row.block,
						index: f.index,
						patient: f.patient,
						clinic: clinicOf(state, f.by),
						author: f.by,
						time: f.time,
						kind: f.kind,
						qty: f.qty,
						serial: f.serial,
						encounter: f.encounter,
						refused: lotProblem(known, lot, f.time)
					});
					break;
				case 'contact':
					contacts.set(f.patient, { status: f.status, note: f.note, block: row.block, time: f.time, by: f.by });
					break;
			}
		}
		if (rows.length < PAGE) break;
		const last = rows[rows.length - 1]!;
		after = factPosition(last);
	}
	return { administrations, contacts };
}

/**
 * Everyone who received the lot (with their contact status after its recall) and
 * everywhere it still is: the lot's rows in the recall index and lookups in the supply
 * fold's stock (`state`: a view holding the lot's page, pages.ts `readSupply`), never a
 * scan of the ledger.
 */
export async function recallTrace(ledger: FactSource, state: SupplyView, gtin: string, lot: string): Promise<RecallTrace> {
	const { administrations, contacts } = await lotHistory(ledger, state, gtin, lot);
	const byPatient = new Map<string, AdministrationRecord[]>();
	for (const a of administrations) {
		const list = byPatient.get(a.patient);
		if (list) list.push(a);
		else byPatient.set(a.patient, [a]);
	}
	const patients = [...byPatient.entries()].map(([patient, list]) => ({
		patient,
		administrations: list,
		status: contacts.get(patient)?.status ?? 'pending',
		contact: contacts.get(patient) ?? null
	}));
	return { administrations, patients, ...lotWhereabouts(state, gtin, lot) };
}
