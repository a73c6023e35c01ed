import { describe, expect, it } from 'vitest';
import type { BlockId } from '../../../src/lib/core/index.js';
import { networkLinkUrl, newRoomSecret, parseNetworkLink } from '../../../src/lib/domain/network-link.js';

const link = {
	net: 'ab'.repeat(32) as BlockId,
	secret: newRoomSecret(),
	signaling: ['ws://127.0.0.1:5173/signaling'],
	name: 'Clinic Nord'
};

describe('network links', () => {
	it('round-trips through a URL fragment', () => {
		const url = networkLinkUrl('http://127.0.0.1:5173/#old', link);
		expect(url.startsWith('http://127.0.0.1:5173/#network=')).toBe(true);
		expect(parseNetworkLink(url)).toEqual(link);
		expect(parseNetworkLink(url.split('#')[1]!)).toEqual(link);
	});

	it('refuses damaged or incomplete links with a readable reason', () => {
		const url = networkLinkUrl('http://x/', link);
		expect(() => parseNetworkLink('http://x/#nothing')).toThrow(/not a network link/);
		expect(() => parseNetworkLink(url.slice(0, -7) + '!!!')).toThrow(/damaged/);
		expect(() => networkLinkUrl('http://x/', { ...link, secret: 'short' })).toThrow(/room secret/);
		expect(() => networkLinkUrl('http://x/', { ...link, net: 'zz' as BlockId })).toThrow(/network id/);
		expect(() => networkLinkUrl('http://x/', { ...link, signaling: ['http://x'] })).toThrow(/ws: or wss:/);
		expect(() => networkLinkUrl('http://x/', { ...link, signaling: [] })).toThrow(/no signaling/);
	});

	it('makes a different 32-byte secret each time', () => {
		expect(newRoomSecret()).toMatch(/^[0-9a-f]{64}$/);
		expect(newRoomSecret()).not.toBe(newRoomSecret());
	});
});
