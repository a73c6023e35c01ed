/**
 * scrypt for the keystore (keystore.ts), in a Web Worker where there is one (kdf-worker.ts):
 * off the page's thread, so the page opens the ledger while the passphrase is checked
 * (state/node.svelte.ts) instead of after. Where there is no worker (Node), or the worker
 * fails to load or dies, on the calling thread, yielding every few ms so the page stays
 * responsive. The same function of the same inputs either way (@noble/hashes' scryptAsync).
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import type { KdfAnswer, KdfRequest } from './kdf-worker.js';

/** scrypt's work factors and the most memory a derivation may take. */
export interface ScryptWork {
	readonly N: number;
	readonly r: number;
	readonly p: number;
	readonly maxmem: number;
}

/** The page's worker, made on first use; null outside a browser or once it failed. */
let worker: Worker | null | undefined;
/** Derivations waiting on the worker, by request id. */
const pending = new Map<
	number,
	{ resolve: (key: Uint8Array) => void; reject: (error: Error) => void; onProgress?: (fraction: number) => void }
>();
let nextRequest = 0;

function kdfWorker(): Worker | null {
	if (worker !== undefined) return worker;
	if (typeof Worker === 'undefined') return (worker = null);
	try {
		const w = new Worker(new URL('./kdf-worker.ts', import.meta.url), { type: 'module' });
		w.onmessage = ({ data }: MessageEvent<KdfAnswer>) => {
			const job = pending.get(data.id);
			if (!job) return;
			if ('progress' in data) return job.onProgress?.(data.progress);
			pending.delete(data.id);
			if ('key' in data) job.resolve(data.key);
			else job.reject(new Error(data.error));
		};
		w.onerror = () => failWorker();
		worker = w;
	} catch {
		worker = null;
	}
	return worker;
}

/** The worker failed to load or died: the derivations waiting on it are refused (each is then done on this thread), and none is sent to it again. */
function failWorker(): void {
	worker?.terminate();
	worker = null;
	for (const job of pending.values()) job.reject(new Error('the key-derivation worker failed'));
	pending.clear();
}

/**
 * Makes the worker ahead of the first derivation (the lock screen calls it), so loading its
 * script does not delay the unlock. Does nothing outside a browser.
 */
export function prepareKeyDerivation(): void {
	kdfWorker();
}

/** Whether derivations go to the worker (false outside a browser, or once it failed). */
export const derivesInWorker = (): boolean => kdfWorker() !== null;

/** A 32-byte key from `password` and `salt` (the caller zeroes `password` afterwards; the worker gets a copy). */
export async function scrypt(
	password: Uint8Array,
	salt: Uint8Array,
	work: ScryptWork,
	onProgress?: (fraction: number) => void
): Promise<Uint8Array> {
	const w = kdfWorker();
	if (w) {
		const key = await new Promise<Uint8Array>((resolve, reject) => {
			const id = nextRequest++;
			pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
			const copy = password.slice();
			const request: KdfRequest = { id, password: copy, salt: salt.slice(), N: work.N, r: work.r, p: work.p, maxmem: work.maxmem };
			w.postMessage(request, [copy.buffer]);
		}).catch(() => null);
		if (key) return key;
	}
	return scryptAsync(password, salt, {
		N: work.N,
		r: work.r,
		p: work.p,
		dkLen: 32,
		maxmem: work.maxmem,
		asyncTick: 10,
		...(onProgress ? { onProgress } : {})
	});
}
