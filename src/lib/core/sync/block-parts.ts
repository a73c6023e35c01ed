/**
 * Blocks on the wire: packed into as few `blocks` frames as fit, and a block larger than
 * a frame cut into `part` frames and put back together on the other side (bounded: a
 * few blocks in parts at once, each dropped when its parts stop arriving).
 */
import { toHex } from '../bytes.js';
import type { BlockId } from '../types.js';
import type { Message } from './messages.js';
import { FRAME_PAYLOAD, MAX_PARTS } from './session-limits.js';

/** Blocks in parts assembled at once; a new one pushes out the oldest. */
const MAX_ASSEMBLING = 4;

/** The frames that carry `list`: blocks packed into as few frames as fit, a block larger than a frame in parts. */
export function framesFor(list: readonly Uint8Array[]): Message[] {
	const out: Message[] = [];
	let frame: Uint8Array[] = [];
	let size = 0;
	for (const bytes of list) {
		if (bytes.length > FRAME_PAYLOAD) {
			out.push(...partsOf(bytes));
			continue;
		}
		if (size + bytes.length > FRAME_PAYLOAD) {
			out.push({ m: 'blocks', items: frame });
			frame = [];
			size = 0;
		}
		frame.push(bytes);
		// Each item costs its length prefix too (at most 5 bytes below 64 KiB).
		size += bytes.length + 5;
	}
	if (frame.length > 0) out.push({ m: 'blocks', items: frame });
	return out;
}

function partsOf(bytes: Uint8Array): Message[] {
	const total = Math.ceil(bytes.length / FRAME_PAYLOAD);
	// The id is the block's first CBOR item: bytes 3..35 of `83 58 20 <id>`.
	const id = toHex(bytes.subarray(3, 35)) as BlockId;
	const out: Message[] = [];
	for (let i = 0; i < total; i++)
		out.push({ m: 'part', id, index: i, total, data: bytes.subarray(i * FRAME_PAYLOAD, (i + 1) * FRAME_PAYLOAD) });
	return out;
}

interface Assembling {
	total: number;
	pieces: (Uint8Array | undefined)[];
	have: number;
	at: number;
}

/** Puts blocks sent in parts back together. */
export class PartsAssembler {
	#parts = new Map<BlockId, Assembling>();

	/**
	 * Takes one part: the whole block once its last part came, a protocol problem (the
	 * part breaks a bound or contradicts earlier parts), or nothing yet.
	 */
	add(msg: Extract<Message, { m: 'part' }>, now: number): { whole: Uint8Array } | { problem: string } | null {
		if (msg.total > MAX_PARTS) return { problem: `block in ${msg.total} parts exceeds the block size limit` };
		let entry = this.#parts.get(msg.id);
		if (!entry) {
			if (this.#parts.size >= MAX_ASSEMBLING) this.#parts.delete(this.#parts.keys().next().value!);
			entry = { total: msg.total, pieces: new Array(msg.total), have: 0, at: now };
			this.#parts.set(msg.id, entry);
		}
		if (entry.total !== msg.total) return { problem: 'part count changed' };
		if (entry.pieces[msg.index]) return null;
		entry.pieces[msg.index] = msg.data;
		entry.have++;
		entry.at = now;
		if (entry.have < entry.total) return null;
		this.#parts.delete(msg.id);
		const length = entry.pieces.reduce((n, p) => n + p!.length, 0);
		const whole = new Uint8Array(length);
		let offset = 0;
		for (const p of entry.pieces) {
			whole.set(p!, offset);
			offset += p!.length;
		}
		return { whole };
	}

	/** Drops blocks whose last part came `maxAgeMs` or more before `now`: their pieces would otherwise be held for ever. */
	expire(now: number, maxAgeMs: number): { id: BlockId; have: number; total: number; ageMs: number }[] {
		const dropped: { id: BlockId; have: number; total: number; ageMs: number }[] = [];
		for (const [id, entry] of this.#parts) {
			if (now - entry.at < maxAgeMs) continue;
			this.#parts.delete(id);
			dropped.push({ id, have: entry.have, total: entry.total, ageMs: now - entry.at });
		}
		return dropped;
	}

	clear(): void {
		this.#parts.clear();
	}
}
