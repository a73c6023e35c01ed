/**
 * Signature verification spread over Web Workers. Chromium runs WebCrypto Ed25519 on the
 * calling thread, so a catch-up of thousands of blocks verified in the page uses one
 * core and freezes the UI meanwhile. This verifier batches the calls made in one tick
 * and hands them to a pool of workers; decoding and hashing stay on the page, so the
 * page and the workers work in parallel. The answers are the workers' strict verifier's
 * (same prechecks, same engine detection), so validity does not depend on the pool.
 */
import type { Verifier } from './verifier.js';

/** What the pool needs of a worker (a Web Worker, or a stand-in in tests). */
export interface VerifyPort {
	postMessage(message: unknown): void;
	onmessage: ((event: MessageEvent) => void) | null;
	terminate(): void;
}

interface Job {
	signature: Uint8Array;
	message: Uint8Array;
	publicKey: Uint8Array;
	resolve: (ok: boolean) => void;
}

/** Calls per message to a worker: large enough to amortize messaging, small enough to spread. */
const CHUNK = 64;

export interface WorkerVerifier extends Verifier {
	readonly workers: number;
	close(): void;
}

/** A verifier over `size` workers made by `spawn`. `name` is the workers' engine. */
export function createWorkerPoolVerifier(spawn: () => VerifyPort, size: number, name: Verifier['name']): WorkerVerifier {
	const workers = Array.from({ length: Math.max(1, size) }, () => ({ port: spawn(), outstanding: 0 }));
	const waiting = new Map<number, Job[]>();
	let nextId = 0;
	let queue: Job[] = [];
	let scheduled = false;

	for (const worker of workers) {
		worker.port.onmessage = (event: MessageEvent<{ id: number; results: boolean[] }>) => {
			const jobs = waiting.get(event.data.id);
			if (!jobs) return;
			waiting.delete(event.data.id);
			worker.outstanding -= jobs.length;
			jobs.forEach((job, i) => job.resolve(event.data.results[i] === true));
		};
	}

	const flush = () => {
		scheduled = false;
		const jobs = queue;
		queue = [];
		for (let i = 0; i < jobs.length; i += CHUNK) {
			const chunk = jobs.slice(i, i + CHUNK);
			const worker = workers.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
			const id = nextId++;
			waiting.set(id, chunk);
			worker.outstanding += chunk.length;
			worker.port.postMessage({ id, items: chunk.map(({ signature, message, publicKey }) => ({ signature, message, publicKey })) });
		}
	};

	return {
		name,
		workers: workers.length,
		verify(signature, message, publicKey) {
			return new Promise<boolean>((resolve) => {
				queue.push({ signature, message, publicKey, resolve });
				if (!scheduled) {
					scheduled = true;
					queueMicrotask(flush);
				}
			});
		},
		close() {
			for (const w of workers) w.port.terminate();
			for (const jobs of waiting.values()) for (const job of jobs) job.resolve(false);
			waiting.clear();
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
