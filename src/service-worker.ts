/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The app shell offline: every file of this build (scripts, styles, icons, the page) is
 * cached when the service worker installs, and served from that cache, so after one visit
 * the app opens and takes entries with no network. Records never pass through here: they
 * live in IndexedDB and travel over WebRTC. A new build installs a new cache and drops the
 * old one once it takes over.
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `clinic-ledger-${version}`;
/** The page itself ('/'), then every built and static file. */
const SHELL = ['/', ...build, ...files];
const IN_SHELL = new Set(SHELL);

sw.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((cache) => cache.addAll(SHELL))
			.then(() => sw.skipWaiting())
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
			.then(() => sw.clients.claim())
	);
});

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	// Navigations (any path: links carry their data in the fragment) get the cached page; files of the shell come from the cache.
	const key = request.mode === 'navigate' ? '/' : IN_SHELL.has(url.pathname) ? url.pathname : null;
	if (!key) return;
	event.respondWith(
		caches.open(CACHE).then(async (cache) => {
			const cached = await cache.match(key);
			if (cached) return cached;
			const response = await fetch(request);
			if (response.ok && request.mode !== 'navigate') void cache.put(key, response.clone());
			return response;
		})
	);
});
