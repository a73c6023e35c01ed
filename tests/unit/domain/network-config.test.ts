// idb needs the IndexedDB globals (IDBRequest, ...); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { BlockId } from '$lib/core/index.js';
import { newRoomSecret } from '$lib/domain/network-link.js';
import {
	NETWORK_DB,
	checkNetworkConfig,
	defaultSignalingUrl,
	loadNetworkConfig,
	parseSignalingList,
	saveNetworkConfig,
	signalingProblem,
	type NetworkConfig
} from '$lib/domain/network-config.js';

const config: NetworkConfig = {
	net: 'ab'.repeat(32) as BlockId,
	secret: newRoomSecret(),
	signaling: ['ws://127.0.0.1:5173/signaling'],
	name: 'Riverside Family Clinic',
	origin: 'founded',
	savedAt: 1_700_000_000_000
};

describe('signaling URLs', () => {
	it('defaults to the relay of the server that served the page', () => {
		expect(defaultSignalingUrl({ protocol: 'http:', host: '127.0.0.1:5173' })).toBe('ws://127.0.0.1:5173/signaling');
		expect(defaultSignalingUrl({ protocol: 'https:', host: 'clinic.example' })).toBe('wss://clinic.example/signaling');
	});

	it('reads one URL per line, or separated by spaces or commas', () => {
		expect(parseSignalingList(' ws://a/s \n\n wss://b/s, ws://c/s ')).toEqual(['ws://a/s', 'wss://b/s', 'ws://c/s']);
	});

	it('accepts ws: and wss: URLs and names the first problem otherwise', () => {
		expect(signalingProblem(['ws://127.0.0.1:5173/signaling', 'wss://relay.example/s'])).toBeNull();
		expect(signalingProblem([])).toMatch(/at least one/);
		expect(signalingProblem(['http://x/s'])).toMatch(/ws:\/\/ or wss:\/\//);
		expect(signalingProblem(['nope'])).toMatch(/not a URL/);
		expect(signalingProblem(['ws://x/s', 'ws://x/s'])).toMatch(/twice/);
		expect(signalingProblem(['ws://x/s#frag'])).toMatch(/fragment/);
		expect(signalingProblem(Array.from({ length: 9 }, (_, i) => `ws://h${i}/s`))).toMatch(/At most 8/);
	});
});

describe('network config in IndexedDB', () => {
	it('is absent at first, then saved and loaded as written', async () => {
		const indexedDB = new IDBFactory();
		expect(await loadNetworkConfig({ indexedDB })).toBeNull();
		await saveNetworkConfig(config, { indexedDB });
		expect(await loadNetworkConfig({ indexedDB })).toEqual(config);
		const changed = { ...config, signaling: ['wss://relay.example/s'], savedAt: config.savedAt + 1 };
		await saveNetworkConfig(changed, { indexedDB });
		expect(await loadNetworkConfig({ indexedDB })).toEqual(changed);
	});

	it('refuses to save an invalid config', async () => {
		const indexedDB = new IDBFactory();
		await expect(saveNetworkConfig({ ...config, secret: 'short' }, { indexedDB })).rejects.toThrow(/room secret/);
		await expect(saveNetworkConfig({ ...config, signaling: ['http://x'] }, { indexedDB })).rejects.toThrow(/ws:\/\//);
		expect(await loadNetworkConfig({ indexedDB })).toBeNull();
	});

	it('reports a damaged stored record instead of replacing it', async () => {
		const indexedDB = new IDBFactory();
		await saveNetworkConfig(config, { indexedDB });
		await new Promise<void>((resolve, reject) => {
			const open = indexedDB.open(NETWORK_DB);
			open.onerror = () => reject(open.error);
			open.onsuccess = () => {
				const tx = open.result.transaction('config', 'readwrite');
				tx.objectStore('config').put({ ...config, net: 'zz' }, 'network');
				tx.oncomplete = () => {
					open.result.close();
					resolve();
				};
			};
		});
		await expect(loadNetworkConfig({ indexedDB })).rejects.toThrow(/no valid network id.*not replaced/);
	});

	it('checks every field', () => {
		expect(checkNetworkConfig(config)).toEqual(config);
		expect(() => checkNetworkConfig(null)).toThrow(/not readable/);
		expect(() => checkNetworkConfig({ ...config, origin: 'stolen' })).toThrow(/how this node came/);
		expect(() => checkNetworkConfig({ ...config, name: 'x'.repeat(201) })).toThrow(/name/);
	});
});
