/**
 * A checkpoint's bytes: each fold's state as a byte string of its own, and checkpoints
 * other than the two newest kept compressed (from {@link COMPRESS_FROM_BYTES} up). A checkpoint holds the whole state, and a ledger
 * keeps about twice the log2 of its clock of them (checkpoint-ladder.ts): at a million
 * blocks a dozen of tens of MB each, most of it claims packed as JSON, which gzip shrinks
 * about tenfold. The two newest stay as they were written: a start reads the newest, and a
 * clinic back from a day offline rewinds to the checkpoint its day started after, the
 * newest or the one before it (decompressing 73 MB costs about 200 ms in Chromium; it made
 * the 100,000-block offline merge 236 ms slower). The one before those is compressed when a
 * newer one is written (`FoldEngine`). A rewind to an older one decompresses it.
 *
 * A compressed checkpoint is one gzip member (RFC 1952, through the platform's
 * CompressionStream): its CRC-32 and length make a checkpoint damaged on disk fail to
 * inflate rather than decode to another state. It starts with 0x1f 0x8b; a checkpoint as
 * written is a canonical CBOR map, and no well-formed CBOR item starts with 0x1f, so the
 * two never mix up and checkpoints written before this change read as they are.
 */
import { decodeCanonical, encodeCanonical } from '../codec.js';
import type { Fold } from '../fold.js';
import { compareOrder, type LedgerStore, type OrderKey } from '../storage/store.js';

/** Whether `bytes` is a compressed checkpoint ({@link compressCheckpoint}). */
export const isCompressed = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/**
 * Checkpoints smaller than this stay as written: compressing one saves under a MB and costs
 * a read and a durable write of its own (a strict IndexedDB commit) at every checkpoint,
 * which a ledger of small states writes every 1,000 blocks.
 */
export const COMPRESS_FROM_BYTES = 1 << 20;

/** Bytes handed to a (de)compression stream at a time: about 10 ms of zlib's work each on this machine's cores. */
const COMPRESS_PIECE = 1 << 20;
const DECOMPRESS_PIECE = 1 << 17;

/** Lets every task already queued run first (a message to itself: no 4 ms clamp, as nested timeouts have, and no priority over other tasks, as `scheduler.yield()` has). */
const yieldToTasks = (): Promise<void> =>
	new Promise((resolve) => {
		const { port1, port2 } = new MessageChannel();
		port1.onmessage = () => {
			port1.close();
			resolve();
		};
		port2.postMessage(null);
	});

/**
 * `bytes` through `stream`, a piece at a time with a task between pieces: zlib runs on the
 * calling thread (Chromium's main thread for the app), and 73 MB in one piece held it for
 * 0.8-0.9 s (compressing) and 0.2 s (decompressing) with nothing else run in between.
 */
async function through(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, piece: number): Promise<Uint8Array> {
	const writer = stream.writable.getWriter();
	const output = new Response(stream.readable).arrayBuffer();
	// A failed write (damaged input) also fails the output: that error is the one thrown below.
	const written = (async () => {
		for (let at = 0; at < bytes.length; at += piece) {
			if (at > 0) await yieldToTasks();
			await writer.write(bytes.subarray(at, at + piece) as Uint8Array<ArrayBuffer>);
		}
		await writer.close();
	})();
	written.catch(() => {});
	const [out] = await Promise.all([output, written]);
	return new Uint8Array(out);
}

/** `bytes` compressed (gzip); bytes already compressed are given back as they are. */
export async function compressCheckpoint(bytes: Uint8Array): Promise<Uint8Array> {
	return isCompressed(bytes) ? bytes : through(bytes, new CompressionStream('gzip'), COMPRESS_PIECE);
}

/** The checkpoint's bytes as written: inflated when compressed, else `bytes` itself. Throws on damaged data (CRC-32 or length wrong, cut short). */
export async function decompressCheckpoint(bytes: Uint8Array): Promise<Uint8Array> {
	return isCompressed(bytes) ? through(bytes, new DecompressionStream('gzip'), DECOMPRESS_PIECE) : bytes;
}

/**
 * Compresses the third newest checkpoint of `positions` (the store's, as listed before
 * `drop` were dropped) when it is kept, not compressed yet and at least
 * {@link COMPRESS_FROM_BYTES}; true when it did. `small(position)`: true for a checkpoint
 * known to be under that size, left unread.
 */
export async function compressOlder(
	store: LedgerStore,
	positions: readonly OrderKey[],
	drop: readonly OrderKey[],
	small: (position: OrderKey) => boolean = () => false
): Promise<boolean> {
	const kept = positions.filter((p) => !drop.some((d) => compareOrder(d, p) === 0));
	const at = kept.length > 2 ? kept[kept.length - 3]! : undefined;
	const previous = at && !small(at) ? await store.checkpointAtOrBefore(at) : undefined;
	if (!previous || previous.state.length < COMPRESS_FROM_BYTES || isCompressed(previous.state)) return false;
	await store.putCheckpoint({ ...previous, state: await compressCheckpoint(previous.state) });
	return true;
}

/** Names the folds (and versions) a checkpoint was written by, and its layout. */
const LAYOUT = 'states-as-bytes;';
const signature = (folds: readonly Fold<unknown>[]) => `${LAYOUT}${folds.map((f) => `${f.name}@${f.version}`).join(',')}`;

/**
 * A checkpoint's bytes: the folds' signature and each fold's encoded state as a byte
 * string of its own, so a rewind of some folds decodes only theirs.
 */
export function encodeCheckpointStates(folds: readonly Fold<unknown>[], states: readonly unknown[]): Uint8Array {
	return encodeCanonical({ folds: signature(folds), states: folds.map((f, i) => encodeCanonical(f.encode(states[i]))) });
}

/**
 * The states of the folds at `subset` (all when omitted) in a checkpoint's bytes, by fold
 * index; null when one of them is not in it at its version (a fold added or changed since),
 * or it has another layout. A fold it holds that the ledger no longer runs is passed over:
 * taking a fold out (its state moved to an index) costs no refold.
 */
export function decodeCheckpointStates(
	folds: readonly Fold<unknown>[],
	bytes: Uint8Array,
	subset: readonly number[] = folds.map((_, i) => i)
): Map<number, unknown> | null {
	// The states' byte strings are only read by the decodes below: views, not copies of every fold's state.
	const value = decodeCanonical(bytes, { views: true }) as { folds: string; states: Uint8Array[] };
	if (typeof value.folds !== 'string' || !value.folds.startsWith(LAYOUT)) return null;
	const written = value.folds.slice(LAYOUT.length).split(',');
	if (written.length !== value.states.length) return null;
	const places = subset.map((i) => written.indexOf(`${folds[i]!.name}@${folds[i]!.version}`));
	if (places.some((at) => at < 0)) return null;
	return new Map(
		subset.map((i, n) => [i, folds[i]!.decode(decodeCanonical(value.states[places[n]!]!, { views: folds[i]!.decodesViews === true }))])
	);
}
