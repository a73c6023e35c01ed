/**
 * The baseline: the same block bytes as entries of a plain Yjs Y.Array, synced by
 * y-webrtc with the options the Mesh uses (room password, host candidates only, no
 * BroadcastChannel peers). No verification, no persistence: only Yjs and y-webrtc.
 */
import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';
import { fileBytes } from './fixture.js';
import { epochNow } from './probe.js';

/** Every RTCDataChannel.send that threw in this page (y-webrtc catches and ignores them). */
export const sendFailures: { label: string; bytes: number; error: string }[] = [];

/** Records refused data-channel messages before rethrowing, so a silent drop becomes visible. */
export function watchDataChannelSends(): void {
	const original = RTCDataChannel.prototype.send;
	RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
		try {
			return original.call(this, data);
		} catch (error) {
			const d = data as { byteLength?: number; size?: number; length?: number };
			sendFailures.push({ label: this.label, bytes: d.byteLength ?? d.size ?? d.length ?? -1, error: String(error) });
			throw error;
		}
	} as typeof original;
}

type Conn = { connected: boolean };

/** The block bytes the baseline carries: those the ledger run synced. Kept across docs. */
let prepared: Uint8Array[] = [];

/** Sets the blocks the baseline docs carry; returns their count and size. */
export function prepareBlocks(blocks: Uint8Array[]) {
	prepared = blocks;
	return { count: blocks.length, bytes: blocks.reduce((n, b) => n + b.length, 0), largest: Math.max(0, ...blocks.map((b) => b.length)) };
}

export class YjsNode {
	doc = new Y.Doc();
	entries = this.doc.getArray<Uint8Array>('blocks');
	provider: WebrtcProvider | null = null;
	#startPerf = 0;
	#arrivals = new Map<number, number>();

	/** Puts the first prepared blocks, up to `maxBytes` in all, into the doc in one transaction (before joining the room). */
	fill(params: { maxBytes?: number }) {
		let size = 0;
		let count = 0;
		while (count < prepared.length && size + prepared[count]!.length <= (params.maxBytes ?? Infinity)) size += prepared[count++]!.length;
		this.doc.transact(() => this.entries.push(prepared.slice(0, count)));
		return { length: this.entries.length, entryBytes: size, updateBytes: Y.encodeStateAsUpdate(this.doc).length };
	}

	/** Joins `room`; the clock of a catch-up starts here. */
	join(params: { room: string; secret: string; signaling: string[] }) {
		const startAt = epochNow();
		this.#startPerf = performance.now();
		this.provider = new WebrtcProvider(params.room, this.doc, {
			signaling: params.signaling,
			password: params.secret,
			filterBcConns: true,
			peerOpts: { config: { iceServers: [] } }
		});
		return { startAt };
	}

	#conns(): Conn[] {
		return [...(this.provider?.room?.webrtcConns.values() ?? [])] as unknown as Conn[];
	}

	/**
	 * Resolves when `count` WebRTC connections are up; after `timeoutMs`, resolves anyway
	 * if at least `atLeast` are (y-webrtc relays updates, so a partial mesh still syncs).
	 */
	async waitConnected(params: { count: number; timeoutMs: number; atLeast?: number }) {
		const deadline = performance.now() + params.timeoutMs;
		const connected = () => this.#conns().filter((c) => c.connected).length;
		while (connected() < params.count) {
			if (performance.now() > deadline) {
				if (connected() >= (params.atLeast ?? params.count)) break;
				throw new Error(`yjs: ${connected()} of ${params.count} WebRTC connections after ${params.timeoutMs / 1000} s`);
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		return { connectedMs: performance.now() - this.#startPerf, ...this.status() };
	}

	/** Pushes the prepared blocks in transactions of at most `maxBytes`, once connected. */
	pushChunked(params: { maxBytes: number }) {
		const pushedAt = epochNow();
		let chunk: Uint8Array[] = [];
		let size = 0;
		let transactions = 0;
		const flush = () => {
			if (chunk.length === 0) return;
			this.doc.transact(() => this.entries.push(chunk));
			transactions++;
			chunk = [];
			size = 0;
		};
		for (const b of prepared) {
			if (size + b.length > params.maxBytes) flush();
			chunk.push(b);
			size += b.length;
		}
		flush();
		return { pushedAt, transactions };
	}

	/** Pushes one entry (e.g. an attachment block's wire bytes). */
	pushEntry(entry: Uint8Array) {
		const pushedAt = epochNow();
		this.entries.push([entry]);
		return { pushedAt, bytes: entry.length };
	}

	/** Resolves when the array holds `length` entries; a timeout is a result, not an error. */
	waitLength(params: { length: number; timeoutMs: number }) {
		return new Promise<{ converged: boolean; doneAt: number; ms: number; length: number }>((resolve) => {
			const finish = (converged: boolean) => {
				this.entries.unobserve(check);
				clearInterval(poll);
				clearTimeout(timer);
				resolve({ converged, doneAt: epochNow(), ms: performance.now() - this.#startPerf, length: this.entries.length });
			};
			const check = () => {
				if (this.entries.length >= params.length) finish(true);
			};
			this.entries.observe(check);
			const poll = setInterval(check, 50);
			const timer = setTimeout(() => finish(false), params.timeoutMs);
			check();
		});
	}

	/** Writer of the propagation baseline: one 256-byte entry every `everyMs`, its index in the first 4 bytes. */
	async writeEvery(params: { count: number; everyMs: number }) {
		const sent: { seq: number; sentAt: number }[] = [];
		for (let i = 0; i < params.count; i++) {
			const due = performance.now() + params.everyMs;
			const entry = fileBytes(256, i + 1);
			new DataView(entry.buffer).setUint32(0, i);
			const sentAt = epochNow();
			this.entries.push([entry]);
			sent.push({ seq: i, sentAt });
			await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
		}
		return { sent };
	}

	/** Records when each writer entry arrives here. */
	trackArrivals() {
		this.#arrivals.clear();
		this.entries.observe((event) => {
			const at = epochNow();
			for (const delta of event.changes.delta) {
				for (const entry of (delta.insert as Uint8Array[] | undefined) ?? []) {
					const seq = new DataView(entry.buffer, entry.byteOffset).getUint32(0);
					if (!this.#arrivals.has(seq)) this.#arrivals.set(seq, at);
				}
			}
		});
	}

	/** Arrival times by entry; Yjs does not say which peer an update came from, so `direct` is unknown (false). */
	arrivals() {
		return [...this.#arrivals].map(([seq, at]) => ({ seq, at, direct: false }));
	}

	status() {
		const room = this.provider?.room;
		return {
			length: this.entries.length,
			webrtc: room?.webrtcConns.size ?? 0,
			connected: this.#conns().filter((c) => c.connected).length,
			broadcast: room?.bcConns.size ?? 0,
			signaling: this.provider?.signalingConns.filter((c) => c.connected).length ?? 0,
			sendFailures: sendFailures.slice(-5),
			sendFailureCount: sendFailures.length
		};
	}

	stop() {
		this.provider?.disconnect();
		this.provider?.destroy();
		this.doc.destroy();
	}
}
