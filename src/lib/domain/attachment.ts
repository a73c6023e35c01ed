/**
 * A file attached to the ledger (a scan, a lab report PDF): up to 5 MB in one block.
 * Stored as given for now; clinical payload encryption comes with the privacy work.
 */
import type { Tx, TxRule } from '$lib/core/index.js';

export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;
const MIME = /^[a-z]+\/[a-z0-9.+-]+$/i;

export const attachmentRule: TxRule = {
	type: 'attachment',
	check(tx) {
		for (const key of Object.keys(tx)) if (!['t', 'name', 'mime', 'data'].includes(key)) return `unexpected field ${key}`;
		if (typeof tx.name !== 'string' || tx.name.trim() === '' || tx.name.length > 200) return 'name: expected 1-200 characters';
		if (typeof tx.mime !== 'string' || !MIME.test(tx.mime)) return 'mime: expected a media type like application/pdf';
		if (!(tx.data instanceof Uint8Array) || tx.data.length === 0) return 'data: expected file bytes';
		if (tx.data.length > MAX_ATTACHMENT_BYTES) return `data: larger than ${MAX_ATTACHMENT_BYTES} bytes`;
		return null;
	}
};

/** The transaction for a file, or a readable problem. */
export function attachmentTx(name: string, mime: string, data: Uint8Array): Tx | string {
	const tx: Tx = { t: 'attachment', name, mime: mime || 'application/octet-stream', data };
	return attachmentRule.check(tx, undefined as never) ?? tx;
}
