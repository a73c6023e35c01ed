/**
 * Network links: what a node needs to find and join the other nodes of a clinic network
 * (network id, room secret, signaling servers), carried in a URL fragment so it never
 * reaches a web server. Membership is separate: the link lets a node connect, the
 * ledger decides whether its blocks count.
 */
import { CodedError, type BlockId } from '$lib/core/index.js';

export interface NetworkLink {
	/** Network id (genesis block id, 64 hex). */
	readonly net: BlockId;
	/** Room secret (64 hex): encrypts signaling, never sent in clear. */
	readonly secret: string;
	/** Signaling WebSocket URLs (ws: or wss:). */
	readonly signaling: readonly string[];
	/** Network name, for display before the genesis arrives. */
	readonly name?: string;
}

const FRAGMENT_KEY = 'network';
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A network or invite link that cannot be used (unreadable, invalid, tampered with):
 * code `INVITE_INVALID`; a join request or reply from a guest that does not check:
 * `JOIN_INVALID`.
 */
export class InviteError extends CodedError {
	override readonly name = 'InviteError';
	declare readonly code: 'INVITE_INVALID' | 'JOIN_INVALID';
	constructor(message: string, code: 'INVITE_INVALID' | 'JOIN_INVALID' = 'INVITE_INVALID') {
		super(code, message);
	}
}

function base64url(text: string): string {
	return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
		.replace(/\+/g, '-')
		.replace(/\//g, '_')
		.replace(/=+$/, '');
}

function unbase64url(text: string): string {
	const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
	return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
}

/** Checks a link's fields; throws {@link InviteError} naming the first problem. */
export function checkNetworkLink(value: unknown): NetworkLink {
	if (!value || typeof value !== 'object') throw new InviteError('the network link is not readable');
	const v = value as Record<string, unknown>;
	if (typeof v.net !== 'string' || !HEX64.test(v.net)) throw new InviteError('the network link has no valid network id');
	if (typeof v.secret !== 'string' || !HEX64.test(v.secret)) throw new InviteError('the network link has no valid room secret');
	if (!Array.isArray(v.signaling) || v.signaling.length === 0 || v.signaling.length > 8)
		throw new InviteError('the network link names no signaling server');
	for (const url of v.signaling) {
		let parsed: URL;
		try {
			parsed = new URL(String(url));
		} catch {
			throw new InviteError(`signaling server "${String(url)}" is not a URL`);
		}
		if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
			throw new InviteError(`signaling server "${String(url)}" must be ws: or wss:`);
	}
	if (v.name !== undefined && (typeof v.name !== 'string' || v.name.length > 200))
		throw new InviteError('the network name in the link is invalid');
	return {
		net: v.net as BlockId,
		secret: v.secret,
		signaling: v.signaling.map(String),
		...(typeof v.name === 'string' ? { name: v.name } : {})
	};
}

/** A URL of this app that opens the network: `${appUrl}#network=…`. */
export function networkLinkUrl(appUrl: string, link: NetworkLink): string {
	const base = appUrl.split('#')[0];
	return `${base}#${FRAGMENT_KEY}=${base64url(JSON.stringify(checkNetworkLink(link)))}`;
}

/** Reads a link from a full URL or its fragment; throws {@link InviteError} with a readable reason. */
export function parseNetworkLink(urlOrFragment: string): NetworkLink {
	const fragment = urlOrFragment.includes('#') ? urlOrFragment.slice(urlOrFragment.indexOf('#') + 1) : urlOrFragment;
	const params = new URLSearchParams(fragment);
	const payload = params.get(FRAGMENT_KEY);
	if (!payload) throw new InviteError('this is not a network link (no #network=… part)');
	let json: unknown;
	try {
		json = JSON.parse(unbase64url(payload));
	} catch {
		throw new InviteError('the network link is damaged (it does not decode); ask for a new one');
	}
	return checkNetworkLink(json);
}

/** A fresh room secret. */
export function newRoomSecret(): string {
	return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('');
}
