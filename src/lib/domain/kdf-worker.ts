/**
 * Worker side of the key derivation (keystore.ts `derive`): scrypt off the page's thread, so
 * the page opens the ledger while the passphrase is checked (state/node.svelte.ts). Answers
 * each request with progress messages, then the derived key or an error; the passphrase's
 * bytes are zeroed once used.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';

/** A derivation asked of the worker: the passphrase's bytes (transferred), salt, scrypt parameters. */
export interface KdfRequest {
	id: number;
	password: Uint8Array<ArrayBuffer>;
	salt: Uint8Array;
	N: number;
	r: number;
	p: number;
	maxmem: number;
}

/** Progress (a fraction), the key, or why it failed. */
export type KdfAnswer = { id: number; progress: number } | { id: number; key: Uint8Array } | { id: number; error: string };

const scope = globalThis as unknown as {
	onmessage: ((event: MessageEvent<KdfRequest>) => void) | null;
	postMessage(message: KdfAnswer, transfer?: Transferable[]): void;
};

scope.onmessage = async ({ data }) => {
	const { id, password, salt, N, r, p, maxmem } = data;
	try {
		// A percent is all a progress bar shows: at most 100 messages per derivation.
		let shown = -1;
		const onProgress = (fraction: number) => {
			const percent = Math.floor(fraction * 100);
			if (percent === shown) return;
			shown = percent;
			scope.postMessage({ id, progress: fraction });
		};
		const key = await scryptAsync(password, salt, { N, r, p, dkLen: 32, maxmem, asyncTick: 50, onProgress });
		scope.postMessage({ id, key }, [key.buffer as ArrayBuffer]);
	} catch (error) {
		scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
	} finally {
		password.fill(0);
	}
};
