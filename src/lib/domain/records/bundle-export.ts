/**
 * A patient's records out, as a FHIR R4 `collection` Bundle whose references resolve by
 * R4's Bundle rules: every entry has a `urn:uuid:` fullUrl and every reference to
 * something in the Bundle is that fullUrl. The directory entries the records refer to
 * (organizations, practitioners, locations) are included, and one Provenance per block
 * names who wrote what and when. Ids are the ledger's (`Patient.id` the patient key, a
 * record's id its record id); the identifiers the data came with, the source it was
 * imported from (`urn:clinic-ledger:source`) and `meta.security` stay, so the export
 * imports again without duplicates.
 */
import type { Bundle, BundleEntry, Provenance, Resource } from '@medplum/fhirtypes';
import type { Category } from '../privacy/envelope.js';
import type { RecordBook, RecordView } from './book.js';
import { directoryResource, type DirectoryState } from './directory.js';
import type { RecordEntry } from './fold.js';
import { mapReferences, referencesIn } from './json-input.js';
import { PatientRecords } from './patient-records.js';
import { recordWriters } from './writers.js';

const uuidOf = (hex32: string) =>
	`${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20, 32)}`;
const urnOf = (hex: string) => `urn:uuid:${uuidOf(hex.slice(0, 32))}`;

type Json = Record<string, unknown>;

interface Exported {
	sealed: number;
	unresolved: number;
	categories: Category[];
}
type ExportOptions = {
	names?: Record<string, string>;
	now?: number;
	directory?: DirectoryState;
	records?: readonly RecordView[];
	/** Records decrypted per step when the export reads the chart itself. */
	step?: number;
};

/**
 * `patient`'s current readable records as a `collection` Bundle. Records this node cannot
 * open are left out and counted in `sealed`; references to them stay relative and are
 * counted in `unresolved`. `records`: the patient's chart as already read (else read here).
 */
export async function exportBundle(book: RecordBook, patient: string, options: ExportOptions = {}): Promise<{ bundle: Bundle } & Exported> {
	const { entries, done } = await exportEntries(book, patient, options);
	const entry = [...entries];
	return { bundle: { ...bundleHead(options.now), entry }, ...done() };
}

/** Entries per piece of the file {@link exportBundleFile} makes. */
const FILE_CHUNK = 1000;

/**
 * The same Bundle as {@link exportBundle}, as a file: the Bundle's fields indented by two
 * spaces and each entry as compact JSON on a line of its own, written a thousand entries
 * at a time into a Blob, so that neither the whole Bundle object nor its whole text is
 * ever in memory (a chart may hold 100,000 records). Entries on one line each keep the file
 * line-oriented (one entry per line for `grep` and `diff`) at half the size of indenting
 * them: 100,000 records made 124 MB indented, which the page spent seconds handing to
 * the browser (docs/benchmarks.md).
 */
export async function exportBundleFile(
	book: RecordBook,
	patient: string,
	options: ExportOptions & { type?: string } = {}
): Promise<{ file: Blob } & Exported> {
	const { entries, done } = await exportEntries(book, patient, options);
	const head = JSON.stringify({ ...bundleHead(options.now), entry: [] }, null, 2);
	const parts: Blob[] = [];
	let chunk: string[] = [];
	// The entries' texts and their separators go to the Blob as they are: joining them first
	// made a second copy of the whole file's text in the page's heap.
	const flush = () => {
		if (chunk.length) parts.push(new Blob(chunk));
		chunk = [];
	};
	let count = 0;
	for (const entry of entries) {
		chunk.push(count === 0 ? '\n    ' : ',\n    ', JSON.stringify(entry));
		count++;
		if (chunk.length === 2 * FILE_CHUNK) flush();
	}
	flush();
	// `head` ends with `"entry": []\n}`: the entries go between the brackets.
	const open = head.slice(0, head.lastIndexOf('[]') + 1);
	const file = new Blob([open, ...parts, count ? '\n  ]\n}' : ']\n}'], { type: options.type ?? 'application/fhir+json' });
	return { file, ...done() };
}

const bundleHead = (now?: number) => ({
	resourceType: 'Bundle' as const,
	type: 'collection' as const,
	timestamp: new Date(now ?? Date.now()).toISOString()
});

/** Records decrypted per step of an export that reads the chart itself. */
const EXPORT_STEP = 2000;

/**
 * The patient's chart, in its order, a step of records at a time: `options.records` (the
 * chart as already read) at once, else read here, never more than a step's records
 * decrypted at a time.
 */
async function* chartSteps(book: RecordBook, patient: string, options: ExportOptions): AsyncGenerator<readonly RecordView[]> {
	if (options.records) {
		yield options.records;
		return;
	}
	const list = await PatientRecords.read(book.ledger, patient);
	const view = await book.viewFor([patient]);
	const mayWrite = recordWriters(view);
	const now = options.now ?? Date.now();
	const size = options.step ?? EXPORT_STEP;
	for (let at = 0; at < list.length; at += size) {
		const step: [string, RecordEntry][] = [];
		for (let i = at; i < Math.min(list.length, at + size); i++) step.push([list.rid(i), list.entry(i)]);
		yield (await book.readRecords(view, patient, step, now, mayWrite)).records;
	}
}

/** The Bundle's entries, made one at a time as they are iterated; `done()` after the last gives the counts. */
async function exportEntries(
	book: RecordBook,
	patient: string,
	options: ExportOptions
): Promise<{ entries: Iterable<BundleEntry>; done: () => Exported }> {
	// Each readable record's current resource kept as its JSON text until its entry is made: 100,000
	// records held as objects (and every version of each, as the chart reads them) took +350 MB.
	const readable: { ref: string; id: string; text: string; time: number; version: number; block: string; author: string }[] = [];
	const references = new Set<string>();
	const categories = new Set<Category>();
	let sealed = 0;
	for await (const records of chartSteps(book, patient, options)) {
		for (const record of records) {
			const current = record.versions.at(-1)!;
			if (!current.resource) {
				sealed++;
				continue;
			}
			categories.add(record.category);
			const type = current.resource.resourceType;
			const id = type === 'Patient' ? patient : record.rid;
			for (const ref of referencesIn(current.resource as unknown as Json)) references.add(ref);
			readable.push({
				ref: `${type}/${id}`,
				id,
				text: JSON.stringify(current.resource),
				time: current.time,
				version: record.versions.length,
				block: current.block,
				author: current.author
			});
		}
	}
	// What the Bundle holds, as references (`Type/id`): the fullUrl of each is made from its id when written, not kept for 100,000 records.
	const held = new Set<string>(readable.map((r) => r.ref));
	const urlOf = (ref: string) => (held.has(ref) ? urnOf(ref.slice(ref.indexOf('/') + 1)) : undefined);
	// The directory entries the records name, so their references resolve too.
	const directory: [string, Json][] = [];
	for (const ref of references) {
		const [type, id] = ref.split('/');
		if (held.has(ref) || !type || !id || ref.split('/').length !== 2) continue;
		const entry = directoryResource(options.directory, type, id);
		if (entry) {
			directory.push([id, entry]);
			held.add(ref);
		}
	}
	let unresolved = 0;
	const resolve = (value: Json) =>
		mapReferences(value, (ref) => {
			const url = urlOf(ref.reference);
			if (url) return { ...ref, reference: url };
			if (!ref.reference.startsWith('#')) unresolved++;
			return ref;
		}) as Json;
	function* entries(): Generator<BundleEntry> {
		for (const r of readable) {
			const resource = JSON.parse(r.text) as Json;
			const meta = {
				...((resource.meta as Json | undefined) ?? {}),
				versionId: String(r.version),
				lastUpdated: new Date(r.time).toISOString()
			};
			yield { fullUrl: urnOf(r.id), resource: resolve({ ...resource, id: r.id, meta }) as unknown as Resource };
		}
		for (const [id, d] of directory) yield { fullUrl: urnOf(id), resource: resolve(d) as unknown as Resource };
		const byBlock = new Map<string, { time: number; author: string; targets: string[] }>();
		for (const r of readable) {
			const b = byBlock.get(r.block) ?? { time: r.time, author: r.author, targets: [] };
			b.targets.push(urnOf(r.id));
			byBlock.set(r.block, b);
		}
		for (const [block, b] of byBlock) {
			const provenance: Provenance = {
				resourceType: 'Provenance',
				id: block.slice(0, 32),
				target: b.targets.map((reference) => ({ reference })),
				recorded: new Date(b.time).toISOString(),
				agent: [
					{
						who: {
							identifier: { system: 'urn:clinic-ledger:member', value: b.author },
							...(options.names?.[b.author] ? { display: options.names[b.author] } : {})
						}
					}
				],
				entity: [{ role: 'source', what: { identifier: { system: 'urn:clinic-ledger:block', value: block } } }]
			};
			yield { fullUrl: urnOf(block), resource: provenance };
		}
	}
	return { entries: entries(), done: () => ({ sealed, unresolved, categories: [...categories] }) };
}
