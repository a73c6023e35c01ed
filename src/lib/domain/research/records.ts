/**
 * What the research fold (fold.ts) knows of a study and its queries: the shapes of a study's
 * page in the store (pages.ts) and of what readers see.
 */
import type { KeyWrap, SealedResult, StudyInput } from './study.js';

/** A study key wrapped for a member, and who wrote the wrap (hex member key). */
export interface StudyKeyWrap extends KeyWrap {
	by: string;
}

/** A registered study: what the researcher registered ({@link StudyInput}) and what the ledger adds. */
export interface StudyRecord extends StudyInput {
	id: string;
	researcher: string;
	registered: number;
	/** Approving admins and when. */
	approvals: Record<string, number>;
	/** Every wrap of a study key for each clinic member, in ledger order: a bogus one cannot hide the genuine one (keys.ts picks). */
	keys: Record<string, StudyKeyWrap[]>;
	/** ε spent by accepted queries (thousandths). */
	spent: number;
	/** Grant ids the patient put towards this study, by patient key. */
	consents: Record<string, string[]>;
	/** The member (clinic node) that first wrote each patient's study consent, by patient key. */
	consentedAt: Record<string, string>;
	queries: string[];
}

export interface QueryRecord {
	id: string;
	study: string;
	spec: string;
	epsilon: number;
	time: number;
	status: 'accepted' | 'refused';
	reason: string | null;
	/** Sealed answers by answering member (the first from each wins). */
	results: Record<string, SealedResult & { time: number; block: string }>;
}

/** What readers see: studies and queries by id (every one, or those of the studies read: pages.ts `readResearch`). */
export interface ResearchView {
	studies: Record<string, StudyRecord>;
	queries: Record<string, QueryRecord>;
}

/** A study's page: the study (null while only queries naming its id are on the ledger) and its queries, accepted and refused. */
export interface StudyPage {
	study: StudyRecord | null;
	queries: Record<string, QueryRecord>;
}
