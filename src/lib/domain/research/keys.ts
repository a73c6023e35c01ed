/**
 * Study keys: the HMAC key of a study's pseudonyms. The first approving clinic admin
 * makes it and wraps it (envelope.ts) for the clinic members on the roster; later
 * approvers unwrap it and wrap it for members they have not given it yet. The researcher
 * never receives it (study.ts refuses wraps for researchers), so pseudonyms cannot be
 * recomputed from the patient keys visible on the ledger.
 *
 * Any admin can wrap some key for a member, so a wrap proves nothing by itself: each wrap
 * carries the key's id, a commitment to the key ({@link studyKeyId}), the fold keeps
 * every wrap, and a member takes the first wrap (in ledger order) whose key is the one
 * its id commits to; a wrap that does not open, or opens to another key, is bogus and
 * skipped. Wraps written before key ids carry none: they are tried after the committed
 * ones (docs/research.md, "Study keys and pseudonyms").
 */
import { fromHex } from '$lib/core/index.js';
import { dataKeyId, EnvelopeError, isDataKeyId, newDataKey, wrapKey, type RecordContext, type WrappedKey } from '../privacy/envelope.js';
import type { StudyKeyWrap, StudyRecord } from './fold.js';
import type { KeyWrap } from './study.js';

/** The context a study key is bound to (the envelope's patient slot names the study; the category is fixed). */
const keyContext = (net: string, study: string): RecordContext => ({
	net,
	patient: `study-key/${study}`,
	category: 'demographics',
	epoch: 0
});

export const newStudyKey = newDataKey;

/** The id of study key `key`: a commitment to it and to its study, as data key ids are (envelope.ts `dataKeyId`). */
export const studyKeyId = (key: Uint8Array, net: string, study: string): Uint8Array => dataKeyId(key, keyContext(net, study));

/** Opens a key wrapped for this node (the node's keyring: `Keyring.openWrapped`); throws EnvelopeError when it is not. */
export type Unwrap = (wrap: WrappedKey, context: RecordContext) => Uint8Array;

/** `key` wrapped for each of `members` (hex keys), each wrap with the key's id. */
export function wrapStudyKey(key: Uint8Array, net: string, study: string, members: readonly string[]): Record<string, KeyWrap> {
	const kid = studyKeyId(key, net, study);
	const out: Record<string, KeyWrap> = {};
	for (const member of members) out[member] = { ...wrapKey(key, member, fromHex(member), keyContext(net, study)), kid };
	return out;
}

/** The key in `wrap` when it opens for this node and (if it names one) is the key its id commits to; null for a bogus or changed wrap. */
function openStudyWrap(wrap: StudyKeyWrap, context: RecordContext, unwrap: Unwrap): Uint8Array | null {
	let key: Uint8Array;
	try {
		key = unwrap(wrap, context);
	} catch (error) {
		if (error instanceof EnvelopeError) return null;
		throw error;
	}
	return !wrap.kid || isDataKeyId(wrap.kid, key, context) ? key : null;
}

/**
 * The study key as node `self` holds it: of the wraps for it, the first in ledger order
 * that opens to the key its id commits to, else the first without an id (written before
 * key ids) that opens; null when none does.
 */
export function unwrapStudyKey(study: StudyRecord, net: string, self: string, unwrap: Unwrap): Uint8Array | null {
	const wraps = study.keys[self] ?? [];
	const context = keyContext(net, study.id);
	// A committed key first: an uncommitted wrap could hold any key its writer liked.
	for (const wrap of [...wraps.filter((w) => w.kid), ...wraps.filter((w) => !w.kid)]) {
		const key = openStudyWrap(wrap, context, unwrap);
		if (key) return key;
	}
	return null;
}

/**
 * The `keys` field of this admin's `study.approve`: the key this node holds, or a new one
 * when it holds none that opens (none yet, or only bogus wraps), wrapped for every clinic
 * member (and this node) without a wrap of that key by this node or by the member itself.
 * A wrap by another admin does not count: only its reader can tell whether it opens.
 */
export function approvalWraps(
	study: StudyRecord,
	net: string,
	self: string,
	unwrap: Unwrap,
	clinicMembers: readonly string[]
): Record<string, KeyWrap> {
	const held = unwrapStudyKey(study, net, self, unwrap);
	const key = held ?? newStudyKey();
	const kid = studyKeyId(key, net, study.id);
	const given = (member: string) =>
		(study.keys[member] ?? []).some(
			(w) => (w.by === self || w.by === member) && w.kid !== undefined && w.kid.every((b, i) => b === kid[i])
		);
	const targets = [...new Set([self, ...clinicMembers])].filter((m) => m !== study.researcher && !(m === self ? held : given(m)));
	return wrapStudyKey(key, net, study.id, targets);
}
