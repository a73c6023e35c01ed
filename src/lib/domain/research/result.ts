/**
 * Answers travel sealed: a clinic node computes its answer (aggregate or k-anonymous
 * extract) from the consented patients it can read, seals it under a fresh key wrapped
 * for the researcher only, and writes it in a `study.result`. The researcher's node
 * opens the answers and combines them. Nothing identifiable is in an answer to begin
 * with; sealing keeps even the de-identified answers from the other members.
 */
import { fromHex } from '$lib/core/index.js';
import type { PatientAccess } from '../privacy/access.js';
import { newDataKey, openRecord, sealRecord, wrapKey, type RecordContext } from '../privacy/envelope.js';
import type { Unwrap } from './keys.js';
import { extractRows, type RowExtract, type ExtractRow } from './extract.js';
import type { PatientRecords } from './facts.js';
import { consentedPatients, type QueryRecord, type StudyRecord } from './fold.js';
import type { KAnonymityReport } from './kanonymity.js';
import type { Rng } from './laplace.js';
import { answerQuery, combine, type Answer, type Combined } from './query.js';
import { parseQuerySpec } from './spec.js';
import type { SealedResult } from './study.js';
import { ResearchInputError } from './input-error.js';

/** What one clinic sends: an aggregate answer or an extract. */
export type ClinicAnswer = Answer | { kind: 'extract'; extract: RowExtract };

/** The researcher's combined view. */
export type CombinedResult = Combined | { kind: 'extract'; rows: ExtractRow[]; reports: KAnonymityReport[]; clinics: number };

const resultContext = (net: string, query: QueryRecord): RecordContext => ({
	net,
	patient: `study-result/${query.study}/${query.id}`,
	category: 'demographics',
	epoch: 0
});

/**
 * This clinic's answer to `query`: consent is checked first (only patients whose research
 * consent for the study is in force at the query's time are looked at), then the query
 * runs over what this node can read. Ages are taken at the query's time.
 */
export function answerAtClinic(input: {
	study: StudyRecord;
	query: QueryRecord;
	/** Consent read for the study's consenting patients (fold.ts, consentingPatients). */
	access: PatientAccess;
	patients: Iterable<PatientRecords>;
	studyKey: Uint8Array | null;
	rng?: Rng;
}): ClinicAnswer {
	const { study, query } = input;
	if (query.status !== 'accepted') throw new ResearchInputError(`query: refused (${query.reason})`);
	const consented = consentedPatients(study, input.access, query.time);
	const spec = parseQuerySpec(query.spec);
	if (spec.measure.kind === 'extract') {
		if (!input.studyKey) throw new ResearchInputError('study key: this node holds no key for this study, so it cannot write pseudonyms');
		return {
			kind: 'extract',
			extract: extractRows(input.patients, (p) => consented.has(p), spec.cohort, input.studyKey, query.time, { k: study.k })
		};
	}
	return answerQuery(input.patients, (p) => consented.has(p), spec, {
		now: query.time,
		...(query.epsilon > 0 ? { epsilon: query.epsilon / 1000 } : {}),
		...(input.rng ? { rng: input.rng } : {})
	});
}

/** `answer` sealed for the study's researcher. */
export function sealAnswer(answer: ClinicAnswer, net: string, study: StudyRecord, query: QueryRecord): SealedResult {
	const context = resultContext(net, query);
	const key = newDataKey();
	const sealed = sealRecord(key, new TextEncoder().encode(JSON.stringify(answer)), context);
	const wrap = wrapKey(key, study.researcher, fromHex(study.researcher), context);
	return { eph: wrap.eph, knonce: wrap.nonce, wrapped: wrap.wrapped, nonce: sealed.nonce, ct: sealed.ct };
}

/** Opens a sealed answer on the researcher's node; throws EnvelopeError when it is not for this node. */
export function openAnswer(sealed: SealedResult, net: string, query: QueryRecord, unwrap: Unwrap): ClinicAnswer {
	const context = resultContext(net, query);
	const key = unwrap({ eph: sealed.eph, nonce: sealed.knonce, wrapped: sealed.wrapped }, context);
	return JSON.parse(new TextDecoder().decode(openRecord(key, { nonce: sealed.nonce, ct: sealed.ct }, context))) as ClinicAnswer;
}

/**
 * The sealed answers that count for `query`: one per clinic (a device counts for the
 * clinic it belongs to, `clinics`; the earliest answer wins), and only from clinics that
 * approved the study. Two devices of one clinic answering would otherwise count its
 * patients twice.
 */
export function answersToCombine(study: StudyRecord, query: QueryRecord, clinics: Readonly<Record<string, string>>): SealedResult[] {
	const byClinic = new Map<string, SealedResult & { time: number }>();
	for (const [author, result] of Object.entries(query.results).sort(([a, x], [b, y]) => x.time - y.time || (a < b ? -1 : 1))) {
		const clinic = clinics[author] ?? author;
		if (study.approvals[clinic] === undefined && study.approvals[author] === undefined) continue;
		if (!byClinic.has(clinic)) byClinic.set(clinic, result);
	}
	return [...byClinic.values()];
}

/** Clinics' answers to one query, combined. */
export function combineAnswers(answers: readonly ClinicAnswer[]): CombinedResult | null {
	if (answers.length === 0) return null;
	if (answers.every((a) => a.kind === 'extract')) {
		const extracts = answers.map((a) => (a as Extract<ClinicAnswer, { kind: 'extract' }>).extract);
		return { kind: 'extract', rows: extracts.flatMap((e) => e.rows), reports: extracts.map((e) => e.report), clinics: answers.length };
	}
	if (answers.some((a) => a.kind === 'extract')) throw new ResearchInputError('answers: clinics answered different measures');
	return combine(answers as Answer[]);
}
