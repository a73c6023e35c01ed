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
 * separated by spaces (no field holds a space or a newline: hex, integers, category names).
 * A chart reads every row of its patient: one row per block and key, not per put, since
 * IndexedDB hands back about 20,000 rows a second (measured in Chromium here: 100,000 rows
 * of one key took 5.5 s) and an import writes 800 puts of one patient to a block.
 */
const line = (p: PutValue) =>
	[p.rid, p.patient, p.category, p.salt || '-', p.index, p.author, p.time, p.kid, p.epoch, p.prev || '-', p.size].join(' ');

/** One fact per key `keysOf` gives a put, holding that key's puts of the block in transaction order. */
function grouped(block: Block, keysOf: (p: PutValue) => readonly string[]): Fact[] {
	const byKey = new Map<string, string[]>();
	for (const p of puts(block))
		for (const key of keysOf(p)) {
			const lines = byKey.get(key);
			if (lines) lines.push(line(p));
			else byKey.set(key, [line(p)]);
		}
	return [...byKey].map(([key, lines]) => [key, lines.join('\n')]);
}

// Versions: 2, a row's value one string, not an object; 3, one row per block and key, not per put.
export const recordVersionsIndex: IndexFold = {
	name: RECORD_VERSIONS,
	version: 3,
	facts: (block) => grouped(block, (p) => [p.rid])
};

export const patientRecordsIndex: IndexFold = {
	name: PATIENT_RECORDS,
	version: 3,
	facts: (block) => grouped(block, (p) => [p.patient])
};

export const patientDemographicsIndex: IndexFold = {
	name: PATIENT_DEMOGRAPHICS,
	version: 3,
	facts: (block) => grouped(block, (p) => (p.category === 'demographics' ? [ALL, p.patient] : []))
};

/**
 * Reads rows' lines into claims. A chart reads every claim of its patient (100,000 for a
 * large one) and keeps them: each line is cut by hand, numbers read digit by digit, and a
 * field equal to the one before it in its column (the patient, an author, a data key, a
 * category) is that same string, not a new one: half of a large chart's open was the
 * garbage collector, copying what splitting lines made.
 */
export function claimReader(): { row(row: FactRow): RecordClaim[]; line(row: FactRow, offset: number): RecordClaim } {
	let text = '';
	let at = 0;
	/** The last string of each column, reused while the next line holds the same. */
	const last: string[] = [];
	/** The field at the cursor (up to a space or the line's end); `column` >= 0: reused from the line before when equal. */
	const string = (column: number, end = text.indexOf(' ', at)): string => {
		const start = at;
		at = end + 1;
		if (column < 0) return text.slice(start, end);
		const before = last[column];
		if (before !== undefined && before.length === end - start && text.startsWith(before, start)) return before;
		return (last[column] = text.slice(start, end));
	};
	/** The integer at the cursor (digits and perhaps a sign, up to a space or the line's end). */
	const number = (): number => {
		const negative = text.charCodeAt(at) === 45;
		if (negative) at++;
		let value = 0;
		for (let c = text.charCodeAt(at); c >= 48 && c <= 57; c = text.charCodeAt(++at)) value = value * 10 + (c - 48);
		at++;
		return negative ? -value : value;
	};
	/** The claim of the line at the cursor. */
	const claim = (row: FactRow): RecordClaim => {
		const rid = string(-1);
		const patient = string(0);
		const category = string(1) as Category;
		const salt = string(-1);
		const index = number();
		const author = string(2);
		const time = number();
		const kid = string(3);
		const epoch = number();
		const prev = string(4);
		const size = number();
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
		return { rid, patient, category, salt: salt === '-' ? undefined : salt, version };
	};
	return {
		row(row) {
			text = row.value as string;
			at = 0;
			const out: RecordClaim[] = [];
			while (at < text.length) out.push(claim(row));
			return out;
		},
		line(row, offset) {
			text = row.value as string;
			at = offset;
			return claim(row);
		}
	};
}

/** The claims `rows` of any of the three folds hold, in their order. */
export function claimsOfRows(rows: readonly FactRow[]): RecordClaim[] {
	const read = claimReader();
	const out: RecordClaim[] = [];
	for (const row of rows) for (const claim of read.row(row)) out.push(claim);
	return out;
}

/**
 * What record `claims` (every claim to one record id, any order) make: bound by a committed
 * claim if there is one (uncommitted ones naming others are void), else by the first claim
 * in ledger order (others kept aside as `contested`). Undefined for no claims.
 */
export function recordEntry(claims: readonly RecordClaim[]): RecordEntry | undefined {
	const only = claims.length === 1 ? claims[0]! : undefined;
	// Most records have one version (every imported one): their entry is that claim's.
	if (only) return { patient: only.patient, category: only.category, ...(only.salt ? { salt: only.salt } : {}), versions: [only.version] };
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
