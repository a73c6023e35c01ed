/**
 * Study keys: the HMAC key of a study's pseudonyms. The first approving clinic admin
 * makes it and wraps it (envelope.ts) for the clinic members on the roster; later
 * approvers unwrap it and wrap it for members not yet holding it. The researcher never
 * receives it (study.ts refuses wraps for researchers), so pseudonyms cannot be
 * recomputed from the patient keys visible on the ledger.
 */
import { fromHex } from '$lib/core/index.js';
import { EnvelopeError, newDataKey, wrapKey, type RecordContext, type WrappedKey } from '../privacy/envelope.js';
import type { StudyRecord } from './fold.js';
import type { KeyWrap } from './study.js';

/** The context a study key is bound to (the envelope's patient slot names the study; the category is fixed). */
const keyContext = (net: string, study: string): RecordContext => ({ net, patient: `study-key/${study}`, category: 'demographics', epoch: 0 });

export const newStudyKey = newDataKey;

/** Opens a key wrapped for this node (the node's keyring: `Keyring.openWrapped`); throws EnvelopeError when it is not. */
export type Unwrap = (wrap: WrappedKey, context: RecordContext) => Uint8Array;

/** `key` wrapped for each of `members` (hex keys). */
export function wrapStudyKey(key: Uint8Array, net: string, study: string, members: readonly string[]): Record<string, KeyWrap> {
	const out: Record<string, KeyWrap> = {};
	for (const member of members) out[member] = wrapKey(key, member, fromHex(member), keyContext(net, study));
	return out;
}

/** The study key as node `self` unwraps it, or null when none was wrapped for it. */
export function unwrapStudyKey(study: StudyRecord, net: string, self: string, unwrap: Unwrap): Uint8Array | null {
	const wrap = study.keys[self];
	if (!wrap) return null;
	try {
		return unwrap(wrap, keyContext(net, study.id));
	} catch (error) {
		if (error instanceof EnvelopeError) return null;
		throw error;
	}
}

/**
 * The `keys` field of this admin's `study.approve`: a new key wrapped for every clinic
 * member when the study has none yet; else the existing key (if this node holds it) for
 * the members still without it.
 */
export function approvalWraps(study: StudyRecord, net: string, self: string, unwrap: Unwrap, clinicMembers: readonly string[]): Record<string, KeyWrap> {
	const existing = Object.keys(study.keys).length > 0;
	const key = existing ? unwrapStudyKey(study, net, self, unwrap) : newStudyKey();
	if (!key) return {};
	const targets = [...new Set([self, ...clinicMembers])].filter((m) => !study.keys[m] && m !== study.researcher);
	return wrapStudyKey(key, net, study.id, targets);
}
