/**
 * A patient's chart read a page at a time: the first screen decrypts the records it shows
 * (and the few that tie with them), "Show more" the next ones, never the whole chart up
 * front (a patient may hold 100,000 records).
 *
 * The timeline is ordered newest first by the ledger time of each record's current
 * version, then by when it happened clinically (inside the ciphertext), then block, then
 * record id. Ledger time is known without decrypting, but the current version is only
 * known for sure once the record is read: the chart judges (book.ts `judge`) the newest
 * version by a writer that opens, so a newest version that does not open (damaged, or no
 * key) gives way to an older one, whose time may be earlier or later. So each record gets
 * a bound known from the records fold alone: the latest time any version that can be its
 * current has (versions by writers of the category; all when none is by a writer, where
 * the last is current whatever opens; for a category this node may not read, exactly the
 * current's time, nothing being opened). Records are read in groups of equal bound,
 * highest first, whole groups at a time; a record read is placed by its real key, and the
 * timeline shown is the read records whose time is above the bound of every record not
 * read yet. Those are exactly the first entries of the whole chart in the same order:
 * nothing unread can come before them, and everything tied with them in time was read.
 */
import type { Category } from '../privacy/envelope.js';
import type { ReadEvent, RecordBook, RecordView } from './book.js';
import { clinicalDate } from './fhir.js';
import type { RecordEntry } from './fold.js';
import { PatientRecords } from './patient-records.js';
import { accessBasis, type RecordsView } from './keyring.js';
import { recordWriters, type MayWrite } from './writers.js';

/** Where a record goes in the timeline. */
export interface TimelineKey {
	readonly time: number;
	/** When it happened clinically (ISO text), '' when sealed, damaged or undated. */
	readonly happened: string;
	readonly block: string;
	readonly rid: string;
}

export function timelineKey(record: RecordView): TimelineKey {
	const latest = record.versions.at(-1)!;
	return { time: latest.time, happened: (latest.resource && clinicalDate(latest.resource)) ?? '', block: latest.block, rid: record.rid };
}

/** Newest first: ledger time, clinical date, block, record id (a total order). */
export function compareTimeline(a: TimelineKey, b: TimelineKey): number {
	return (
		b.time - a.time ||
		(a.happened < b.happened ? 1 : a.happened > b.happened ? -1 : 0) ||
		(a.block < b.block ? 1 : a.block > b.block ? -1 : 0) ||
		(a.rid < b.rid ? 1 : a.rid > b.rid ? -1 : 0)
	);
}

/** `records` in timeline order (a new array; keys read once per record). */
export function timelineOrder(records: readonly RecordView[]): RecordView[] {
	return records
		.map((record) => ({ record, key: timelineKey(record) }))
		.sort((a, b) => compareTimeline(a.key, b.key))
		.map((k) => k.record);
}

/** The latest ledger time the current version of `entry` can have, from the fold alone (see the module comment). */
export function timeBound(entry: RecordEntry, mayWrite: MayWrite, readable: boolean): number {
	let bound = -Infinity;
	let last = -Infinity;
	for (const v of entry.versions) {
		if (!mayWrite(entry.patient, v.author, entry.category)) continue;
		bound = Math.max(bound, v.time);
		last = v.time;
	}
	if (bound === -Infinity) return entry.versions.at(-1)!.time;
	return readable ? bound : last;
}

type Keyed = { readonly record: RecordView; readonly key: TimelineKey };

export class ChartPages {
	/** The patient's records, read or not. */
	readonly total: number;
	/** Records in categories this node may not read: sealed, counted without reading them. */
	readonly sealedUnread: number;
	readonly #book: RecordBook;
	readonly #view: RecordsView;
	/** {@link #view} with the patient's wrapped keys, read at the first load. */
	#keyed: Promise<RecordsView> | null = null;
	readonly #mayWrite: MayWrite;
	readonly #now: number;
	readonly #records: PatientRecords;
	/** Records (their places in {@link #records}) by bound, highest bound first. */
	readonly #groups: { bound: number; records: number[] }[];
	#next = 0;
	/** Every record read so far, in timeline order. */
	#read: Keyed[] = [];
	#shown: RecordView[] = [];
	#sealedRead = 0;
	/** Whether this node may read each category (accessBasis at `now`). */
	readonly #readable = new Map<Category, boolean>();

	/** `patient`'s chart, its records' metadata read from the store (record-index.ts), nothing decrypted yet. */
	static async open(book: RecordBook, patient: string, now = Date.now()): Promise<ChartPages> {
		const [records, view] = await Promise.all([PatientRecords.read(book.ledger, patient), book.view([patient])]);
		return new ChartPages(book, patient, records, view, now);
	}

	/** `records`: the patient's records, `view`: the consent of the patient ({@link open} reads both). */
	constructor(
		book: RecordBook,
		readonly patient: string,
		records: PatientRecords,
		view: RecordsView,
		now = Date.now()
	) {
		this.#records = records;
		this.#book = book;
		this.#view = view;
		this.#mayWrite = recordWriters(this.#view);
		this.#now = now;
		const readable = this.#readable;
		const byBound = new Map<number, number[]>();
		let sealed = 0;
		for (let i = 0; i < records.length; i++) {
			const category = records.category(i);
			let may = readable.get(category);
			if (may === undefined) readable.set(category, (may = accessBasis(this.#view, book.keyring.self, patient, category, now) !== null));
			if (!may) sealed++;
			// A record of one version: that version's time, whoever wrote it (timeBound), with no entry made.
			const bound = records.onlyTime(i) ?? timeBound(records.entry(i), this.#mayWrite, may);
			const group = byBound.get(bound);
			if (group) group.push(i);
			else byBound.set(bound, [i]);
		}
		this.total = records.length;
		this.sealedUnread = sealed;
		this.#groups = [...byBound].sort((a, b) => b[0] - a[0]).map(([bound, records]) => ({ bound, records }));
	}

	/** Who may read and write the patient's records, as read when the chart opened. */
	get view(): RecordsView {
		return this.#view;
	}

	/** The first entries of the timeline, exactly as the whole chart orders them; every record once {@link complete}. */
	get records(): readonly RecordView[] {
		return this.#shown;
	}

	/** Records read (decrypted where readable), some possibly not yet placed in {@link records}. */
	get read(): number {
		return this.#read.length;
	}

	get complete(): boolean {
		return this.#next >= this.#groups.length;
	}

	/** Sealed records (no key): those of categories this node may not read, and those read that turned out to have no key. */
	get sealed(): number {
		return this.sealedUnread + this.#sealedRead;
	}

	/**
	 * Reads whole groups until {@link records} holds at least `count` entries (or all), at
	 * most about `step` records per store read. Returns the reads of decrypted records.
	 */
	async load(count: number, step = Infinity, onstep?: () => void): Promise<ReadEvent[]> {
		const reads: ReadEvent[] = [];
		while (this.#shown.length < count && !this.complete) {
			const need = Math.min(count - this.#shown.length, step);
			const batch: (readonly [string, RecordEntry])[] = [];
			while (!this.complete && batch.length < need)
				for (const i of this.#groups[this.#next++]!.records) batch.push([this.#records.rid(i), this.#records.entry(i)]);
			this.#keyed ??= this.#book.viewFor([this.patient]);
			const out = await this.#book.readRecords(await this.#keyed, this.patient, batch, this.#now, this.#mayWrite);
			for (const r of out.reads) reads.push(r);
			this.#place(out.records);
			onstep?.();
		}
		return reads;
	}

	/** Merges records just read into the timeline and moves the boundary of what may be shown. */
	#place(records: readonly RecordView[]): void {
		const fresh = records.map((record) => ({ record, key: timelineKey(record) })).sort((a, b) => compareTimeline(a.key, b.key));
		for (const { record } of fresh) {
			const current = record.versions.at(-1)!;
			if (current.sealed === 'no-access' && this.#readable.get(record.category)) this.#sealedRead++;
		}
		const merged: Keyed[] = [];
		let i = 0;
		let j = 0;
		while (i < this.#read.length || j < fresh.length) {
			if (j >= fresh.length || (i < this.#read.length && compareTimeline(this.#read[i]!.key, fresh[j]!.key) <= 0))
				merged.push(this.#read[i++]!);
			else merged.push(fresh[j++]!);
		}
		this.#read = merged;
		const unread = this.complete ? -Infinity : this.#groups[this.#next]!.bound;
		let shown = 0;
		while (shown < merged.length && merged[shown]!.key.time > unread) shown++;
		this.#shown = merged.slice(0, shown).map((k) => k.record);
	}
}
