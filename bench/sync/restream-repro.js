// `node bench/sync/restream-repro.js [blocks]`: the redundant re-stream once seen in the
// catch-ups of bench/sync/run.js (node B received up to a window of blocks twice), as a
// regression check without browsers. Two ledgers on memory stores, B's commits made
// asynchronous and 50 ms long as IndexedDB's are (a memory store resolves in microtasks,
// which starves the tick timer and hides the problem), one in-memory link, the
// Replicator's own 1 s tick. Prints the catch-up's vector/offer/end frames and the block
// counts; exits with 1 if any block was sent twice.
//
// Mechanism: the sender may run `window` (2,000) blocks ahead of the receiver's acks, so
// it sends `end` while the receiver still has up to 2,000 blocks queued. `end` cleared
// the receiver's `streamOpen`; its next `tick()` counted as "not receiving" and, its
// vector having changed, sent it. The sender took the newer vector as news and restarted
// the stream from it, sending again every block already queued at the receiver.
// Fixed in 132862e (no vector resend while received blocks are still being validated):
// before it, 4,000 blocks went out as 5,999.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const server = await createServer({
	root,
	configFile: false,
	logLevel: 'error',
	server: { middlewareMode: true, hmr: false, watch: null },
	optimizeDeps: { noDiscovery: true }
});
try {
	const core = await server.ssrLoadModule('/src/lib/core/index.ts');
	const { foundNetwork, joinNetwork } = await server.ssrLoadModule('/src/lib/core/testing/fixtures.ts');
	const count = Number(process.argv[2] ?? 4000);

	const a = await foundNetwork({ members: { b: 'clinician' } });
	for (let n = 0; a.size < count;)
		await a.appendBatch(Array.from({ length: Math.min(1000, count - a.size) }, () => [{ t: 'note', text: `note ${n++}` }]));
	// Commits take a macrotask, like IndexedDB's: timers (the session tick) run in between.
	const store = new core.MemoryStore();
	const append = store.append.bind(store);
	store.append = (...args) => new Promise((resolve) => setTimeout(resolve, 50)).then(() => append(...args));
	const b = await joinNetwork(a.net, 'b', { store });
	const [linkA, linkB] = core.memoryLinkPair();
	const start = performance.now();
	for (const [link, from] of [
		[linkA, 'A'],
		[linkB, 'B']
	]) {
		const send = link.send.bind(link);
		link.send = (frame) => {
			const msg = core.decodeMessage(frame);
			const detail = msg.m === 'vv' ? JSON.stringify(Object.values(msg.vv)) : msg.m === 'offer' ? `count ${msg.count}` : '';
			if (['vv', 'offer', 'end'].includes(msg.m))
				console.log(`${(performance.now() - start).toFixed(0).padStart(6)} ms  ${from} -> ${msg.m} ${detail}  (B has accepted ${b.size})`);
			send(frame);
		};
	}
	const replicatorA = new core.Replicator(a);
	const replicatorB = new core.Replicator(b);
	const sessionA = replicatorA.attach(linkA, 'b');
	const sessionB = replicatorB.attach(linkB, 'a');
	while (b.size < a.size) await new Promise((resolve) => setTimeout(resolve, 20));
	await new Promise((resolve) => setTimeout(resolve, 1500));
	const twice = sessionA.stats.blocksOut - a.size;
	console.log(
		`${a.size} blocks to catch up; A sent ${sessionA.stats.blocksOut} blocks, B received ${sessionB.stats.blocksIn} and accepted ${sessionB.stats.accepted}: ${twice} sent twice`
	);
	process.exitCode = twice > 0 ? 1 : 0;
	replicatorA.close();
	replicatorB.close();
} finally {
	await server.close();
}
