/**
 * The patients' audit trails as an index fold (core index-fold.ts): who wrote, shared keys
 * to, requested, broke the glass on, read, exported or printed each patient's data, one row
 * per event under the patient's id, in ledger order. Kept in the store, not in memory: a
 * trail grows with every logged read for as long as the network lives, and the patient's
 * view reads it a page at a time, newest first.
 *
 * Each event follows from its block alone. Two requests under one id are both kept as
 * rows; readers keep the first in ledger order ({@link auditPage}), found under the key
 * `request/<id>` (patient keys are hex, so the two never meet).
 *
 * A block's record writes are one event per patient (version 2): an import puts 800 records
 * in a block, and a row per record was half of the rows its IndexedDB write committed. The
 * event sits where the patient's first write is in the block; one record keeps its id as
 * `subject` (and `detail: 'amended'`), several list theirs in `records`, in block order.
 */
import {
	decodeCanonical,
	toHex,
	type Block,
	type CborValue,
	type Fact,
	type FactRow,
	type IndexFold,
	type Ledger,
	type Tx
} from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';

export type AuditKind = 'grant' | 'revoke' | 'request' | 'break-glass' | 'key-share' | 'read' | 'export' | 'print' | 'write';

export interface AuditEvent {
	readonly kind: AuditKind;
	/** Member whose node wrote the block (for reads: who read). */
	readonly by: string;
	readonly block: string;
	/** When it happened (the block's time, or the logged read time). */
	readonly at: number;
	readonly categories: readonly string[];
	/** Grantee, key reader, request or record id: what the event is about. */
	readonly subject?: string;
	readonly detail?: string;
	/** A write of several records: their ids, in block order (`subject` is then absent). */
	readonly records?: readonly string[];
}

const hex = (v: CborValue | undefined) => toHex(v as Uint8Array);
const requestKey = (id: string) => `request/${id}`;

/** An event as a row value: no absent fields (CBOR has no undefined). */
function event(patient: string, e: AuditEvent): Fact {
	const value: Record<string, CborValue> = { kind: e.kind, by: e.by, block: e.block, at: e.at, categories: [...e.categories] };
	if (e.subject !== undefined) value.subject = e.subject;
	if (e.detail !== undefined) value.detail = e.detail;
	if (e.records !== undefined) value.records = [...e.records];
	return [patient, value];
}

function grantFields(tx: Tx): { id: string; patient: string; grantee: string; categories: string[]; purpose: string } | null {
	try {
		const v = decodeCanonical(tx.grant as Uint8Array) as Record<string, CborValue>;
		return {
			id: v.id as string,
			patient: v.patient as string,
			grantee: v.grantee as string,
			categories: [...(v.categories as string[])],
			purpose: v.purpose as string
		};
	} catch {
		return null;
	}
}

function txEvents(block: Block, tx: Tx): Fact[] {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	switch (tx.t) {
		case 'key.wrap': {
			const patient = hex(tx.patient);
			const because =
				tx.grant instanceof Uint8Array
					? `grant ${toHex(tx.grant)}`
					: tx.breakglass instanceof Uint8Array
						? `emergency access ${toHex(tx.breakglass)}`
						: 'new key';
			const readers = (tx.wraps as Record<string, Uint8Array>[]).map((w) => toHex(w.reader!));
			return readers
				.filter((reader) => reader !== patient && reader !== block.author)
				.map((reader) =>
					event(patient, { ...base, kind: 'key-share', categories: [tx.category as Category], subject: reader, detail: because })
				);
		}
		case 'access.request':
		case 'access.breakglass': {
			const kind = tx.t === 'access.request' ? 'request' : 'break-glass';
			const categories = [...(tx.categories as Category[])];
			const id = hex(tx.id);
			return [event(hex(tx.patient), { ...base, kind, categories, subject: id, detail: tx.reason as string }), [requestKey(id), block.id]];
		}
		case 'access.log':
			return (tx.entries as Record<string, CborValue>[]).map((e) =>
				event(hex(e.patient), {
					kind: e.action as AuditKind,
					by: block.author,
					block: block.id,
					at: e.at as number,
					categories: [e.category as string],
					...(e.rid instanceof Uint8Array ? { subject: toHex(e.rid) } : {})
				})
			);
		case 'consent.revoke':
			return [event(hex(tx.patient), { ...base, kind: 'revoke', categories: [], subject: hex(tx.id) })];
		case 'consent.grant': {
			// The rule checked the grant and its signature; only its public fields are read here.
			const body = grantFields(tx);
			return body
				? [
						event(body.patient, {
							...base,
							kind: 'grant',
							categories: body.categories,
							subject: body.grantee,
							detail: `${body.purpose} · grant ${body.id}`
						})
					]
				: [];
		}
		default:
			return [];
	}
}

/** A patient's record writes in one block. */
interface Writes {
	categories: string[];
	records: string[];
	amended: number;
}

/** The one write event of a patient's `writes` in `block`. */
function writeEvent(block: Block, patient: string, writes: Writes): Fact {
	const base = {
		kind: 'write' as const,
		by: block.author as string,
		block: block.id as string,
		at: block.time,
		categories: writes.categories
	};
	if (writes.records.length === 1)
		return event(patient, { ...base, subject: writes.records[0]!, ...(writes.amended ? { detail: 'amended' } : {}) });
	return event(patient, { ...base, records: writes.records, ...(writes.amended ? { detail: `${writes.amended} amended` } : {}) });
}

/** The block's events in transaction order, a patient's record writes as one event where the first of them is. */
function blockEvents(block: Block): Fact[] {
	const writes = new Map<string, Writes>();
	for (const tx of block.txs) {
		if (tx.t !== 'record.put') continue;
		const patient = hex(tx.patient);
		let w = writes.get(patient);
		if (!w) writes.set(patient, (w = { categories: [], records: [], amended: 0 }));
		if (!w.categories.includes(tx.category as string)) w.categories.push(tx.category as string);
		w.records.push(hex(tx.rid));
		if (tx.prev instanceof Uint8Array) w.amended++;
	}
	const facts: Fact[] = [];
	for (const tx of block.txs) {
		if (tx.t !== 'record.put') facts.push(...txEvents(block, tx));
		else {
			const patient = hex(tx.patient);
			const w = writes.get(patient);
			// The patient's first write in the block: the event of all of them.
			if (w) facts.push(writeEvent(block, patient, w));
			writes.delete(patient);
		}
	}
	return facts;
}

export const auditIndex: IndexFold = {
	name: 'audit',
	version: 2,
	facts: blockEvents
};

/** A page of a patient's trail, newest first, and where the next page starts. */
export interface AuditPage {
	readonly events: AuditEvent[];
	/** Pass back as `before` for the next (older) page; null when this page reached the first event. */
	readonly next: FactRow | null;
}

/**
 * Up to `limit` of `patient`'s events, newest first, before `before` (from the newest).
 * A request or emergency access logged again under an id already used is left out: the
 * first one in ledger order is the one that counts.
 */
export async function auditPage(ledger: Ledger, patient: string, limit = 100, before: FactRow | null = null): Promise<AuditPage> {
	const rows = await ledger.facts(auditIndex.name, patient, {
		after: before ? [before.clock, before.block, before.n] : null,
		limit,
		reverse: true
	});
	const events: AuditEvent[] = [];
	for (const row of rows) {
		const e = row.value as unknown as AuditEvent;
		if (e.kind === 'request' || e.kind === 'break-glass') {
			const [first] = await ledger.facts(auditIndex.name, requestKey(e.subject!), { limit: 1 });
			// The request's own key row follows its event row in the block's facts.
			if (first && (first.block !== row.block || first.n !== row.n + 1)) continue;
		}
		events.push(e);
	}
	return { events, next: rows.length === limit ? rows[rows.length - 1]! : null };
}
