import { describe, expect, it } from 'vitest';
import { openDataChannelLink } from '../../../../src/lib/core/sync/channel-link.js';
import { memoryLinkPair, SyncSession } from '../../../../src/lib/core/index.js';

/** A peer connection whose ledger channel is open at once, with the statistics given. */
function fakePeerConnection(stats: () => Promise<unknown[]>): RTCPeerConnection {
	const channel = { readyState: 'open', binaryType: '', bufferedAmountLowThreshold: 0, bufferedAmount: 0, addEventListener() {} };
	return {
		createDataChannel: () => channel,
		getStats: async () => new Map((await stats()).map((r, i) => [i, r]))
	} as unknown as RTCPeerConnection;
}

describe('round-trip time of a link', () => {
	it('a WebRTC link reads it from the nominated, succeeded candidate pair (ms, one decimal)', async () => {
		const link = await openDataChannelLink(
			fakePeerConnection(async () => [
				{ type: 'candidate-pair', state: 'failed', nominated: true, currentRoundTripTime: 9 },
				{ type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.01234 },
				{ type: 'transport' }
			])
		);
		expect(await link.roundTripMs?.()).toBe(12.3);
	});

	it('is null without a measurement, or when the statistics cannot be read', async () => {
		const none = await openDataChannelLink(fakePeerConnection(async () => [{ type: 'candidate-pair', state: 'in-progress' }]));
		expect(await none.roundTripMs?.()).toBeNull();
		const failing = await openDataChannelLink(
			fakePeerConnection(async () => {
				throw new Error('closed');
			})
		);
		expect(await failing.roundTripMs?.()).toBeNull();
	});

	it('a session over a link without one reports null', async () => {
		const [a] = memoryLinkPair();
		const session = new SyncSession({ ledger: { on: () => () => {} } as never, link: a, label: 'x' });
		expect(await session.roundTripMs()).toBeNull();
	});
});
