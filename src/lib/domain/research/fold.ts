/**
 * The research fold: studies, their approvals, study keys, consents, queries with the
 * budget they spend, and the sealed results, in ledger order on every node.
 *
 * Every study key wrap is kept, not the first per member: an admin could otherwise write
 * bogus wraps early (its clock is its parents' plus one) and lock members out of the key.
 *
 * Budget: rules cannot see this state, so a `study.query` that would take the study past
 * its budget (or breaks the study's terms) is accepted on the ledger but recorded here as
 * refused, with why; clinic nodes answer accepted queries only, and the app refuses
 * before writing when it can see the query would be refused.
 *
 * The state is a page per study (the study, its queries and their sealed results; pages.ts)
 * kept as rows of the store, not in memory or checkpoints (issue 19, item 3): the fold reads
 * the pages of the studies a batch names, and readers read the pages they show
 * ({@link readResearch} in pages.ts). Which study holds each query id is read from the
 * fold's index (study-index.ts), so memory holds no map of every query ever asked.
 */
import { CodedError, toHex, type Block, type Fold, type FoldContext } from '$lib/core/index.js';
import type { PatientAccess } from '../privacy/access.js';
import type { Category } from '../privacy/envelope.js';
import { decodeResearch, encodeResearch, StudyPages, type ResearchState } from './pages.js';
import type { StudyPage, StudyRecord } from './records.js';
import { parseQuerySpec } from './spec.js';
import { askedQueryRows, holderOf, queryReads, researchStudiesIndex, studiesOf, studyOf } from './study-index.js';

export type { QueryRecord, ResearchView, StudyKeyWrap, StudyPage, StudyRecord } from './records.js';
export type { ResearchState } from './pages.js';

const emptyPage = (): StudyPage => ({ study: null, queries: {} });

const copyBytes = (v: Uint8Array) => new Uint8Array(v);

/** Why a query of `epsilon` (thousandths) is refused for `study` at `time` by `author`, or null. */
export function queryRefusal(study: StudyRecord | undefined, author: string, spec: string, epsilon: number, time: number): string | null {
	if (!study) return 'no such study';
	if (author !== study.researcher) return 'only the study’s researcher queries it';
	if (time >= study.ends) return 'the study has ended';
	if (Object.keys(study.approvals).length === 0) return 'no clinic has approved the study yet';
	let kind: string;
	try {
		kind = parseQuerySpec(spec).measure.kind;
	} catch (error) {
		return (error as Error).message;
	}
	if (kind === 'extract' && !study.rows) return 'the study did not ask for row-level extracts';
	if (study.budget > 0 && epsilon === 0) return 'this study answers with differential privacy only: give the ε to spend';
	if (study.budget === 0 && epsilon > 0) return 'this study has no privacy budget: its answers are exact (with suppression), ε must be 0';
	if (study.spent + epsilon > study.budget)
		return `over budget: ${(study.spent / 1000).toFixed(3)} of ε ${(study.budget / 1000).toFixed(3)} spent, this query asks ${(epsilon / 1000).toFixed(3)}`;
	return null;
}

/**
 * Applies `block`'s research transactions: all of them, or those of study `only`. Each
 * touches its study's page alone; `context` tells which query holds each id it names.
 */
function applyResearch(state: ResearchState, block: Block, context: FoldContext, only?: string): void {
	for (const [index, tx] of block.txs.entries()) {
		const key = studyOf(tx);
		if (key === null || (only !== undefined && key !== only)) continue;
		switch (tx.t) {
			case 'study.register': {
				const page = state.pages.page(key, emptyPage);
				if (page.study) break;
				page.study = {
					id: key,
					researcher: block.author,
					title: tx.title as string,
					protocol: tx.protocol as string,
					ethics: tx.ethics as string,
					categories: [...(tx.categories as Category[])],
					criteria: tx.criteria as string,
					ends: tx.ends as number,
					budget: tx.budget as number,
					k: tx.k as number,
					rows: tx.rows as boolean,
					registered: block.time,
					approvals: {},
					keys: {},
					spent: 0,
					consents: {},
					consentedAt: {},
					queries: []
				};
				break;
			}
			case 'study.approve': {
				const study = state.pages.find(key)?.study;
				if (!study || block.time >= study.ends) break;
				study.approvals[block.author] ??= block.time;
				for (const [member, w] of Object.entries(tx.keys as Record<string, Record<string, Uint8Array>>)) {
					if (member === study.researcher) continue;
					(study.keys[member] ??= []).push({
						eph: copyBytes(w.eph!),
						nonce: copyBytes(w.nonce!),
						wrapped: copyBytes(w.wrapped!),
						...(w.kid ? { kid: copyBytes(w.kid) } : {}),
						by: block.author
					});
				}
				break;
			}
			case 'study.consent': {
				const study = state.pages.find(key)?.study;
				if (!study) break;
				const patient = toHex(tx.patient as Uint8Array);
				const grant = toHex(tx.grant as Uint8Array);
				study.consentedAt[patient] ??= block.author;
				const list = (study.consents[patient] ??= []);
				if (!list.includes(grant)) list.push(grant);
				break;
			}
			case 'study.query': {
				const id = toHex(tx.id as Uint8Array);
				// Only the first query of an id in ledger order is recorded (a reuse is not, under any study).
				const holder = holderOf(context, id);
				if (holder?.block !== block.id || holder.index !== index) break;
				const page = state.pages.page(key, emptyPage);
				const study = page.study ?? undefined;
				const epsilon = tx.epsilon as number;
				const reason = queryRefusal(study, block.author, tx.spec as string, epsilon, block.time);
				page.queries[id] = {
					id,
					study: key,
					spec: tx.spec as string,
					epsilon,
					time: block.time,
					status: reason ? 'refused' : 'accepted',
					reason,
					results: {}
				};
				if (study && !reason) {
					study.spent += epsilon;
					study.queries.push(id);
				}
				break;
			}
			case 'study.result': {
				const id = toHex(tx.query as Uint8Array);
				// A result counts under its query's study only (the study it names must be the query's).
				if (holderOf(context, id)?.study !== key) break;
				const query = state.pages.find(key)?.queries[id];
				if (!query || query.status !== 'accepted' || query.results[block.author]) break;
				query.results[block.author] = {
					eph: copyBytes(tx.eph as Uint8Array),
					knonce: copyBytes(tx.knonce as Uint8Array),
					wrapped: copyBytes(tx.wrapped as Uint8Array),
					nonce: copyBytes(tx.nonce as Uint8Array),
					ct: copyBytes(tx.ct as Uint8Array),
					time: block.time,
					block: block.id
				};
				break;
			}
		}
	}
}

export const researchFold: Fold<ResearchState> = {
	name: 'research',
	version: 2,
	init: () => ({ pages: new StudyPages() }),
	// The queries holding the ids a block's queries and results name (study-index.ts).
	reads: [queryReads],
	apply(state, block, context) {
		if (!context) throw new CodedError('FOLD_NEEDS_CONTEXT', 'the research fold needs each block’s index rows (Fold.apply’s `context`)');
		applyResearch(state, block, context);
		return state;
	},
	// A study, its queries and their results depend on the study's blocks alone (indexed
	// under the study's id) and on which query holds each id they name: a late block
	// re-applies its studies, and a late query also those of the queries filed under its id
	// (one of them held the id until then). It never rewinds the fold.
	keyed: {
		index: researchStudiesIndex,
		keysOf: studiesOf,
		rowKeys: (key) => [key],
		dependents: askedQueryRows,
		// The page goes unread (stored or not): its blocks are applied again from the first.
		clear: (state, study) => state.pages.delete(study),
		applyKey: (state, block, study, context) => applyResearch(state, block, context, study)
	},
	// Each study's page is a row of the store (core/ledger/page-rows.ts), read before a batch naming the study.
	pages: {
		keysOf: studiesOf,
		of: (state) => state.pages
	},
	encode: encodeResearch,
	decode: decodeResearch
};

/**
 * Patients counted for `study` at `now`: those who linked a research grant to it that is
 * in force (not revoked, not expired), names the study's researcher as grantee and
 * covers every category the study asks for. Withdrawn or absent consent: not counted.
 * `access`: read for the study's {@link consentingPatients}. A patient whose consent it
 * was not read for is not counted: the fold changes the study in place, so a study consent
 * that arrived while the caller read consent names a patient the read did not cover, and
 * the caller answers from what it read (the next read counts it).
 */
export function consentedPatients(study: StudyRecord, access: PatientAccess, now: number): Set<string> {
	const counted = new Set<string>();
	for (const [patient, grants] of Object.entries(study.consents)) {
		if (!access.has(patient)) continue;
		const held = access.grantsOf(patient);
		for (const id of grants) {
			const g = held.find((h) => h.id === id);
			if (!g || g.revoked || g.purpose !== 'research' || g.grantee !== study.researcher || now >= g.expires) continue;
			if (!study.categories.every((c) => g.categories.includes(c))) continue;
			counted.add(patient);
			break;
		}
	}
	return counted;
}

/** The patients who linked a grant to one of `studies`: whose consent {@link consentedPatients} reads. */
export function consentingPatients(...studies: StudyRecord[]): Set<string> {
	const out = new Set<string>();
	for (const study of studies) for (const patient of Object.keys(study.consents)) out.add(patient);
	return out;
}

export { researchStudiesIndex } from './study-index.js';
