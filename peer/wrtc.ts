/**
 * @roamhq/wrtc made to behave like a browser where the ledger channel
 * (core/sync/channel-link.ts) relies on it. Two differences, both checked on 0.10.0:
 *
 * - A negotiated channel created on a connection whose SCTP transport is already up is
 *   `open` at once and never fires `open`, so `openDataChannelLink` would time out. It
 *   gets its `open` event here, as a browser fires it.
 * - Data channels have `bufferedAmount` but neither `bufferedAmountLowThreshold` nor the
 *   `bufferedamountlow` event. The ledger channel waits for that event whenever more than
 *   1 MiB is queued (a large catch-up on a slow link), and would stall for good without
 *   it. Here it is emulated by polling.
 */

/** The parts of a WebRTC implementation that simple-peer (y-webrtc) uses. */
export interface WrtcModule {
	RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
	RTCSessionDescription: unknown;
	RTCIceCandidate: unknown;
	[key: string]: unknown;
}

/** How often a channel's queue is sampled while it is open (ms). */
const POLL_MS = 10;

type PolledChannel = RTCDataChannel & { _listeners?: Record<string, Set<unknown>> };

function emulateBufferedAmountLow(channel: PolledChannel): void {
	let threshold = 0;
	Object.defineProperty(channel, 'bufferedAmountLowThreshold', {
		configurable: true,
		get: () => threshold,
		set: (value: number) => {
			threshold = Math.max(0, Number(value) || 0);
		}
	});
	let above = false;
	const timer = setInterval(() => {
		if (channel.readyState === 'closed') {
			clearInterval(timer);
			return;
		}
		if (channel.readyState !== 'open') return;
		const amount = channel.bufferedAmount;
		if (amount > threshold) {
			above = true;
			return;
		}
		// Fire on the way down, like a browser; also when someone waits although the
		// queue drained between two samples, so that a waiter can never be missed.
		const waiting = (channel._listeners?.bufferedamountlow?.size ?? 0) > 0;
		if (above || waiting) {
			above = false;
			channel.dispatchEvent({ type: 'bufferedamountlow' } as Event);
		}
	}, POLL_MS);
	timer.unref();
}

/** `wrtc` with data channels that emit `bufferedamountlow`; unchanged where they already do. */
export function browserLikeWrtc(wrtc: WrtcModule): WrtcModule {
	const Base = wrtc.RTCPeerConnection;
	class PeerConnection extends Base {
		override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
			const channel = super.createDataChannel(label, init) as PolledChannel;
			if (!('bufferedAmountLowThreshold' in channel)) emulateBufferedAmountLow(channel);
			// wrtc dispatches on the next tick: listeners added right after this call hear it.
			if (channel.readyState === 'open') channel.dispatchEvent({ type: 'open' } as Event);
			return channel;
		}
	}
	return { ...wrtc, RTCPeerConnection: PeerConnection };
}
