/**
 * Where the time of bench/offline-merge.js goes, measured from outside the core: the
 * folds, the checkpoint CBOR, the store and the verifier wrapped and timed (offline-merge.ts).
 */
import { type Checkpoint, type Fold, type LedgerStore, type Verifier } from '../../src/lib/core/index.js';

export interface Breakdown {
	foldApply: number;
	foldEncode: number;
	cborEncode: number;
	foldDecode: number;
	cborDecode: number;
	verify: number;
	checkpointsWritten: number;
	checkpointsRead: number;
	applies: number;
}

export const heapNow = () => {
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
};

/**
 * The folds, each timed (apply, encode, decode), and hooks for the store to time the
 * canonical CBOR of a checkpoint around them: the engine encodes every fold, then the
 * whole as CBOR, then calls putCheckpoint; it reads a checkpoint, decodes the CBOR, then
 * every fold. (The core's summary fold comes first and is not wrapped: it is tiny.)
 */
export function instrument(b: Breakdown, sample: () => void, appFolds: readonly Fold<unknown>[]) {
	let lastEncodeEnd = 0;
	let checkpointReadAt = 0;
	let firstDecode = true;
	const folds = appFolds.map((f): Fold<unknown> => ({
		...f,
		apply(state, block, causal) {
			const t = performance.now();
			const out = f.apply(state, block, causal);
			b.foldApply += performance.now() - t;
			if (++b.applies % 100 === 0) sample();
			return out;
		},
		// A key re-applied after a late block counts as fold work too (core/fold.ts FoldKeys).
		...(f.keyed && {
			keyed: {
				...f.keyed,
				applyKey(state, block, key, context) {
					const t = performance.now();
					f.keyed!.applyKey(state, block, key, context);
					b.foldApply += performance.now() - t;
					if (++b.applies % 100 === 0) sample();
				}
			}
		}),
		encode(state) {
			const t = performance.now();
			const out = f.encode(state);
			lastEncodeEnd = performance.now();
			b.foldEncode += lastEncodeEnd - t;
			return out;
		},
		decode(value) {
			const t = performance.now();
			if (firstDecode && checkpointReadAt) b.cborDecode += t - checkpointReadAt;
			firstDecode = false;
			const out = f.decode(value);
			b.foldDecode += performance.now() - t;
			sample();
			return out;
		}
	}));
	const wrapStore = (store: LedgerStore): LedgerStore =>
		new Proxy(store, {
			get(target, property, receiver) {
				const value = Reflect.get(target, property, receiver);
				if (property === 'close') return async () => {};
				if (property === 'putCheckpoint')
					return (c: Checkpoint) => {
						b.cborEncode += performance.now() - lastEncodeEnd;
						b.checkpointsWritten++;
						sample();
						return target.putCheckpoint(c);
					};
				if (property === 'checkpointAtOrBefore')
					return async (position: Checkpoint['position'] | null) => {
						const c = await target.checkpointAtOrBefore(position);
						if (c) b.checkpointsRead++;
						sample();
						checkpointReadAt = performance.now();
						firstDecode = true;
						return c;
					};
				return typeof value === 'function'
					? (...args: unknown[]) => {
							sample();
							return (value as (...a: unknown[]) => unknown).apply(target, args);
						}
					: value;
			}
		});
	return { folds, wrapStore };
}

export function timedVerifier(verifier: Verifier, b: Breakdown): Verifier {
	let inFlight = 0;
	let since = 0;
	return {
		...verifier,
		name: verifier.name,
		async verify(signature, message, publicKey) {
			if (inFlight++ === 0) since = performance.now();
			try {
				return await verifier.verify(signature, message, publicKey);
			} finally {
				if (--inFlight === 0) b.verify += performance.now() - since;
			}
		}
	};
}
