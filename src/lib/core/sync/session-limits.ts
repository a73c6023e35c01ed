/**
 * Every cost a peer can cause a sync session (session.ts) is bounded by one of these; a peer
 * past a bound is disconnected with a reason that names it. See docs/protocol.md.
 */
import { MAX_BLOCK_BYTES } from '../block.js';
import { FRAME_OVERHEAD, MAX_FRAME_BYTES } from './messages.js';

/** Protocol errors tolerated before the peer is disconnected. */
export const MAX_PROTOCOL_ERRORS = 20;
/** Invalid blocks tolerated before the peer is disconnected (a flood, not an accident). */
export const MAX_BAD_BLOCKS = 1000;
/** Largest block accepted in parts; matches MAX_BLOCK_BYTES with room for framing. */
export const FRAME_PAYLOAD = MAX_FRAME_BYTES - FRAME_OVERHEAD;
export const MAX_PARTS = Math.ceil(MAX_BLOCK_BYTES / FRAME_PAYLOAD);
export const WANTS_PER_SECOND = 20;
/** Bytes per ledger.receive call. */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches handed to the ledger at once: the next one's signatures are checked while the previous one is written. */
export const RECEIVE_DEPTH = 2;
export const JOINS_PER_MINUTE = 6;
/** Hellos answered: a few at once, then one a second (an honest peer resends every 2 s). */
export const HELLO_BURST = 5;
export const HELLOS_PER_SECOND = 1;
/**
 * Blocks waiting for validation. A sender that respects acks keeps at most its window
 * (2,000 by default) in flight, plus gossip and want answers: far more means it ignores
 * flow control.
 */
export const MAX_INBOX_BLOCKS = 10_000;
export const MAX_INBOX_BYTES = 64 * 1024 * 1024;
/** Frames received and not yet handled (they queue only behind a slow signature or store read). */
export const MAX_QUEUED_FRAMES = 4096;
/**
 * Authors a peer may name across its vectors on one session: twice the authors this node
 * holds, plus more than one frame can carry (~1,770), so an honest peer ahead of us always
 * fits while fake authors cannot grow the per-vector work without bound.
 */
export const PEER_AUTHOR_SLACK = 2048;
/**
 * Copies of blocks already waiting, and copies of stored blocks beyond one per block this
 * node holds (two peers streaming the same catch-up in parallel send each block once):
 * honest overlap (gossip from several peers, a repaired stream) stays well below.
 */
export const DUPLICATE_BURST = 8000;
export const DUPLICATES_PER_SECOND = 200;
/** Backoffs (in retry periods) for asking again what did not come: wants, refused streams, repairs. */
export const MAX_BACKOFF_RETRIES = 64;
/** A block in parts not completed within this many retry periods is dropped. */
export const PARTS_TIMEOUT_RETRIES = 15;
