// `node peer/main.js --invite '<network link>'`: the always-on headless peer of a clinic
// network (docs/headless-peer.md).
//
// Plain JavaScript so it runs on bare Node 20 without a TypeScript loader: the peer and
// the ledger core are TypeScript, so this file starts Vite in middleware mode (no port,
// no watcher, no HMR) and loads peer/cli.ts through `ssrLoadModule`, the way vite-node
// does. Dependencies under node_modules are not transformed: Node loads them itself.
//
// The Node-only pieces the browser code cannot import are provided here, before any of
// it loads: a global WebSocket for y-webrtc's signaling client, and @roamhq/wrtc.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

// Node 20 has no global WebSocket; y-webrtc (lib0/websocket) looks it up when it connects.
globalThis.WebSocket ??= /** @type {any} */ (WebSocket);

/** Exit code after an unexpected error (EX_SOFTWARE); the peer's own codes are in peer/cli.ts. */
const EXIT_CRASH = 70;

let wrtc;
try {
	wrtc = require('@roamhq/wrtc');
} catch (error) {
	process.stderr.write(
		`error: cannot load @roamhq/wrtc (WebRTC for Node): ${error instanceof Error ? error.message : error}\nRun \`npm ci\` in ${root}.\n`
	);
	process.exit(EXIT_CRASH);
}

const { createServer } = await import('vite');
const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'error',
	clearScreen: false,
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null, ws: false },
	optimizeDeps: { noDiscovery: true, include: [] }
});

let code = EXIT_CRASH;
try {
	const cli = await vite.ssrLoadModule('/peer/cli.ts');
	code = await cli.main(process.argv.slice(2), { wrtc });
} catch (error) {
	process.stderr.write(`error: ${error instanceof Error ? error.stack : error}\n`);
} finally {
	await vite.close().catch(() => {});
}
// @roamhq/wrtc keeps native threads that can hold the process open after every peer
// connection is closed: leave explicitly once the peer has shut down.
process.exit(code);
