/**
 * Every version of every record, kept in the store by key (core index-fold.ts), not in
 * memory: a clinic network's records grow for as long as it lives (issue 19). Three index
 * folds hold the same `record.put` metadata (ciphertext stays in its block), a block's puts
 * under one key in one row:
 * - `record-versions`, under the record id: what a record is, read when one record is
 *   opened, amended or served by id;
 * - `patient-records`, under the patient key each put names: a patient's chart and list of
 *   records in one range read;
 * - `patient-demographics`, the puts of Patient records (category demographics) twice:
 *   under one key for every patient (what the registry reads to name them) and under the
 *   patient's key (a Patient served by id).
 *
 * A record belongs to the patient and category its id commits to (`salt`); a record
 * written before ids were commitments, to those of its first version in ledger order.
 * Against a committed binding an uncommitted version naming others is void; against an
 * uncommitted one it is kept aside (`contested`) until a committed version decides
 * ({@link recordEntry}). Rows are in ledger order whatever order their blocks arrived in,
 * so every reader below answers the same on every node (docs/privacy.md).
 */
import { toHex, type Block, type CborValue, type Fact, type FactRow, type IndexFold, type Ledger, type Tx } from '$lib/core/index.js';
import { CATEGORIES, type Category } from '../privacy/envelope.js';
import { compareVersions, type ContestedVersion, type RecordEntry, type RecordVersion } from './fold.js';

/** What one `record.put` says (no absent fields). */
interface PutValue {
	readonly rid: string;
	readonly patient: string;
	readonly category: Category;
	/** '' for a put without a salt (written before record ids were commitments). */
	readonly salt: string;
	readonly index: number;
	readonly author: string;
	readonly time: number;
	readonly kid: string;
	readonly epoch: number;
	/** '' for a first version. */
	readonly prev: string;
	readonly size: number;
}

/** A version and what it names, as read back from a row. */
export interface RecordClaim extends ContestedVersion {
	readonly rid: string;
	readonly salt: string | undefined;
}

export const RECORD_VERSIONS = 'record-versions';
export const PATIENT_RECORDS = 'patient-records';
export const PATIENT_DEMOGRAPHICS = 'patient-demographics';
/** The key of {@link PATIENT_DEMOGRAPHICS} under which every patient's rows are (patient keys are hex). */
const ALL = 'all';
/** Rows read per store read. */
const PAGE = 2000;

const hex = (v: CborValue | undefined) => toHex(v as Uint8Array);

function putValue(block: Block, tx: Tx, index: number): PutValue {
	return {
		rid: hex(tx.rid),
		patient: hex(tx.patient),
		category: tx.category as Category,
		salt: tx.salt instanceof Uint8Array ? toHex(tx.salt) : '',
		index,
		author: block.author,
		time: block.time,
		kid: hex(tx.kid),
		epoch: tx.epoch as number,
		prev: tx.prev instanceof Uint8Array ? toHex(tx.prev) : '',
		size: (tx.ct as Uint8Array).length
	};
}

function puts(block: Block): PutValue[] {
	const out: PutValue[] = [];
	block.txs.forEach((tx, index) => {
		// The rule refuses a put of any other category; checked again here, as no row field may hold a space.
		if (tx.t === 'record.put' && (CATEGORIES as readonly unknown[]).includes(tx.category)) out.push(putValue(block, tx, index));
	});
	return out;
}

/**
 * A row's value: each put the block makes under the row's key, one line each, its fields
 * separated by spaces (no field holds a space or a newline: hex, integers, category names),
 * a field equal to the same field of the line before it left empty. A chart reads every
 * row of its patient: one row per block and key, not per put, since IndexedDB hands back
 * about 20,000 rows a second (measured in Chromium here: 100,000 rows of one key took
 * 5.5 s) and an import writes 800 puts of one patient to a block; and each line as short
 * as it can be, since the bytes are what is left (126 rows of 230 KB, a chart of 100,000
 * records, took 400 ms to read; the patient, author, time, data key, epoch and category
 * are mostly those of the line before).
 */
const fields = (p: PutValue): (string | number)[] => [
	p.rid,
	p.patient,
	p.category,
	p.salt || '-',
	p.index,
	p.author,
	p.time,
	p.kid,
	p.epoch,
	p.prev || '-',
	p.size
];

/** The lines of `puts`, in order, each field the line before holds too left empty. */
function lines(puts: readonly PutValue[]): string {
	let before: (string | number)[] = [];
	return puts
		.map((p) => {
			const now = fields(p);
			const text = now.map((v, i) => (v === before[i] ? '' : v)).join(' ');
			before = now;
			return text;
		})
		.join('\n');
}

/** One fact per key `keysOf` gives a put, holding that key's puts of the block in transaction order. */
function grouped(block: Block, keysOf: (p: PutValue) => readonly string[]): Fact[] {
	const byKey = new Map<string, PutValue[]>();
	for (const p of puts(block))
		for (const key of keysOf(p)) {
			const list = byKey.get(key);
			if (list) list.push(p);
			else byKey.set(key, [p]);
		}
	return [...byKey].map(([key, list]) => [key, lines(list)]);
}

// Versions: 2, a row's value one string, not an object; 3, one row per block and key, not per put;
// 4, a field equal to the line before's left empty.
export const recordVersionsIndex: IndexFold = {
	name: RECORD_VERSIONS,
	version: 4,
	facts: (block) => grouped(block, (p) => [p.rid])
};

export const patientRecordsIndex: IndexFold = {
	name: PATIENT_RECORDS,
	version: 4,
	facts: (block) => grouped(block, (p) => [p.patient])
};

export const patientDemographicsIndex: IndexFold = {
	name: PATIENT_DEMOGRAPHICS,
	version: 4,
	facts: (block) => grouped(block, (p) => (p.category === 'demographics' ? [ALL, p.patient] : []))
};

/** The integer written at `from` in `text` (digits, perhaps a sign), read without cutting the text. */
export function integer(text: string, from: number): number {
	let at = from;
	const negative = text.charCodeAt(at) === 45;
	if (negative) at++;
	let value = 0;
	for (let c = text.charCodeAt(at); c >= 48 && c <= 57; c = text.charCodeAt(++at)) value = value * 10 + (c - 48);
	return negative ? -value : value;
}

/**
 * The claims a row of any of the three folds holds, in transaction order. A chart reads
 * every claim of its patient (100,000 for a large one): each line is cut by hand, numbers
 * read digit by digit, and a field left empty is the very value of the line before (the
 * patient, an author, a data key: one string, not a copy each).
 */
export function claimsOfRow(row: FactRow): RecordClaim[] {
	const text = row.value as string;
	const out: RecordClaim[] = [];
	/** Each column's value on the line before. */
	const last: (string | number)[] = [];
	let at = 0;
	const string = (column: number): string => {
		const start = at;
		const end = text.indexOf(' ', start);
		at = end + 1;
		return end === start ? (last[column] as string) : ((last[column] = text.slice(start, end)) as string);
	};
	/** `column`'s integer, up to a space, the line's end or the text's. */
	const number = (column: number): number => {
		const start = at;
		const c = text.charCodeAt(start);
		if (c === 32 || c === 10 || Number.isNaN(c)) {
			at++;
			return last[column] as number;
		}
		while (at < text.length && text.charCodeAt(at) !== 32 && text.charCodeAt(at) !== 10) at++;
		at++;
		return (last[column] = integer(text, start));
	};
	while (at < text.length) {
		const rid = string(0);
		const patient = string(1);
		const category = string(2) as Category;
		const salt = string(3);
		const index = number(4);
		const author = string(5);
		const time = number(6);
		const kid = string(7);
		const epoch = number(8);
		const prev = string(9);
		const size = number(10);
		const version: RecordVersion = {
			block: row.block,
			clock: row.clock,
			index,
			author,
			time,
			kid,
			epoch,
			prev: prev === '-' ? null : prev,
			size
		};
		out.push({ rid, patient, category, salt: salt === '-' ? undefined : salt, version });
	}
	return out;
}

/** The claims `rows` of any of the three folds hold, in their order. */
export function claimsOfRows(rows: readonly FactRow[]): RecordClaim[] {
	const out: RecordClaim[] = [];
	for (const row of rows) for (const claim of claimsOfRow(row)) out.push(claim);
	return out;
}

/**
 * What record `claims` (every claim to one record id, any order) make: bound by a committed
 * claim if there is one (uncommitted ones naming others are void), else by the first claim
 * in ledger order (others kept aside as `contested`). Undefined for no claims.
 */
export function recordEntry(claims: readonly RecordClaim[]): RecordEntry | undefined {
	const ordered = [...claims].sort((a, b) => compareVersions(a.version, b.version));
	const committed = ordered.find((c) => c.salt !== undefined);
	const binding = committed ?? ordered[0];
	if (!binding) return undefined;
	const bound = (c: RecordClaim) => c.patient === binding.patient && c.category === binding.category;
	const contested = committed ? [] : ordered.filter((c) => !bound(c));
	return {
		patient: binding.patient,
		category: binding.category,
		...(committed ? { salt: committed.salt! } : {}),
		versions: ordered.filter(bound).map((c) => c.version),
		...(contested.length > 0 ? { contested: contested.map(({ patient, category, version }) => ({ patient, category, version })) } : {})
	};
}

/** What the readers below need of a ledger. */
export type FactReader = Pick<Ledger, 'facts' | 'factsOfKeys' | 'factKeys'>;

/** Every row of `key` in `fold`, in ledger order, a page at a time. */
export async function allRows(ledger: FactReader, fold: string, key: string): Promise<FactRow[]> {
	const rows: FactRow[] = [];
	for (;;) {
		const last = rows.at(-1);
		const page = await ledger.facts(fold, key, { after: last ? [last.clock, last.block, last.n] : null, limit: PAGE });
		for (const row of page) rows.push(row);
		if (page.length < PAGE) return rows;
	}
}

/** Record `rid` as every claim to it makes it, or undefined when nothing names it. */
export async function readRecord(ledger: FactReader, rid: string): Promise<RecordEntry | undefined> {
	return (await readRecords(ledger, [rid])).get(rid);
}

/** Record ids whose claims are read together in one store read. */
const KEYS_PER_READ = 5000;

/** Records `rids` as every claim to each makes it (absent: nothing names it), thousands of ids to a store read. */
export async function readRecords(ledger: FactReader, rids: readonly string[]): Promise<Map<string, RecordEntry>> {
	const out = new Map<string, RecordEntry>();
	for (let i = 0; i < rids.length; i += KEYS_PER_READ) {
		const chunk = rids.slice(i, i + KEYS_PER_READ);
		const rows = await ledger.factsOfKeys(RECORD_VERSIONS, chunk);
		chunk.forEach((rid, n) => {
			const entry = recordEntry(claimsOfRows(rows[n]!));
			if (entry) out.set(rid, entry);
		});
	}
	return out;
}

/** `claims` by the record id they claim. */
function byRecord(claims: readonly RecordClaim[]): Map<string, RecordClaim[]> {
	const groups = new Map<string, RecordClaim[]>();
	for (const c of claims) {
		const list = groups.get(c.rid);
		if (list) list.push(c);
		else groups.set(c.rid, [c]);
	}
	return groups;
}

/** The records among `groups` with no committed claim: only all their claims, read by id, decide them. */
const uncommitted = (groups: Map<string, RecordClaim[]>) =>
	[...groups].filter(([, mine]) => !mine.some((c) => c.salt !== undefined)).map(([rid]) => rid);

/**
 * The records bound to `patient` among `groups` (claims naming the patient, by record),
 * ordered by each record's first version in ledger order. A record with a committed claim
 * among them is bound to the patient (two committed claims cannot disagree); any other
 * (written before record ids were commitments) is as `read` (all its claims) makes it.
 */
function bound(patient: string, groups: Map<string, RecordClaim[]>, read: Map<string, RecordEntry>): [string, RecordEntry][] {
	const out: [string, RecordEntry][] = [];
	for (const [rid, mine] of groups) {
		const entry = mine.some((c) => c.salt !== undefined) ? recordEntry(mine) : read.get(rid);
		if (entry && entry.patient === patient) out.push([rid, entry]);
	}
	return out.sort((a, b) => compareVersions(a[1].versions[0]!, b[1].versions[0]!));
}

async function boundRecords(ledger: FactReader, patient: string, claims: readonly RecordClaim[]): Promise<[string, RecordEntry][]> {
	const groups = byRecord(claims);
	return bound(patient, groups, await readRecords(ledger, uncommitted(groups)));
}

/** Every patient any record names, in key order, a page at a time. */
export async function* recordPatients(ledger: FactReader): AsyncGenerator<string> {
	let after: string | null = null;
	for (;;) {
		const keys = await ledger.factKeys(PATIENT_RECORDS, after, PAGE);
		yield* keys;
		if (keys.length < PAGE) return;
		after = keys.at(-1)!;
	}
}

/** `patient`'s Patient records (bound to the patient, category demographics), by first version in ledger order. */
export async function patientDemographics(ledger: FactReader, patient: string): Promise<[string, RecordEntry][]> {
	const claims = claimsOfRows(await allRows(ledger, PATIENT_DEMOGRAPHICS, patient));
	return (await boundRecords(ledger, patient, claims)).filter(([, e]) => e.category === 'demographics');
}

/** Every patient's Patient records (those bound to the patient), by patient, from one key's rows. */
export async function demographicRecords(ledger: FactReader): Promise<Map<string, [string, RecordEntry][]>> {
	const byPatient = new Map<string, RecordClaim[]>();
	for (const claim of claimsOfRows(await allRows(ledger, PATIENT_DEMOGRAPHICS, ALL))) {
		const list = byPatient.get(claim.patient);
		if (list) list.push(claim);
		else byPatient.set(claim.patient, [claim]);
	}
	const groups = new Map([...byPatient].map(([patient, claims]) => [patient, byRecord(claims)]));
	// The uncommitted records of every patient in one go, thousands of ids to a store read.
	const read = await readRecords(ledger, [...groups.values()].flatMap(uncommitted));
	const out = new Map<string, [string, RecordEntry][]>();
	for (const [patient, records] of groups) {
		// A record bound to another category is not one of the patient's Patient records.
		const found = bound(patient, records, read).filter(([, e]) => e.category === 'demographics');
		if (found.length > 0) out.set(patient, found);
	}
	return out;
}
