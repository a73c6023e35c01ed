/**
 * The research fold's pages (fold.ts): one per study (the study, its queries and their sealed
 * results), packed as canonical CBOR. Under a ledger the fold engine keeps them as rows of the
 * store (core/ledger/page-rows.ts), read when a batch names the study and written beside each
 * checkpoint when changed; memory and checkpoints hold only which studies have pages
 * (which study holds each query id is in the fold's index, study-index.ts). Readers read the
 * studies they show through {@link readResearch}.
 */
import { decodeCanonical, encodeCanonical, StoredPages, type CborValue, type Ledger, type PagesCheckpointForm } from '$lib/core/index.js';
import type { QueryRecord, ResearchView, StudyPage, StudyRecord } from './records.js';
import { queryRow, RESEARCH_STUDIES } from './study-index.js';

/** A study as its own objects (a decoded one shares nothing with what it was decoded from). */
function copyStudy(s: StudyRecord): StudyRecord {
	return {
		...s,
		categories: [...s.categories],
		approvals: { ...s.approvals },
		keys: Object.fromEntries(Object.entries(s.keys).map(([m, wraps]) => [m, wraps.map((w) => ({ ...w }))])),
		consents: Object.fromEntries(Object.entries(s.consents).map(([p, g]) => [p, [...g]])),
		consentedAt: { ...s.consentedAt },
		queries: [...s.queries]
	};
}

function copyQueries(queries: Record<string, QueryRecord>): Record<string, QueryRecord> {
	return Object.fromEntries(
		Object.entries(queries).map(([id, q]) => [
			id,
			{ ...q, results: Object.fromEntries(Object.entries(q.results).map(([m, r]) => [m, { ...r }])) }
		])
	);
}

export const packPage = (page: StudyPage): Uint8Array => encodeCanonical(page as unknown as CborValue);

export function unpackPage(bytes: Uint8Array): StudyPage {
	const v = decodeCanonical(bytes) as unknown as StudyPage;
	return { study: v.study ? copyStudy(v.study) : null, queries: copyQueries(v.queries) };
}

/** The research fold's state (fold.ts). */
export interface ResearchState {
	/** Each study's page by study id: in memory while folded or read, else a row of the store. */
	pages: StudyPages;
}

/** The studies' pages by study id (hex). */
export class StudyPages extends StoredPages<StudyPage> {
	constructor() {
		super({ pack: packPage, unpack: unpackPage }, (key) => `of study ${key.slice(0, 12)}`);
	}

	/** Every page (a state folded without a store holds them all; one with pages stored and not read throws `PAGE_NOT_READ`). */
	toJSON(): Record<string, StudyPage> {
		const pages = this.all();
		return Object.fromEntries(this.keys().map((key, i) => [key, pages[i]!]));
	}
}

/**
 * The checkpoint form: the studies with pages, and the pages no row holds yet as bytes
 * (under a ledger none: the engine stored them first). Checkpoints written before the query
 * ids were in the index also hold `queryStudy`, a map of every query id to its study: read
 * and left, as the index holds the same.
 */
export function encodeResearch(state: ResearchState): CborValue {
	const packed: PagesCheckpointForm = state.pages.checkpointForm();
	return packed as unknown as CborValue;
}

/**
 * The state of its checkpoint form. A checkpoint written before studies were pages holds
 * every study and query (`{studies, queries}`): it decodes to the same state, every page in
 * memory and changed, and the next checkpoint stores them as rows (no refold).
 */
export function decodeResearch(value: CborValue): ResearchState {
	const pages = new StudyPages();
	if ('studies' in (value as object)) {
		const v = value as unknown as ResearchView;
		const byStudy = new Map<string, StudyPage>();
		for (const [id, study] of Object.entries(v.studies)) byStudy.set(id, { study, queries: {} });
		for (const [id, query] of Object.entries(v.queries)) {
			let page = byStudy.get(query.study);
			if (!page) byStudy.set(query.study, (page = { study: null, queries: {} }));
			page.queries[id] = query;
		}
		pages.add(
			[],
			[...byStudy].map(([key, page]): [string, Uint8Array] => [key, packPage(page)])
		);
		return { pages };
	}
	pages.addCheckpointForm(value as unknown as PagesCheckpointForm);
	return { pages };
}

type ResearchReader = Pick<Ledger, 'state' | 'readPages' | 'facts'>;

/**
 * The studies `studies` (every study when omitted) and their queries, as of every block
 * folded: from the fold's memory, or the store. Pages are read whole; the fold may change
 * a page a reader holds (a study read while blocks arrive).
 */
export async function readResearch(ledger: ResearchReader, studies?: readonly string[]): Promise<ResearchView> {
	const state = ledger.state().research as ResearchState;
	const pages = await ledger.readPages<StudyPage>('research', studies ?? state.pages.keys());
	return viewOf(pages.values());
}

function viewOf(pages: Iterable<StudyPage>): ResearchView {
	const view: ResearchView = { studies: {}, queries: {} };
	for (const page of pages) {
		if (page.study) view.studies[page.study.id] = page.study;
		Object.assign(view.queries, page.queries);
	}
	return view;
}

/** The view of a state that holds every page (a fold over blocks in memory); a page stored and not read throws `PAGE_NOT_READ`. */
export function researchView(state: ResearchState): ResearchView {
	return viewOf(state.pages.all());
}

/** The study holding query id `queryId` (the first query of that id in ledger order) and its queries; empty when no query has that id. */
export async function readQueryStudy(ledger: ResearchReader, queryId: string): Promise<ResearchView> {
	const [first] = await ledger.facts(RESEARCH_STUDIES, queryRow(queryId), { limit: 1 });
	return readResearch(ledger, first ? [(first.value as [number, string])[1]] : []);
}
