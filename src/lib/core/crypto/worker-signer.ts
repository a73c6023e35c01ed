/**
 * Signing in a Web Worker. Chromium runs WebCrypto Ed25519 on the calling thread
 * (measured here: 4,000 signatures took 142 ms one after another and 119 ms all at once,
 * and a page busy with other work got almost nothing done meanwhile), so a batch of blocks
 * signed in the page spent about a quarter of its time signing (docs/benchmarks.md,
 * `append_batch_per_s`). The worker holds the same non-extractable key (a `CryptoKey` is
 * cloned to it, never its bytes) and signs while the page builds the next blocks
 * (`Pipeline.appendBatch` asks for every signature before awaiting any). The signatures
 * are the same bytes: Ed25519 signing is deterministic.
 */
import { assertBytes } from '../bytes.js';
import { CodedError } from '../errors.js';
import { publicKeyOf } from './ed25519.js';
import { createSigner, importSigningKey, webCryptoKeySigner, type Signer } from './verifier.js';
import type { VerifyPort } from './worker-verifier.js';

/**
 * What the signer needs of a worker: the verification pool's port (a Web Worker, or a
 * stand-in in tests). A worker that fails to load or throws: its jobs, and every later one,
 * go to the fallback signer.
 */
export type SignPort = VerifyPort;

interface Job {
	message: Uint8Array;
	resolve: (signature: Uint8Array) => void;
	reject: (error: Error) => void;
}

/** Messages per post: enough to amortize messaging, few enough that the worker starts early. */
const CHUNK = 32;

export interface WorkerSigner extends Signer {
	/** Whether the worker failed and the fallback signs instead. */
	readonly failed: boolean;
	/** Ends the worker; calls still waiting are rejected. */
	close(): void;
}

/**
 * A signer that sends its messages to `port` (a worker already holding the key) in chunks:
 * a full chunk at once, the rest on the next task. `fallback` signs with the same key on
 * this thread when the worker fails or answers with an error: a signature is never lost
 * to the worker, and never made with another key (the worker's answers are checked against
 * nothing else; it is this page's own code, given this page's key).
 */
export function createPortSigner(port: SignPort, fallback: Signer): WorkerSigner {
	const waiting = new Map<number, Job[]>();
	let queue: Job[] = [];
	let nextId = 0;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let dead = false;
	let closed = false;

	const signLocally = (jobs: readonly Job[]) => {
		for (const job of jobs) fallback.sign(job.message).then(job.resolve, job.reject);
	};
	const fail = () => {
		if (dead) return;
		dead = true;
		port.terminate();
		const jobs = [...waiting.values()].flat();
		waiting.clear();
		signLocally(jobs);
	};
	const flush = () => {
		if (timer !== null) clearTimeout(timer);
		timer = null;
		const jobs = queue;
		queue = [];
		if (jobs.length === 0) return;
		if (dead) {
			signLocally(jobs);
			return;
		}
		// Messages of one size travel end to end in one transferred buffer (block ids: all 32 bytes).
		const bySize = new Map<number, Job[]>();
		for (const job of jobs) {
			const group = bySize.get(job.message.length);
			if (group) group.push(job);
			else bySize.set(job.message.length, [job]);
		}
		for (const [size, group] of bySize) {
			const messages = new Uint8Array(size * group.length);
			group.forEach((job, i) => messages.set(job.message, i * size));
			const id = nextId++;
			waiting.set(id, group);
			port.postMessage({ id, messages, size, count: group.length }, [messages.buffer]);
		}
	};

	port.onmessage = (event: MessageEvent<{ id: number; signatures?: Uint8Array; error?: string }>) => {
		const jobs = waiting.get(event.data.id);
		if (!jobs) return;
		waiting.delete(event.data.id);
		const { signatures } = event.data;
		if (!(signatures instanceof Uint8Array) || signatures.length !== jobs.length * 64) {
			// The worker cannot sign (no key, no Ed25519 there): this thread signs from now on.
			signLocally(jobs);
			fail();
			return;
		}
		jobs.forEach((job, i) => job.resolve(signatures.slice(i * 64, (i + 1) * 64)));
	};
	port.onerror = () => fail();

	return {
		publicKey: fallback.publicKey,
		get failed() {
			return dead;
		},
		sign(message) {
			return new Promise<Uint8Array>((resolve, reject) => {
				if (closed) {
					reject(new CodedError('SIGNER_CLOSED', 'the signer was closed'));
					return;
				}
				assertBytes(message, 'message');
				// A copy: the caller may reuse its buffer before the chunk is sent.
				queue.push({ message: message.slice(), resolve, reject });
				if (queue.length >= CHUNK) flush();
				else timer ??= setTimeout(flush, 0);
			});
		},
		close() {
			if (closed) return;
			closed = true;
			if (timer !== null) clearTimeout(timer);
			port.terminate();
			const error = new CodedError('SIGNER_CLOSED', 'the signer was closed');
			for (const job of [...[...waiting.values()].flat(), ...queue]) job.reject(error);
			waiting.clear();
			queue = [];
		}
	};
}

/**
 * The page's signer for `secret`: a worker holding it as a non-extractable WebCrypto key,
 * with the same key on the page as its fallback. Where there is no Web Worker or no
 * WebCrypto Ed25519, {@link createSigner}'s signer (WebCrypto on this thread, else noble).
 */
export async function createWorkerSigner(secret: Uint8Array): Promise<Signer> {
	const subtle = globalThis.crypto?.subtle;
	if (typeof Worker === 'undefined' || typeof document === 'undefined' || subtle === undefined) return createSigner(secret);
	let key: CryptoKey;
	try {
		key = await importSigningKey(subtle, secret);
	} catch {
		return createSigner(secret);
	}
	const worker = new Worker(new URL('./sign-worker.ts', import.meta.url), { type: 'module' });
	worker.postMessage({ key });
	return createPortSigner(worker, webCryptoKeySigner(subtle, key, publicKeyOf(secret)));
}
