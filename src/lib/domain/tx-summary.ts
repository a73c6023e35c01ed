/** One-line, human descriptions of transactions, for lists and audit views. */
import { toHex, type Tx } from '$lib/core/index.js';
import { summarizeSupplyTx } from './supply/summary.js';

/** A transaction as a list shows it: its type and what it says. */
export interface TxSummary {
	readonly type: string;
	readonly text: string;
}

const shortKey = (key: unknown): string => (key instanceof Uint8Array ? toHex(key).slice(0, 8) : 'unknown key');

/** A byte count as people read it: 1.4 MB, 820 kB, 12 bytes (decimal units, as file managers show). */
export function fileSize(bytes: number): string {
	if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
	if (bytes >= 1_000) return `${Math.round(bytes / 1_000)} kB`;
	return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** What `tx` does, in words; unknown types are named, never hidden. */
export function summarizeTx(tx: Tx): TxSummary {
	switch (tx.t) {
		case 'genesis':
			return { type: tx.t, text: `Network founded: ${String(tx.name)}` };
		case 'note':
			return { type: tx.t, text: String(tx.text) };
		case 'member.add':
			return {
				type: tx.t,
				text: `Member added: ${typeof tx.name === 'string' ? `${tx.name} ` : ''}(${shortKey(tx.key)}) as ${String(tx.role)}${tx.invite instanceof Uint8Array ? ' with an invite' : ''}`
			};
		case 'attachment': {
			const size = tx.data instanceof Uint8Array ? ` (${fileSize(tx.data.length)}, ${String(tx.mime)})` : '';
			return { type: tx.t, text: `File attached: ${String(tx.name)}${size}` };
		}
		case 'room.rotate':
			return {
				type: tx.t,
				text: `Room secret rotated (epoch ${String(tx.epoch)}): a new signaling room for ${Array.isArray(tx.wraps) ? tx.wraps.length : '?'} remaining members`
			};
		case 'member.role':
			return { type: tx.t, text: `Role changed: ${shortKey(tx.key)} is now ${String(tx.role)}` };
		case 'clinical.note':
			return { type: tx.t, text: `Clinical note: ${String(tx.text)}` };
		case 'invite.create':
			return {
				type: tx.t,
				text: `Invite created for a ${String(tx.role)}${typeof tx.label === 'string' ? ` (${tx.label})` : ''}, valid until ${typeof tx.expires === 'number' ? new Date(tx.expires).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '?'}`
			};
		case 'invite.revoke':
			return { type: tx.t, text: `Invite withdrawn: ${shortKey(tx.token)}${typeof tx.reason === 'string' ? ` (${tx.reason})` : ''}` };
		case 'consent.grant':
			return { type: tx.t, text: 'Consent granted by a patient (signed by the patient’s key)' };
		case 'consent.revoke':
			return { type: tx.t, text: `Consent revoked by patient ${shortKey(tx.patient)}` };
		case 'member.revoke':
			return { type: tx.t, text: `Member revoked: ${shortKey(tx.key)}${typeof tx.reason === 'string' ? ` (${tx.reason})` : ''}` };
		case 'record.put':
			// Only what is in clear: a node without the key sees the category, the patient's pseudonymous key and the size.
			return {
				type: tx.t,
				text: `Sealed ${String(tx.category)} record${tx.prev instanceof Uint8Array ? ' (amendment)' : ''} for patient ${shortKey(tx.patient)}: ${tx.ct instanceof Uint8Array ? fileSize(tx.ct.length) : '?'} of ciphertext`
			};
		case 'key.wrap':
			return {
				type: tx.t,
				text: `Data key for patient ${shortKey(tx.patient)}'s ${String(tx.category)} wrapped for ${Array.isArray(tx.wraps) ? tx.wraps.length : '?'} reader(s)${tx.grant instanceof Uint8Array ? ' (by grant)' : tx.breakglass instanceof Uint8Array ? ' (emergency access)' : ''}`
			};
		case 'access.request':
			return {
				type: tx.t,
				text: `Access requested to patient ${shortKey(tx.patient)}'s ${Array.isArray(tx.categories) ? tx.categories.join(', ') : ''}: ${String(tx.reason)}`
			};
		case 'access.breakglass':
			return {
				type: tx.t,
				text: `EMERGENCY ACCESS to patient ${shortKey(tx.patient)}'s ${Array.isArray(tx.categories) ? tx.categories.join(', ') : ''}: ${String(tx.reason)}`
			};
		case 'access.log':
			return {
				type: tx.t,
				text: `Reads logged: ${Array.isArray(tx.entries) ? tx.entries.length : '?'} entr${Array.isArray(tx.entries) && tx.entries.length === 1 ? 'y' : 'ies'}`
			};
		case 'study.register':
			return {
				type: tx.t,
				text: `Study registered: ${String(tx.title)} (ethics ${String(tx.ethics)})${typeof tx.budget === 'number' && tx.budget > 0 ? `, privacy budget ε ${(tx.budget / 1000).toFixed(3)}` : ''}`
			};
		case 'study.approve':
			return { type: tx.t, text: `Study ${shortKey(tx.study)} approved by this clinic` };
		case 'study.consent':
			return { type: tx.t, text: `Patient ${shortKey(tx.patient)} consented to study ${shortKey(tx.study)} (signed by the patient’s key)` };
		case 'study.query':
			return {
				type: tx.t,
				text: `Study ${shortKey(tx.study)} query${typeof tx.epsilon === 'number' && tx.epsilon > 0 ? `, spending ε ${(tx.epsilon / 1000).toFixed(3)}` : ''}`
			};
		case 'study.result':
			return {
				type: tx.t,
				text: `Answer to a query of study ${shortKey(tx.study)}, sealed for the researcher (${tx.ct instanceof Uint8Array ? fileSize(tx.ct.length) : '?'})`
			};
		case 'contract.deploy':
			return { type: tx.t, text: `Policy deployed: plan ${String(tx.plan)}, version ${String(tx.version)}` };
		case 'coverage.enroll':
			return {
				type: tx.t,
				text: `Coverage ${String(tx.id)} in plan ${String(tx.plan)} for patient ${shortKey(tx.patient)} from ${String(tx.start)}`
			};
		case 'auth.grant':
			return {
				type: tx.t,
				text: `Prior authorization ${String(tx.id)}: ${String(tx.code)} on coverage ${String(tx.coverage)}, ${String(tx.start)} to ${String(tx.end)}`
			};
		case 'claim.submit':
			return { type: tx.t, text: 'Claim submitted (FHIR Claim; its outcome is computed by every node)' };
		case 'claim.correct':
			return { type: tx.t, text: `Corrected claim replacing ${String(tx.original).slice(0, 12)}` };
		case 'claim.appeal':
			return { type: tx.t, text: `Appeal of claim ${String(tx.original).slice(0, 12)}: ${String(tx.reason)}` };
		case 'payment.record':
			return {
				type: tx.t,
				text: `Payment of $${typeof tx.amount === 'number' ? (tx.amount / 100).toFixed(2) : '?'} from patient ${shortKey(tx.patient)}`
			};
		case 'remittance.record':
			return {
				type: tx.t,
				text: `Remittance of $${typeof tx.amount === 'number' ? (tx.amount / 100).toFixed(2) : '?'} for claim ${String(tx.claim).slice(0, 12)}`
			};
		case 'patient.deceased':
			return { type: tx.t, text: `Death recorded for patient ${shortKey(tx.patient)} on ${String(tx.date)}` };
		default:
			return { type: tx.t, text: summarizeSupplyTx(tx) ?? `Transaction of type ${tx.t}` };
	}
}
