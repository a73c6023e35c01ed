// A WebRTC link whose connection closes never reads the channel's or the connection's
// native state again: @roamhq/wrtc has crashed its whole process on such reads (a closed
// connection's session descriptions, a channel's state after its connection closed), and
// the headless peer and the unit tests run it in-process.
import { describe, expect, it } from 'vitest';
import { openDataChannelLink } from '../../../../src/lib/core/sync/channel-link.js';

/** A connection and its channel whose native reads are counted, and throw once the connection is closed. */
function guardedConnection() {
	const state = { closed: false, readsAfterClose: [] as string[] };
	const guard = <T>(name: string, value: T): T => {
		if (state.closed) {
			state.readsAfterClose.push(name);
			throw new Error(`read ${name} after the connection closed`);
		}
		return value;
	};
	const channel = {
		binaryType: '',
		bufferedAmountLowThreshold: 0,
		get readyState() {
			return guard('channel.readyState', 'open');
		},
		get bufferedAmount() {
			return guard('channel.bufferedAmount', 0);
		},
		send: () => guard('channel.send', undefined),
		close: () => guard('channel.close', undefined),
		addEventListener() {},
		removeEventListener() {}
	};
	const pc = {
		get signalingState() {
			return state.closed ? 'closed' : 'stable';
		},
		get localDescription() {
			return guard('pc.localDescription', { sdp: 'a=fingerprint:sha-256 AA:BB' });
		},
		get remoteDescription() {
			return guard('pc.remoteDescription', { sdp: 'a=fingerprint:sha-256 CC:DD' });
		},
		createDataChannel: () => guard('pc.createDataChannel', channel),
		getStats: async () => guard('pc.getStats', new Map())
	} as unknown as RTCPeerConnection;
	return { pc, state };
}

describe('a WebRTC link whose connection closed', () => {
	it('reports closed, fires onClose once, and touches nothing native again', async () => {
		const { pc, state } = guardedConnection();
		const link = await openDataChannelLink(pc);
		expect(link.open).toBe(true);
		let closes = 0;
		link.onClose = () => closes++;

		state.closed = true;
		expect(link.open).toBe(false);
		expect(link.bufferedAmount).toBe(0);
		await link.drained();
		expect(await link.roundTripMs?.()).toBeNull();
		expect(() => link.send(new Uint8Array([1]))).toThrow(/closed/);
		link.close();
		await Promise.resolve();
		expect(closes).toBe(1);
		expect(state.readsAfterClose).toEqual([]);
	});

	it('is refused before any channel is made when the connection closed before it was asked for', async () => {
		const { pc, state } = guardedConnection();
		state.closed = true;
		await expect(openDataChannelLink(pc)).rejects.toMatchObject({ code: 'LINK_CLOSED' });
		expect(state.readsAfterClose).toEqual([]);
	});
});
