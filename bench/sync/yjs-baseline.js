// The Yjs baseline of the sync bench: a plain Y.Array over y-webrtc in the same two
// processes as a catch-up, carrying the same block bytes: y-webrtc's own catch-up of a
// pre-filled doc, the chunked workaround, and one attachment-sized entry.
import { newRoom, newSecret, signalingUp, sleep } from './rooms.js';

/** Largest Yjs transaction the chunked baseline sends: well under Chromium's 256 KiB message limit. */
const YJS_CHUNK_BYTES = 128 * 1024;

/** A joins `room` first (its doc as it is), then B; returns B's start time and both statuses. */
async function yjsJoin(a, b, signaling, secret, room) {
	await a.call('yjs.join', { room, secret, signaling });
	await signalingUp(a, 'yjs.status');
	await sleep(300);
	return b.call('yjs.join', { room, secret, signaling });
}

async function yjsEnd(a, b, result) {
	const [aStatus, bStatus] = [await a.call('yjs.status'), await b.call('yjs.status')];
	await a.call('yjs.reset');
	await b.call('yjs.reset');
	return {
		...result,
		aStatus,
		bStatus,
		failure: result.converged
			? null
			: `failed: never converged within ${result.timeoutS} s (B holds ${result.length} of ${result.expected} entries; ${aStatus.sendFailureCount} data-channel sends refused in A${aStatus.sendFailures[0] ? `, e.g. ${aStatus.sendFailures[0].bytes} bytes: ${aStatus.sendFailures[0].error}` : ''})`
	};
}

/** y-webrtc's own catch-up: A's doc holds the entries before B joins. */
export async function yjsCatchup(a, b, signaling, { maxBytes, timeoutS }) {
	const secret = newSecret();
	const filled = await a.call('yjs.fill', { maxBytes });
	await yjsJoin(a, b, signaling, secret, newRoom('catchup'));
	const waited = await b.call('yjs.waitLength', { length: filled.length, timeoutMs: timeoutS * 1000 }, timeoutS * 1000 + 30_000);
	return yjsEnd(a, b, { kind: 'catch-up', filled, ...waited, expected: filled.length, timeoutS });
}

/** The workaround: B joins an empty room with A, and A pushes the entries in small transactions once connected. */
export async function yjsChunked(a, b, signaling, { count, timeoutS }) {
	const secret = newSecret();
	await yjsJoin(a, b, signaling, secret, newRoom('chunked'));
	const connected = await a.call('yjs.waitConnected', { count: 1, timeoutMs: 30_000 });
	const pushed = await a.call('yjs.pushChunked', { maxBytes: YJS_CHUNK_BYTES });
	const waited = await b.call('yjs.waitLength', { length: count, timeoutMs: timeoutS * 1000 }, timeoutS * 1000 + 30_000);
	return yjsEnd(a, b, {
		kind: 'chunked',
		connectedMs: connected.connectedMs,
		transactions: pushed.transactions,
		...waited,
		expected: count,
		timeoutS
	});
}

/** One entry the size of an attachment block, pushed once connected. */
export async function yjsAttachment(a, b, signaling, { timeoutS }) {
	const secret = newSecret();
	await yjsJoin(a, b, signaling, secret, newRoom('attachment'));
	await a.call('yjs.waitConnected', { count: 1, timeoutMs: 30_000 });
	await b.call('yjs.waitConnected', { count: 1, timeoutMs: 30_000 });
	const pushed = await a.call('yjs.pushAttachment');
	const waited = await b.call('yjs.waitLength', { length: 1, timeoutMs: timeoutS * 1000 }, timeoutS * 1000 + 30_000);
	return yjsEnd(a, b, {
		kind: 'attachment',
		entryBytes: pushed.bytes,
		latencyMs: waited.converged ? b.toNode(waited.doneAt) - a.toNode(pushed.pushedAt) : null,
		...waited,
		expected: 1,
		timeoutS
	});
}
