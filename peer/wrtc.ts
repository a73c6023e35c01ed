/**
 * The WebRTC implementation the peer hands to y-webrtc (@roamhq/wrtc). Its two
 * differences from a browser (a negotiated channel already open on creation, no
 * `bufferedamountlow` event) are handled in the core's ledger channel
 * (core/sync/channel-link.ts), so it is used as it is.
 */

/** The parts of a WebRTC implementation that simple-peer (y-webrtc) uses. */
export interface WrtcModule {
	RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
	RTCSessionDescription: unknown;
	RTCIceCandidate: unknown;
	[key: string]: unknown;
}
