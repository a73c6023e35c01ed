// The clinic server in a process of its own, for tests/unit/server/relay-*.test.ts: an input that
// crashes the server shows as this process's exit, not as a dead test runner. Started
// with fork(); argv[2] is JSON of startServer options. Sends `{port}` once listening and
// answers 'stats' with the relay's stats and the heap after garbage collection (run with
// --expose-gc).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../../server/start.js';

const root = mkdtempSync(join(tmpdir(), 'relay-child-'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>relay child</title>');
const running = await startServer({ ...JSON.parse(process.argv[2] ?? '{}'), port: 0, root });
const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;

process.on('message', (message) => {
	if (message !== 'stats') return;
	// Several passes: one full collection can leave objects freed by finalizers of the last.
	for (let i = 0; i < 3; i++) gc?.();
	process.send?.({ stats: running.signaling.stats(), heapUsed: process.memoryUsage().heapUsed });
});
process.on('disconnect', () => running.close().then(() => process.exit(0)));
process.send?.({ port: running.port });
