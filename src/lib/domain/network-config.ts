/**
 * How this node reaches the other nodes of its network: the network id, the room secret
 * (encrypts signaling; anyone holding it can find the room, membership still decides who
 * syncs) and the signaling servers. Kept in its own IndexedDB database, apart from the
 * ledger, whose schema belongs to the core. One browser holds one network, so one config.
 */
import { openDB, type DBSchema } from 'idb';
import { CodedError, type BlockId } from '$lib/core/index.js';

/** Name of the network settings database (one per browser origin). */
export const NETWORK_DB = 'clinic-ledger-network';
const CONFIG_KEY = 'network';
const HEX64 = /^[0-9a-f]{64}$/;
/** Most signaling servers a node keeps (the network link allows as many). */
export const MAX_SIGNALING_URLS = 8;

export interface NetworkConfig {
	/** Network id: the genesis block's id. */
	readonly net: BlockId;
	/** Room secret, 64 hex. */
	readonly secret: string;
	/** WebSocket URLs of the signaling servers (ws: or wss:). */
	readonly signaling: readonly string[];
	/** Network name as known when the config was written (the genesis carries the real one). */
	readonly name: string;
	/** Whether this node founded the network or joined it by a link. */
	readonly origin: 'founded' | 'joined';
	/** When the config was last written, ms since the epoch. */
	readonly savedAt: number;
	/** While this node waits to be admitted with an invite: the invite token (hex) and the display name it asks under. */
	readonly join?: PendingJoin;
}

/** A join request this node keeps sending until it is a member. */
export interface PendingJoin {
	readonly token: string;
	readonly name: string;
	readonly role: string;
	readonly expires: number;
}

interface NetworkDB extends DBSchema {
	config: { key: string; value: NetworkConfig };
}

export interface NetworkConfigOptions {
	/** Injected factory (fake-indexeddb in Node tests); defaults to the global one. */
	indexedDB?: IDBFactory;
}

/** The signaling relay served next to the app (server/start.js), for a page at `location`. */
export function defaultSignalingUrl(location: Pick<Location, 'protocol' | 'host'>): string {
	return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signaling`;
}

/** Splits what a person typed (one URL per line, or separated by spaces or commas). */
export function parseSignalingList(text: string): string[] {
	return text
		.split(/[\s,]+/)
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

/** What is wrong with a list of signaling URLs, or null when it can be used. */
export function signalingProblem(urls: readonly string[]): string | null {
	if (urls.length === 0) return 'Enter at least one signaling server (ws://… or wss://…).';
	if (urls.length > MAX_SIGNALING_URLS) return `At most ${MAX_SIGNALING_URLS} signaling servers; ${urls.length} were given.`;
	const seen = new Set<string>();
	for (const url of urls) {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			return `“${url}” is not a URL.`;
		}
		if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return `“${url}” must start with ws:// or wss://.`;
		if (parsed.hash || parsed.username || parsed.password) return `“${url}” must not contain a #fragment or a user name.`;
		if (seen.has(parsed.href)) return `“${url}” is listed twice.`;
		seen.add(parsed.href);
	}
	return null;
}

/**
 * Network settings that cannot be used or kept: `NETWORK_SETTINGS_INVALID` (a stored or
 * new config fails its check), `NO_INDEXEDDB` (this browser cannot keep them).
 */
export class NetworkSettingsError extends CodedError {
	override readonly name = 'NetworkSettingsError';
	constructor(code: 'NETWORK_SETTINGS_INVALID' | 'NO_INDEXEDDB', message: string) {
		super(code, message);
	}
}

/** Checks a stored or new config; throws naming the first problem. */
export function checkNetworkConfig(value: unknown): NetworkConfig {
	const v = value as Partial<NetworkConfig> | null;
	if (!v || typeof v !== 'object') throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings are not readable');
	if (typeof v.net !== 'string' || !HEX64.test(v.net))
		throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings hold no valid network id');
	if (typeof v.secret !== 'string' || !HEX64.test(v.secret))
		throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings hold no valid room secret');
	if (!Array.isArray(v.signaling))
		throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings hold no signaling servers');
	const problem = signalingProblem(v.signaling);
	if (problem) throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', `the network settings are invalid: ${problem}`);
	if (typeof v.name !== 'string' || v.name.length > 200)
		throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network name in the settings is invalid');
	if (v.origin !== 'founded' && v.origin !== 'joined')
		throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings do not say how this node came to the network');
	if (typeof v.savedAt !== 'number') throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the network settings have no date');
	let join: PendingJoin | undefined;
	if (v.join !== undefined) {
		const j = v.join as Partial<PendingJoin> | null;
		if (
			!j ||
			typeof j.token !== 'string' ||
			!HEX64.test(j.token) ||
			typeof j.name !== 'string' ||
			typeof j.role !== 'string' ||
			typeof j.expires !== 'number'
		)
			throw new NetworkSettingsError('NETWORK_SETTINGS_INVALID', 'the pending join request in the settings is invalid');
		join = { token: j.token, name: j.name, role: j.role, expires: j.expires };
	}
	return {
		net: v.net as BlockId,
		secret: v.secret,
		signaling: [...v.signaling],
		name: v.name,
		origin: v.origin,
		savedAt: v.savedAt,
		...(join ? { join } : {})
	};
}

async function openConfigDB(options: NetworkConfigOptions) {
	const factory = options.indexedDB ?? globalThis.indexedDB;
	if (!factory) throw new NetworkSettingsError('NO_INDEXEDDB', 'IndexedDB is not available: this browser cannot keep network settings');
	const previous = globalThis.indexedDB;
	// idb reads the global factory; swap it only for the duration of the open call.
	if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: factory, configurable: true, writable: true });
	try {
		return await openDB<NetworkDB>(NETWORK_DB, 1, {
			upgrade(database) {
				database.createObjectStore('config');
			}
		});
	} finally {
		if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: previous, configurable: true, writable: true });
	}
}

/** The stored config, or null when this node has none. A damaged record throws (never silently replaced). */
export async function loadNetworkConfig(options: NetworkConfigOptions = {}): Promise<NetworkConfig | null> {
	const db = await openConfigDB(options);
	try {
		const stored = await db.get('config', CONFIG_KEY);
		if (stored === undefined) return null;
		try {
			return checkNetworkConfig(stored);
		} catch (error) {
			throw new NetworkSettingsError(
				'NETWORK_SETTINGS_INVALID',
				`${(error as Error).message} (database “${NETWORK_DB}”); it was not replaced`
			);
		}
	} finally {
		db.close();
	}
}

/** Stores `config` durably, replacing the previous one. */
export async function saveNetworkConfig(config: NetworkConfig, options: NetworkConfigOptions = {}): Promise<void> {
	const checked = checkNetworkConfig(config);
	const db = await openConfigDB(options);
	try {
		const tx = db.transaction('config', 'readwrite', { durability: 'strict' });
		await tx.store.put(checked, CONFIG_KEY);
		await tx.done;
	} finally {
		db.close();
	}
}
