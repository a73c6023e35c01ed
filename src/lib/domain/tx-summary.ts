/** One-line, human descriptions of transactions, for lists and audit views. */
import { toHex, type Tx } from '$lib/core/index.js';

/** A transaction as a list shows it: its type and what it says. */
export interface TxSummary {
	readonly type: string;
	readonly text: string;
}

const shortKey = (key: unknown): string => (key instanceof Uint8Array ? toHex(key).slice(0, 8) : 'unknown key');

/** What `tx` does, in words; unknown types are named, never hidden. */
export function summarizeTx(tx: Tx): TxSummary {
	switch (tx.t) {
		case 'genesis':
			return { type: tx.t, text: `Network founded: ${String(tx.name)}` };
		case 'note':
			return { type: tx.t, text: String(tx.text) };
		case 'member.add':
			return { type: tx.t, text: `Member added: ${typeof tx.name === 'string' ? `${tx.name} ` : ''}(${shortKey(tx.key)}) as ${String(tx.role)}` };
		case 'member.revoke':
			return { type: tx.t, text: `Member revoked: ${shortKey(tx.key)}${typeof tx.reason === 'string' ? ` (${tx.reason})` : ''}` };
		default:
			return { type: tx.t, text: `Transaction of type ${tx.t}` };
	}
}
