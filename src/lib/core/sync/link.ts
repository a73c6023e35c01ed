/**
 * A link carries frames between two nodes, reliably and in order when healthy (a WebRTC
 * data channel, a BroadcastChannel pair, an in-memory pipe). The protocol on top does
 * not rely on that: lost, repeated or reordered frames only slow it down.
 */
import { CodedError } from '../errors.js';
export interface Link {
	/** How the frames travel, for the network view. */
	readonly kind: 'webrtc' | 'broadcast' | 'memory';
	/** False once closed by either side. */
	readonly open: boolean;
	/**
	 * Bytes both ends of this very connection compute alike and no relay can reproduce on
	 * its own links (WebRTC: a digest of the DTLS certificate fingerprints). The handshake
	 * signs it, so an answer relayed from another link fails. Absent when the transport has none.
	 */
	readonly channelBinding?: Uint8Array;
	/** Bytes queued but not yet sent (0 when the transport has no buffer). */
	readonly bufferedAmount: number;
	send(frame: Uint8Array): void;
	/** Resolves when the send buffer has drained below the transport's low-water mark. */
	drained(): Promise<void>;
	/** Round-trip time of the connection (ms), where the transport measures one (WebRTC); null while unknown. */
	roundTripMs?(): Promise<number | null>;
	close(): void;
	onFrame: ((frame: Uint8Array) => void) | null;
	onClose: (() => void) | null;
}

/** Decides the fate of each frame on a memory link (the simulation injects faults here). */
export interface FrameScheduler {
	/** Calls `deliver` zero or more times, now or later. */
	schedule(deliver: () => void, frame: Uint8Array): void;
}

const immediate: FrameScheduler = { schedule: (deliver) => queueMicrotask(deliver) };

class MemoryLink implements Link {
	readonly kind = 'memory' as const;
	open = true;
	bufferedAmount = 0;
	onFrame: ((frame: Uint8Array) => void) | null = null;
	onClose: (() => void) | null = null;
	peer!: MemoryLink;
	constructor(
		private readonly scheduler: FrameScheduler,
		readonly channelBinding: Uint8Array | undefined
	) {}

	send(frame: Uint8Array): void {
		if (!this.open) throw new CodedError('LINK_CLOSED', 'link closed');
		const copy = frame.slice();
		const peer = this.peer;
		this.scheduler.schedule(() => {
			if (peer.open) peer.onFrame?.(copy);
		}, copy);
	}

	async drained(): Promise<void> {}

	close(): void {
		if (!this.open) return;
		this.open = false;
		this.onClose?.();
		// Behind frames already queued, as a real channel delivers what was sent before closing.
		queueMicrotask(() => this.peer.close());
	}
}

/**
 * Two connected in-memory link ends. Each pair is its own connection, with a random
 * binding shared by its two ends (as a WebRTC connection has its DTLS fingerprints);
 * `null` models a transport without one.
 */
export function memoryLinkPair(
	scheduler: FrameScheduler = immediate,
	channelBinding: Uint8Array | null = crypto.getRandomValues(new Uint8Array(32))
): [Link, Link] {
	const a = new MemoryLink(scheduler, channelBinding ?? undefined);
	const b = new MemoryLink(scheduler, channelBinding ?? undefined);
	a.peer = b;
	b.peer = a;
	return [a, b];
}
