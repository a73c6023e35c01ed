// Loads the project's TypeScript sources in plain Node, the way vite-node does: a Vite
// server in middleware mode with no port, watcher, HMR or dependency discovery, whose
// `ssrLoadModule('/src/...')` transforms and runs a module. For benchmarks and test child
// processes (the headless peer's peer/main.js does the same with its own logging).
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

/** The repository's root directory, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A Vite server for loading sources; close it when done.
 * @param {{ logLevel?: 'error' | 'warn' | 'info' }} [options]
 */
export function sourceLoader(options = {}) {
	return createServer({
		root: ROOT,
		configFile: false,
		logLevel: options.logLevel ?? 'error',
		appType: 'custom',
		resolve: { alias: { $lib: `${ROOT}src/lib` } },
		server: { middlewareMode: true, hmr: false, watch: null, ws: false },
		optimizeDeps: { noDiscovery: true, include: [] }
	});
}
