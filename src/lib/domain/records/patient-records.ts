/**
 * A patient's records as a chart reads them from the `patient-records` index
 * (record-index.ts): every record counted and placed, but each one's entry made only
 * when it is read. A chart of 100,000 records shows 50 first; making an entry (claim,
 * version, list) for every record it holds before showing them took most of a large
 * chart's open, half of it in the garbage collector (issue 19).
 *
 * A first pass over the patient's rows reads of each line only its record id, category,
 * whether its id is a commitment, its index in the block and its ledger time, and where
 * the line is. A record with one committed claim among the rows (every record written or
 * imported since ids are commitments, with no amendment) is that claim: its entry is read
 * from its line when asked for. Any other record (amended, or an uncommitted id that only
 * all its claims decide) gets its entry at once, exactly as record-index.ts makes it.
 */
import type { FactRow } from '$lib/core/index.js';
import { CATEGORIES, type Category } from '../privacy/envelope.js';
import { compareVersions, type RecordEntry } from './fold.js';
import { allRows, claimReader, PATIENT_RECORDS, readRecords, recordEntry, type FactReader, type RecordClaim } from './record-index.js';

/** The integer written at `from` in `text` (digits, perhaps a sign). */
function integer(text: string, from: number): number {
	let at = from;
	const negative = text.charCodeAt(at) === 45;
	if (negative) at++;
	let value = 0;
	for (let c = text.charCodeAt(at); c >= 48 && c <= 57; c = text.charCodeAt(++at)) value = value * 10 + (c - 48);
	return negative ? -value : value;
}

/** The category written from `from` to `to` in `text`, as the constant string (no copy). */
function category(text: string, from: number, to: number): Category {
	for (const c of CATEGORIES) if (c.length === to - from && text.startsWith(c, from)) return c;
	return text.slice(from, to) as Category; // the index keeps only known categories; read as written
}

export class PatientRecords {
	/** The patient's records. */
	readonly length: number;
	readonly #rows: readonly FactRow[];
	readonly #rids: string[];
	readonly #categories: Category[];
	/** The ledger time of the record's one claim, NaN for a record whose entry is made at once. */
	readonly #times: number[];
	readonly #rowOf: number[];
	readonly #offsets: number[];
	readonly #entries: (RecordEntry | undefined)[];
	readonly #read = claimReader();

	private constructor(
		rows: readonly FactRow[],
		columns: {
			rids: string[];
			categories: Category[];
			times: number[];
			rowOf: number[];
			offsets: number[];
			entries: (RecordEntry | undefined)[];
		}
	) {
		this.#rows = rows;
		this.#rids = columns.rids;
		this.#categories = columns.categories;
		this.#times = columns.times;
		this.#rowOf = columns.rowOf;
		this.#offsets = columns.offsets;
		this.#entries = columns.entries;
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
		const offsets: number[] = [];
		const indexes: number[] = [];
		const committed: boolean[] = [];
		/** Every line of a record named more than once: [row, offset] pairs. */
		const repeated = new Map<number, number[]>();
		rows.forEach((row, r) => {
			// A line: rid patient category salt index author time kid epoch prev size (record-index.ts).
			const text = row.value as string;
			let at = 0;
			while (at < text.length) {
				const start = at;
				const ridEnd = text.indexOf(' ', start);
				const patientEnd = text.indexOf(' ', ridEnd + 1);
				const categoryEnd = text.indexOf(' ', patientEnd + 1);
				const saltEnd = text.indexOf(' ', categoryEnd + 1);
				const indexEnd = text.indexOf(' ', saltEnd + 1);
				const authorEnd = text.indexOf(' ', indexEnd + 1);
				const end = text.indexOf('\n', authorEnd + 1);
				at = end < 0 ? text.length : end + 1;
				const rid = text.slice(start, ridEnd);
				const slot = slots.get(rid);
				if (slot !== undefined) {
					const lines = repeated.get(slot) ?? [rowOf[slot]!, offsets[slot]!];
					lines.push(r, start);
					repeated.set(slot, lines);
					continue;
				}
				slots.set(rid, rids.length);
				rids.push(rid);
				categories.push(category(text, patientEnd + 1, categoryEnd));
				committed.push(saltEnd - categoryEnd !== 2 || text.charCodeAt(categoryEnd + 1) !== 45);
				indexes.push(integer(text, saltEnd + 1));
				times.push(integer(text, authorEnd + 1));
				rowOf.push(r);
				offsets.push(start);
			}
		});
		// Records the first pass cannot settle: named more than once, or by an uncommitted id.
		const claims = new Map<number, RecordClaim[]>();
		const read = claimReader();
		for (const [slot, lines] of repeated) {
			const mine: RecordClaim[] = [];
			for (let i = 0; i < lines.length; i += 2) mine.push(read.line(rows[lines[i]!]!, lines[i + 1]!));
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
		const entries = new Array<RecordEntry | undefined>(rids.length);
		if (made.size === 0) return new PatientRecords(rows, { rids, categories, times, rowOf, offsets, entries });
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
			offsets: pick(offsets),
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
		const claim = this.#read.line(this.#rows[this.#rowOf[i]!]!, this.#offsets[i]!);
		return recordEntry([claim])!;
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
