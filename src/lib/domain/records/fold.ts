/**
 * The records fold: an index of what the ledger holds about each patient, built from
 * ciphertext metadata only (every node keeps it, readers or not), and the patient's
 * audit trail. Which data keys exist and for whom they are wrapped (`keys`), every
 * version of every record (`records`, ciphertext stays in its block), records by patient,
 * and per patient the grants, revocations, requests, emergency accesses, key shares and
 * logged reads, in ledger order.
 */
import { decodeCanonical, toHex, type Block, type CborValue, type Fold, type Tx } from '$lib/core/index.js';
import type { Category } from '../privacy/envelope.js';

export interface WrapEntry {
	readonly eph: Uint8Array;
	readonly nonce: Uint8Array;
	readonly wrapped: Uint8Array;
	readonly block: string;
}

export interface KeyEntry {
	readonly patient: string;
	readonly category: Category;
	readonly epoch: number;
	/** Wrapped copies of the key by reader (hex member or patient key); the first wins. */
	readonly readers: Record<string, WrapEntry>;
}

export interface RecordVersion {
	readonly block: string;
	/** Index of the `record.put` in its block. */
	readonly index: number;
	readonly author: string;
	readonly time: number;
	readonly kid: string;
	readonly epoch: number;
	/** Block of the version this one amends. */
	readonly prev: string | null;
	readonly size: number;
}

export interface RecordEntry {
	readonly patient: string;
	readonly category: Category;
	/** In ledger order; the last is current. */
	readonly versions: RecordVersion[];
}

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
}

export interface RecordsState {
	keys: Record<string, KeyEntry>;
	records: Record<string, RecordEntry>;
	patients: Record<string, string[]>;
	audit: Record<string, AuditEvent[]>;
	/** Access requests and emergency accesses by id. */
	requests: Record<string, { kind: 'request' | 'break-glass'; patient: string; by: string; block: string; at: number; categories: Category[]; purpose: string; reason: string }>;
}

const hex = (v: CborValue | undefined) => toHex(v as Uint8Array);

function audit(state: RecordsState, patient: string, event: AuditEvent): void {
	(state.audit[patient] ??= []).push(event);
}

function applyTx(state: RecordsState, block: Block, tx: Tx, index: number): void {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	switch (tx.t) {
		case 'record.put': {
			const rid = hex(tx.rid);
			const patient = hex(tx.patient);
			const category = tx.category as Category;
			const entry = state.records[rid];
			// A record id belongs to the patient and category it was first written for.
			if (entry && (entry.patient !== patient || entry.category !== category)) return;
			const version: RecordVersion = { block: block.id, index, author: block.author, time: block.time, kid: hex(tx.kid), epoch: tx.epoch as number, prev: tx.prev instanceof Uint8Array ? toHex(tx.prev) : null, size: (tx.ct as Uint8Array).length };
			if (entry) entry.versions.push(version);
			else {
				state.records[rid] = { patient, category, versions: [version] };
				(state.patients[patient] ??= []).push(rid);
			}
			audit(state, patient, { ...base, kind: 'write', categories: [category], subject: rid, ...(entry ? { detail: 'amended' } : {}) });
			return;
		}
		case 'key.wrap': {
			const kid = hex(tx.kid);
			const patient = hex(tx.patient);
			const entry = (state.keys[kid] ??= { patient, category: tx.category as Category, epoch: tx.epoch as number, readers: {} });
			// A key id is bound to one patient, category and epoch; a wrap claiming otherwise is ignored.
			if (entry.patient !== patient || entry.category !== tx.category || entry.epoch !== tx.epoch) return;
			const added: string[] = [];
			for (const w of tx.wraps as Record<string, Uint8Array>[]) {
				const reader = toHex(w.reader!);
				if (entry.readers[reader]) continue;
				entry.readers[reader] = { eph: w.eph!, nonce: w.nonce!, wrapped: w.wrapped!, block: block.id };
				added.push(reader);
			}
			const because = tx.grant instanceof Uint8Array ? `grant ${toHex(tx.grant)}` : tx.breakglass instanceof Uint8Array ? `emergency access ${toHex(tx.breakglass)}` : 'new key';
			for (const reader of added) if (reader !== patient && reader !== block.author) audit(state, patient, { ...base, kind: 'key-share', categories: [entry.category], subject: reader, detail: because });
			return;
		}
		case 'access.request':
		case 'access.breakglass': {
			const id = hex(tx.id);
			if (state.requests[id]) return;
			const kind = tx.t === 'access.request' ? 'request' : 'break-glass';
			const patient = hex(tx.patient);
			const categories = [...(tx.categories as Category[])];
			state.requests[id] = { kind, patient, ...base, categories, purpose: kind === 'request' ? (tx.purpose as string) : 'emergency', reason: tx.reason as string };
			audit(state, patient, { ...base, kind, categories, subject: id, detail: tx.reason as string });
			return;
		}
		case 'access.log': {
			for (const e of tx.entries as Record<string, CborValue>[]) {
				const rid = e.rid instanceof Uint8Array ? toHex(e.rid) : undefined;
				audit(state, hex(e.patient), { kind: e.action as AuditKind, by: block.author, block: block.id, at: e.at as number, categories: [e.category as string], ...(rid ? { subject: rid } : {}) });
			}
			return;
		}
		case 'consent.grant':
		case 'consent.revoke':
			auditConsent(state, block, tx);
			return;
	}
}

function auditConsent(state: RecordsState, block: Block, tx: Tx): void {
	const base = { by: block.author as string, block: block.id as string, at: block.time };
	if (tx.t === 'consent.revoke') {
		audit(state, hex(tx.patient), { ...base, kind: 'revoke', categories: [], subject: hex(tx.id) });
		return;
	}
	// The rule checked the grant and its signature; only its public fields are read here.
	const body = grantFields(tx);
	if (body) audit(state, body.patient, { ...base, kind: 'grant', categories: body.categories, subject: body.grantee, detail: `${body.purpose} · grant ${body.id}` });
}

function grantFields(tx: Tx): { id: string; patient: string; grantee: string; categories: string[]; purpose: string } | null {
	try {
		const v = decodeCanonical(tx.grant as Uint8Array) as Record<string, CborValue>;
		return { id: v.id as string, patient: v.patient as string, grantee: v.grantee as string, categories: [...(v.categories as string[])], purpose: v.purpose as string };
	} catch {
		return null;
	}
}

export const recordsFold: Fold<RecordsState> = {
	name: 'records',
	version: 1,
	init: () => ({ keys: {}, records: {}, patients: {}, audit: {}, requests: {} }),
	apply(state, block) {
		block.txs.forEach((tx, index) => applyTx(state, block, tx, index));
		return state;
	},
	encode: (state) => state as unknown as CborValue,
	decode(value) {
		const v = value as unknown as RecordsState;
		// A deep copy: fold state is mutated in place, checkpoints must not share it.
		return {
			keys: Object.fromEntries(Object.entries(v.keys).map(([k, e]) => [k, { ...e, readers: { ...e.readers } }])),
			records: Object.fromEntries(Object.entries(v.records).map(([k, r]) => [k, { ...r, versions: [...r.versions] }])),
			patients: Object.fromEntries(Object.entries(v.patients).map(([k, l]) => [k, [...l]])),
			audit: Object.fromEntries(Object.entries(v.audit).map(([k, l]) => [k, [...l]])),
			requests: { ...v.requests }
		};
	}
};
