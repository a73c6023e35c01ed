/**
 * The sync benchmark page. bench/sync/run.js opens it in several Chromium processes and
 * drives each through `window.syncBench(call, params)`: `ledger.*` calls go to this
 * page's clinic node, `yjs.*` calls to its Yjs baseline doc.
 */
import { detectVerifier, sharedWorkerVerifier } from '../../../src/lib/core/index.js';
import { LedgerNode } from './ledger-node.js';
import { epochNow } from './probe.js';
import { rawChannel } from './raw-channel.js';
import { YjsNode, prepareBlocks, sendFailures, watchDataChannelSends } from './yjs-node.js';

watchDataChannelSends();

const ledger = new LedgerNode();
let yjs = new YjsNode();

type Handler = (params: never) => unknown;

const calls: Record<string, Handler> = {
	clock: () => epochNow(),
	info: async () => {
		const pool = sharedWorkerVerifier();
		const verifier = pool ? `${pool.name} in ${pool.workers} workers` : (await detectVerifier()).name;
		return { userAgent: navigator.userAgent, verifier, preciseMemory: 'memory' in performance };
	},
	'ledger.build': (p) => ledger.build(p),
	'ledger.reopen': (p) => ledger.reopen(p),
	'ledger.join': (p) => ledger.join(p),
	'ledger.startMesh': (p) => ledger.startMesh(p),
	'ledger.waitVV': (p) => ledger.waitVV(p),
	'ledger.waitSessions': (p) => ledger.waitSessions(p),
	'ledger.status': () => ledger.status(),
	'ledger.report': () => ledger.report(),
	'ledger.appendAttachment': (p) => ledger.appendAttachment(p),
	'ledger.writeEvery': (p) => ledger.writeEvery(p),
	'ledger.trackArrivals': (p) => ledger.trackArrivals(p),
	'ledger.arrivals': () => ledger.arrivals(),
	'ledger.stop': () => ledger.stop(),
	'raw.offer': () => rawChannel.offer(),
	'raw.answer': (p) => rawChannel.answer(p),
	'raw.accept': (p) => rawChannel.accept(p),
	/** Sends the wire bytes of the blocks this page's ledger holds. */
	'raw.send': async () => rawChannel.send(await ledger.wireBlocks()),
	'raw.wait': (p) => rawChannel.wait(p),
	'raw.close': () => rawChannel.close(),
	/** The baseline carries the bytes of the blocks this page's ledger holds. */
	'yjs.prepareFromLedger': async () => prepareBlocks(await ledger.wireBlocks()),
	'yjs.fill': (p) => yjs.fill(p),
	'yjs.join': (p) => yjs.join(p),
	'yjs.waitConnected': (p) => yjs.waitConnected(p),
	'yjs.pushChunked': (p) => yjs.pushChunked(p),
	/** Pushes the wire bytes of the attachment block this page's ledger appended last. */
	'yjs.pushAttachment': () => {
		if (!ledger.lastAttachment) throw new Error('yjs.pushAttachment: no attachment appended in this page');
		return yjs.pushEntry(ledger.lastAttachment);
	},
	'yjs.waitLength': (p) => yjs.waitLength(p),
	'yjs.writeEvery': (p) => yjs.writeEvery(p),
	'yjs.trackArrivals': () => yjs.trackArrivals(),
	'yjs.arrivals': () => yjs.arrivals(),
	'yjs.status': () => yjs.status(),
	/** Leaves the room and starts over with an empty doc and no recorded send failures (the prepared blocks stay). */
	'yjs.reset': () => {
		yjs.stop();
		yjs = new YjsNode();
		sendFailures.length = 0;
	}
};

declare global {
	interface Window {
		syncBench(call: string, params?: unknown): Promise<unknown>;
	}
}

window.syncBench = async (call, params = {}) => {
	const handler = calls[call];
	if (!handler) throw new Error(`syncBench: unknown call ${call}`);
	return handler(params as never);
};
