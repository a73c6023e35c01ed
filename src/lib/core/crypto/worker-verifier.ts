/**
 * Signature verification spread over Web Workers. Chromium runs WebCrypto Ed25519 on the
 * calling thread, so a catch-up of thousands of blocks verified in the page uses one
 * core and freezes the UI meanwhile. This verifier batches the calls made in one tick
 * and hands them to a pool of workers; decoding and hashing stay on the page, so the
 * page and the workers work in parallel. The answers are the workers' strict verifier's
 * (same prechecks, same engine detection), so validity does not depend on the pool.
 */
import { CodedError } from '../errors.js';
import { packVerifyItems } from './verify-batch.js';
import { detectVerifier, type Verifier } from './verifier.js';

/** What the pool needs of a worker (a Web Worker, or a stand-in in tests). */
export interface VerifyPort {
	/** A chunk travels packed in one buffer (verify-batch.ts; the signer's: worker-signer.ts), transferred. */
	postMessage(message: unknown, transfer: Transferable[]): void;
	onmessage: ((event: MessageEvent) => void) | null;
	/** A worker that fails to load or throws: its jobs go to the fallback verifier. */
	onerror?: ((event: ErrorEvent) => void) | null;
	terminate(): void;
}

interface Job {
	signature: Uint8Array;
	message: Uint8Array;
	publicKey: Uint8Array;
	resolve: (ok: boolean) => void;
	reject: (error: Error) => void;
}

interface PoolWorker {
	readonly port: VerifyPort;
	outstanding: number;
	dead: boolean;
}

/** Calls per message to a worker: large enough to amortize messaging, small enough to spread. */
const CHUNK = 64;

export interface WorkerVerifier extends Verifier {
	readonly workers: number;
	/** Workers that failed (their jobs and later ones went to the fallback). */
	readonly failedWorkers: number;
	/** Ends the workers. Calls still waiting are rejected (never answered false: a valid block must not be refused for it). */
	close(): void;
}

/**
 * A verifier over `size` workers made by `spawn`. `name` is the workers' engine.
 * `fallback` answers the calls of a worker that failed (a script that cannot load, a
 * crash), and every call once all have failed: same strict rules, on this thread.
 */
export function createWorkerPoolVerifier(
	spawn: () => VerifyPort,
	size: number,
	name: Verifier['name'],
	fallback: () => Promise<Verifier> = detectVerifier
): WorkerVerifier {
	const workers: PoolWorker[] = Array.from({ length: Math.max(1, size) }, () => ({ port: spawn(), outstanding: 0, dead: false }));
	const waiting = new Map<number, { worker: PoolWorker; jobs: Job[] }>();
	let nextId = 0;
	let queue: Job[] = [];
	let scheduled = false;
	let closed = false;
	let local: Promise<Verifier> | null = null;

	const runLocally = (jobs: Job[]) => {
		local ??= fallback();
		void local.then(
			(verifier) => {
				for (const job of jobs) verifier.verify(job.signature, job.message, job.publicKey).then(job.resolve, job.reject);
			},
			(error: unknown) => {
				for (const job of jobs) job.reject(error instanceof Error ? error : new Error(String(error)));
			}
		);
	};

	const fail = (worker: PoolWorker) => {
		if (worker.dead) return;
		worker.dead = true;
		worker.port.terminate();
		for (const [id, entry] of waiting) {
			if (entry.worker !== worker) continue;
			waiting.delete(id);
			runLocally(entry.jobs);
		}
		worker.outstanding = 0;
	};

	for (const worker of workers) {
		worker.port.onmessage = (event: MessageEvent<{ id: number; results: boolean[] }>) => {
			const entry = waiting.get(event.data.id);
			if (!entry) return;
			waiting.delete(event.data.id);
			worker.outstanding -= entry.jobs.length;
			entry.jobs.forEach((job, i) => job.resolve(event.data.results[i] === true));
		};
		worker.port.onerror = () => fail(worker);
	}

	const flush = () => {
		scheduled = false;
		const jobs = queue;
		queue = [];
		for (let i = 0; i < jobs.length; i += CHUNK) {
			const chunk = jobs.slice(i, i + CHUNK);
			const alive = workers.filter((w) => !w.dead);
			if (alive.length === 0) {
				runLocally(chunk);
				continue;
			}
			const worker = alive.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
			const id = nextId++;
			waiting.set(id, { worker, jobs: chunk });
			worker.outstanding += chunk.length;
			const items = packVerifyItems(chunk);
			worker.port.postMessage({ id, items }, [items.bytes.buffer, items.lengths.buffer]);
		}
	};

	return {
		name,
		workers: workers.length,
		get failedWorkers() {
			return workers.filter((w) => w.dead).length;
		},
		verify(signature, message, publicKey) {
			return new Promise<boolean>((resolve, reject) => {
				if (closed) {
					reject(new CodedError('VERIFIER_CLOSED', 'the signature verifier was closed'));
					return;
				}
				queue.push({ signature, message, publicKey, resolve, reject });
				if (!scheduled) {
					scheduled = true;
					queueMicrotask(flush);
				}
			});
		},
		close() {
			if (closed) return;
			closed = true;
			for (const w of workers) w.port.terminate();
			const error = new CodedError('VERIFIER_CLOSED', 'the signature verifier was closed');
			for (const { jobs } of waiting.values()) for (const job of jobs) job.reject(error);
			for (const job of queue) job.reject(error);
			waiting.clear();
			queue = [];
		}
	};
}

/**
 * The browser pool: one worker per core (at least 2), each verifying with WebCrypto.
 * Null where Web Workers are unavailable; the caller then uses `detectVerifier()`.
 */
export function createWorkerVerifier(size = Math.max(2, globalThis.navigator?.hardwareConcurrency ?? 2)): WorkerVerifier | null {
	if (typeof Worker === 'undefined') return null;
	return createWorkerPoolVerifier(() => new Worker(new URL('./verify-worker.ts', import.meta.url), { type: 'module' }), size, 'webcrypto');
}

let shared: WorkerVerifier | null | undefined;

/**
 * The page's one pool, started on first use and kept for the page's life: every ledger
 * opened in a page without a verifier of its own verifies through it (the app's node, the
 * demo's several nodes). Null where Web Workers are unavailable (Node, a worker).
 */
export function sharedWorkerVerifier(): WorkerVerifier | null {
	if (shared === undefined) shared = typeof document === 'undefined' ? null : createWorkerVerifier();
	return shared;
}
