/**
 * A patient's records as a chart reads them from the `patient-records` index
 * (record-index.ts): every record counted and placed, but each one's entry made only
 * when it is read. A chart of 100,000 records shows 50 first; making an entry (claim,
 * version, list) for every record it holds before showing them took most of a large
 * chart's open, half of it in the garbage collector (issue 19).
 *
 * A first pass over the patient's rows reads of each line only its record id, category,
 * whether its id is a commitment, its index in the block and its ledger time, and where
 * the line is (its row, its place in the row). A record with one committed claim among the
 * rows (every record written or imported since ids are commitments, with no amendment) is
 * that claim: its entry is made from its row when asked for (a line is read with the lines
 * before it: empty fields repeat them). Any other record (amended, or an uncommitted id that
 * only all its claims decide) gets its entry at once, exactly as record-index.ts makes it.
 */
import type { FactRow } from '$lib/core/index.js';
import { CATEGORIES, type Category } from '../privacy/envelope.js';
import { compareVersions, type RecordEntry } from './fold.js';
import {
	allRows,
	claimsOfRow,
	integer,
	PATIENT_RECORDS,
	readRecords,
	recordEntry,
	type FactReader,
	type RecordClaim
} from './record-index.js';

/** The category written from `from` to `to` in `text`, as the constant string (no copy). */
function category(text: string, from: number, to: number): Category {
	for (const c of CATEGORIES) if (c.length === to - from && text.startsWith(c, from)) return c;
	return text.slice(from, to) as Category; // the index keeps only known categories; read as written
}

/** Rows parsed and kept at once. */
const ROWS_KEPT = 8;

/**
 * The claims of `rows[r]`, the last {@link ROWS_KEPT} rows asked for kept: a line is only
 * read with the lines before it, and a chart or an export reads a row's records together
 * (they are next to each other in its order).
 */
function rowClaims(rows: readonly FactRow[]): (r: number) => RecordClaim[] {
	const kept = new Map<number, RecordClaim[]>();
	return (r) => {
		let claims = kept.get(r);
		if (!claims) {
			if (kept.size >= ROWS_KEPT) kept.delete(kept.keys().next().value!);
			kept.set(r, (claims = claimsOfRow(rows[r]!)));
		}
		return claims;
	};
}

export class PatientRecords {
	/** The patient's records. */
	readonly length: number;
	readonly #rids: string[];
	readonly #categories: Category[];
	/** The ledger time of the record's one claim, NaN for a record whose entry is made at once. */
	readonly #times: number[];
	readonly #rowOf: number[];
	/** The record's line in its row. */
	readonly #lines: number[];
	readonly #entries: (RecordEntry | undefined)[];
	readonly #claims: (row: number) => RecordClaim[];

	private constructor(
		rows: readonly FactRow[],
		columns: {
			rids: string[];
			categories: Category[];
			times: number[];
			rowOf: number[];
			lines: number[];
			entries: (RecordEntry | undefined)[];
		}
	) {
		this.#rids = columns.rids;
		this.#categories = columns.categories;
		this.#times = columns.times;
		this.#rowOf = columns.rowOf;
		this.#lines = columns.lines;
		this.#entries = columns.entries;
		this.#claims = rowClaims(rows);
		this.length = columns.rids.length;
	}

	/** `patient`'s records, ordered by each record's first version in ledger order (every node the same). */
	static async read(ledger: FactReader, patient: string): Promise<PatientRecords> {
		const rows = await allRows(ledger, PATIENT_RECORDS, patient);
		const slots = new Map<string, number>();
		const rids: string[] = [];
		const categories: Category[] = [];
		const times: number[] = [];
		const rowOf: number[] = [];
		const lineOf: number[] = [];
		const indexes: number[] = [];
		const committed: boolean[] = [];
		/** Every line of a record named more than once: [row, line] pairs. */
		const repeated = new Map<number, number[]>();
		rows.forEach((row, r) => {
			// A line: rid patient category salt index author time kid epoch prev size, a field
			// equal to the line before's left empty (record-index.ts).
			const text = row.value as string;
			let at = 0;
			let line = 0;
			let lastRid = '';
			let lastCategory: Category | undefined;
			let lastCommitted = false;
			let lastIndex = 0;
			let lastTime = 0;
			for (; at < text.length; line++) {
				const start = at;
				const ridEnd = text.indexOf(' ', start);
				const patientEnd = text.indexOf(' ', ridEnd + 1);
				const categoryEnd = text.indexOf(' ', patientEnd + 1);
				const saltEnd = text.indexOf(' ', categoryEnd + 1);
				const indexEnd = text.indexOf(' ', saltEnd + 1);
				const authorEnd = text.indexOf(' ', indexEnd + 1);
				const timeEnd = text.indexOf(' ', authorEnd + 1);
				const end = text.indexOf('\n', timeEnd + 1);
				at = end < 0 ? text.length : end + 1;
				if (categoryEnd > patientEnd + 1) lastCategory = category(text, patientEnd + 1, categoryEnd);
				if (saltEnd > categoryEnd + 1) lastCommitted = saltEnd - categoryEnd !== 2 || text.charCodeAt(categoryEnd + 1) !== 45;
				if (indexEnd > saltEnd + 1) lastIndex = integer(text, saltEnd + 1);
				if (timeEnd > authorEnd + 1) lastTime = integer(text, authorEnd + 1);
				if (ridEnd > start) lastRid = text.slice(start, ridEnd);
				const rid = lastRid;
				const slot = slots.get(rid);
				if (slot !== undefined) {
					const lines = repeated.get(slot) ?? [rowOf[slot]!, lineOf[slot]!];
					lines.push(r, line);
					repeated.set(slot, lines);
					continue;
				}
				slots.set(rid, rids.length);
				rids.push(rid);
				categories.push(lastCategory!);
				committed.push(lastCommitted);
				indexes.push(lastIndex);
				times.push(lastTime);
				rowOf.push(r);
				lineOf.push(line);
			}
		});
		// Records the first pass cannot settle: named more than once, or by an uncommitted id.
		const claims = new Map<number, RecordClaim[]>();
		const claimsOf = rowClaims(rows);
		for (const [slot, lines] of repeated) {
			const mine: RecordClaim[] = [];
			for (let i = 0; i < lines.length; i += 2) mine.push(claimsOf(lines[i]!)[lines[i + 1]!]!);
			claims.set(slot, mine);
		}
		const unsettled: number[] = [];
		for (let slot = 0; slot < rids.length; slot++)
			if (!(claims.get(slot)?.some((c) => c.salt !== undefined) ?? committed[slot])) unsettled.push(slot);
		// A record with a committed claim among the patient's is the patient's; any other is as all its claims, read by id, make it.
		const byId = await readRecords(
			ledger,
			unsettled.map((slot) => rids[slot]!)
		);
		const made = new Map<number, RecordEntry | undefined>();
		for (const [slot, mine] of claims) made.set(slot, recordEntry(mine));
		for (const slot of unsettled) made.set(slot, byId.get(rids[slot]!));
		if (made.size === 0) return new PatientRecords(rows, { rids, categories, times, rowOf, lines: lineOf, entries: [] });
		const order = rids.map((_, slot) => slot).filter((slot) => !made.has(slot) || made.get(slot)?.patient === patient);
		// Where each record's first version is in the ledger: the order of first lines, but a made entry's first version may be elsewhere.
		const first = (slot: number) =>
			made.get(slot)?.versions[0] ?? { clock: rows[rowOf[slot]!]!.clock, block: rows[rowOf[slot]!]!.block, index: indexes[slot]! };
		order.sort((a, b) => compareVersions(first(a), first(b)));
		const pick = <T>(column: T[]) => order.map((slot) => column[slot]!);
		return new PatientRecords(rows, {
			rids: pick(rids),
			categories: order.map((slot) => made.get(slot)?.category ?? categories[slot]!),
			times: order.map((slot) => (made.has(slot) ? NaN : times[slot]!)),
			rowOf: pick(rowOf),
			lines: pick(lineOf),
			entries: order.map((slot) => made.get(slot))
		});
	}

	rid(i: number): string {
		return this.#rids[i]!;
	}

	/** The category record `i` is bound to. */
	category(i: number): Category {
		return this.#categories[i]!;
	}

	/** The ledger time of record `i`'s only version, when it has one claim; undefined otherwise (see its entry). */
	onlyTime(i: number): number | undefined {
		const time = this.#times[i]!;
		return Number.isNaN(time) ? undefined : time;
	}

	/** Record `i`'s entry, as record-index.ts `recordEntry` makes it of every claim to it. */
	entry(i: number): RecordEntry {
		const made = this.#entries[i];
		if (made) return made;
		return recordEntry([this.#claims(this.#rowOf[i]!)[this.#lines[i]!]!])!;
	}

	/** Every record with its entry, in order. */
	entries(): [string, RecordEntry][] {
		return this.#rids.map((rid, i) => [rid, this.entry(i)]);
	}
}

/** `patient`'s records, each with its entry, ordered by first version in ledger order. */
export async function patientRecords(ledger: FactReader, patient: string): Promise<[string, RecordEntry][]> {
	return (await PatientRecords.read(ledger, patient)).entries();
}
