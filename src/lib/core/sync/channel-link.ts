/**
 * Links over browser (and Node) message channels: a negotiated WebRTC data channel on a
 * peer connection, and a BroadcastChannel pair between two nodes of one origin.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../bytes.js';
import type { Link } from './link.js';
import { CodedError } from '../errors.js';

/** SCTP stream id of the ledger's data channel: fixed and negotiated out of band, so
 * both sides open it without renegotiation and it never collides with the channel
 * y-webrtc/simple-peer opens for Yjs (which gets an automatically assigned id). */
export const LEDGER_CHANNEL_ID = 1000;
export const LEDGER_CHANNEL_LABEL = 'clinic-ledger/sync/v1';
const LOW_WATER = 256 * 1024;

/**
 * The binding of a WebRTC connection: a digest of every `a=fingerprint` line of both
 * session descriptions. Each end sees its own certificate's fingerprint in its local
 * description and the other's in the remote one, so both compute the same bytes; a relay
 * sits on two connections with different certificates and cannot make them agree (DTLS
 * checks each certificate against its fingerprint). Undefined when either side has none.
 */
export function dtlsChannelBinding(localSdp: string | undefined, remoteSdp: string | undefined): Uint8Array | undefined {
	const fingerprints = (sdp: string | undefined) =>
		[...(sdp ?? '').matchAll(/^a=fingerprint:[ \t]*(\S+)[ \t]+(\S+)[ \t]*$/gim)].map(
			(m) => `${m[1]!.toLowerCase()} ${m[2]!.toLowerCase()}`
		);
	const local = fingerprints(localSdp);
	const remote = fingerprints(remoteSdp);
	if (local.length === 0 || remote.length === 0) return undefined;
	const canonical = [...new Set([...local, ...remote])].sort().join('\n');
	return sha256(utf8(`clinic-ledger/dtls-binding/v1\n${canonical}`));
}

function bindingOf(pc: RTCPeerConnection): Uint8Array | undefined {
	return dtlsChannelBinding(pc.localDescription?.sdp, pc.remoteDescription?.sdp);
}

/** Opens the ledger channel on `pc` and resolves with a link once it is open. */
export function openDataChannelLink(pc: RTCPeerConnection, timeoutMs = 15_000): Promise<Link> {
	// A connection closed before its ledger channel was asked for (the peer left meanwhile).
	if (pc.signalingState === 'closed') return Promise.reject(new CodedError('LINK_CLOSED', 'peer connection closed'));
	// The channel binding is read now, while the connection is live: @roamhq/wrtc crashes its
	// process reading a closed connection's session descriptions (simple-peer#812), and a
	// connection can close before its channel opens.
	const binding = bindingOf(pc);
	const channel = pc.createDataChannel(LEDGER_CHANNEL_LABEL, { negotiated: true, id: LEDGER_CHANNEL_ID, ordered: true });
	channel.binaryType = 'arraybuffer';
	channel.bufferedAmountLowThreshold = LOW_WATER;
	// Some implementations (@roamhq/wrtc) open a negotiated channel on a live connection
	// at once and never fire `open`.
	if (channel.readyState === 'open') return Promise.resolve(new DataChannelLink(channel, pc, binding));
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			if (pc.signalingState !== 'closed') channel.close();
			reject(new CodedError('LINK_NOT_OPENED', 'ledger data channel did not open'));
		}, timeoutMs);
		channel.addEventListener('open', () => {
			clearTimeout(timer);
			resolve(new DataChannelLink(channel, pc, binding));
		});
		channel.addEventListener('error', () => {
			clearTimeout(timer);
			reject(new CodedError('LINK_FAILED', 'ledger data channel failed'));
		});
	});
}

class DataChannelLink implements Link {
	readonly kind = 'webrtc' as const;
	onFrame: ((frame: Uint8Array) => void) | null = null;
	onClose: (() => void) | null = null;
	readonly channelBinding: Uint8Array | undefined;
	#pc: RTCPeerConnection;
	#closed = false;
	constructor(
		private readonly channel: RTCDataChannel,
		pc: RTCPeerConnection,
		binding: Uint8Array | undefined
	) {
		this.#pc = pc;
		this.channelBinding = binding;
		channel.addEventListener('message', (event: MessageEvent) => {
			const data = event.data as ArrayBuffer | Uint8Array;
			this.onFrame?.(data instanceof Uint8Array ? data : new Uint8Array(data));
		});
		channel.addEventListener('close', () => this.#markClosed());
	}

	/**
	 * Whether the channel's native object may still be read. Once the link or its connection
	 * is closed, neither is touched again: @roamhq/wrtc has crashed its process reading a
	 * channel's state after its connection closed (node-webrtc#325), and a connection can
	 * close without its channel's `close` event.
	 */
	#alive(): boolean {
		if (this.#closed) return false;
		if (this.#pc.signalingState === 'closed') {
			queueMicrotask(() => this.#markClosed());
			return false;
		}
		return true;
	}

	get open(): boolean {
		return this.#alive() && this.channel.readyState === 'open';
	}

	get bufferedAmount(): number {
		return this.#alive() ? this.channel.bufferedAmount : 0;
	}

	send(frame: Uint8Array): void {
		if (!this.open) throw new CodedError('LINK_CLOSED', 'link closed');
		this.channel.send(frame as Uint8Array<ArrayBuffer>);
	}

	drained(): Promise<void> {
		if (!this.open || this.channel.bufferedAmount <= LOW_WATER) return Promise.resolve();
		return new Promise((resolve) => {
			// The event where the implementation has it, and a poll as well: @roamhq/wrtc
			// never fires `bufferedamountlow`, and a missed event must not stall a sync.
			const poll = setInterval(() => {
				if (!this.open || this.channel.bufferedAmount <= LOW_WATER) done();
			}, 20);
			const done = () => {
				clearInterval(poll);
				this.channel.removeEventListener('bufferedamountlow', done);
				this.channel.removeEventListener('close', done);
				resolve();
			};
			this.channel.addEventListener('bufferedamountlow', done);
			this.channel.addEventListener('close', done);
		});
	}

	/**
	 * Round-trip time of the peer connection (ms, from the selected ICE candidate pair's
	 * statistics), or null while there is no measurement.
	 */
	async roundTripMs(): Promise<number | null> {
		if (!this.#alive() || typeof this.#pc.getStats !== 'function') return null;
		let rtt: number | null = null;
		try {
			(await this.#pc.getStats()).forEach(
				(report: { type: string; state?: string; nominated?: boolean; currentRoundTripTime?: number }) => {
					if (
						report.type === 'candidate-pair' &&
						report.state === 'succeeded' &&
						report.nominated &&
						typeof report.currentRoundTripTime === 'number'
					) {
						rtt = Math.round(report.currentRoundTripTime * 1000 * 10) / 10;
					}
				}
			);
		} catch {
			// A connection closing while its statistics are read: nothing to report.
		}
		return rtt;
	}

	#markClosed(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.onClose?.();
	}

	close(): void {
		if (this.#alive()) this.channel.close();
		this.#markClosed();
	}
}

/**
 * One end of a link between nodes `self` and `peer` over a BroadcastChannel named
 * `name` (same origin: two tabs, or two nodes in one page in tests and demo mode).
 */
export function broadcastLink(name: string, self: string, peer: string): Link {
	const channel = new BroadcastChannel(name);
	const link: Link & { open: boolean } = {
		kind: 'broadcast',
		open: true,
		bufferedAmount: 0,
		onFrame: null,
		onClose: null,
		send(frame) {
			if (!link.open) throw new CodedError('LINK_CLOSED', 'link closed');
			channel.postMessage({ from: self, to: peer, frame });
		},
		drained: () => Promise.resolve(),
		close() {
			if (!link.open) return;
			channel.postMessage({ from: self, to: peer, bye: true });
			link.open = false;
			channel.close();
			link.onClose?.();
		}
	};
	channel.onmessage = (event: MessageEvent<{ from: string; to: string; frame?: Uint8Array; bye?: boolean }>) => {
		const { from, to, frame, bye } = event.data;
		if (from !== peer || to !== self || !link.open) return;
		if (bye) {
			link.open = false;
			channel.close();
			link.onClose?.();
		} else if (frame instanceof Uint8Array) link.onFrame?.(frame);
	};
	return link;
}
