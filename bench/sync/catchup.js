// The catch-up phase of the sync bench: node A holds `count` blocks in IndexedDB, node B
// joins empty and catches up over WebRTC (timed from B's mesh start until B's version
// vector equals A's); then the live propagation of one attachment block, then the Yjs
// baseline in the same two processes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpuByThread, cpuSpent } from './cpu.js';
import { launchNode, measureClock, selfTimes, startProfile } from './nodes.js';
import { assertWebRTC, newSecret, signalingUp, sleep } from './rooms.js';
import { label } from './sizes.js';
import { yjsAttachment, yjsCatchup, yjsChunked } from './yjs-baseline.js';

const ATTACHMENT_BYTES = 1_200_000;
/** The pre-filled Yjs doc that should still sync: its one sync message stays under 256 KiB. */
const YJS_SMALL_DOC_BYTES = 200 * 1024;

/**
 * The raw channel's figure: A's block bytes over one plain RTCDataChannel to B, in the
 * protocol's frame size with its flow control, timed from A's first send until B holds
 * every byte (on Node's clock).
 */
async function rawChannelRun(a, b, count) {
	await Promise.all([measureClock(a), measureClock(b)]);
	const offer = await a.call('raw.offer');
	const answer = await b.call('raw.answer', offer);
	await a.call('raw.accept', answer, 60_000);
	const timeoutMs = Math.max(60_000, count * 2);
	const sent = await a.call('raw.send', {}, timeoutMs);
	const got = await b.call('raw.wait', { bytes: sent.bytes, timeoutMs }, timeoutMs + 30_000);
	await Promise.all([a.call('raw.close'), b.call('raw.close')]);
	return { bytes: sent.bytes, frames: sent.frames, ms: b.toNode(got.doneAt) - a.toNode(sent.sentAt) };
}

/**
 * A builds `count` blocks, B joins and catches up over WebRTC; then (optionally) the
 * live propagation of one attachment block, then the Yjs baseline in the same processes.
 * `env` (the run's results.env) gets the Chromium version and the page's info.
 */
export async function catchup(page, count, options, { sizes: SIZES, env, log }) {
	const name = label(count);
	const [a, b] = await Promise.all([launchNode(`A-${name}`, page.url, { log }), launchNode(`B-${name}`, page.url, { log })]);
	const out = { count };
	try {
		env.chromium ??= a.version;
		env.page ??= await a.call('info');
		log(`catch-up ${name}: building A's ledger of ${count} blocks (fixture, relaxed commits)`);
		out.build = await a.call('ledger.build', { db: 'ledger', count, members: ['member-b'], batch: 1000, durability: 'relaxed' }, 900_000);
		out.reopen = await a.call('ledger.reopen', { db: 'ledger', label: 'founder', durability: 'strict' }, 300_000);
		log(
			`catch-up ${name}: built in ${(out.build.buildMs / 1000).toFixed(1)} s (${(out.build.bytes / 1e6).toFixed(2)} MB); reopened in ${out.reopen.openMs.toFixed(0)} ms`
		);
		await b.call('ledger.join', { db: 'ledger', net: out.build.net, label: 'member-b', durability: 'strict' });
		const signaling = [page.signalingUrl];
		const secret = newSecret();
		await a.call('ledger.startMesh', { secret, signaling });
		await signalingUp(a, 'ledger.status');
		await sleep(300);
		log(`catch-up ${name}: B starts its mesh`);
		const stopProfile = options.profile ? await startProfile(b) : null;
		const nodes = [
			{ name: 'A', dir: a.dir },
			{ name: 'B', dir: b.dir }
		];
		const cpuBefore = cpuByThread(nodes);
		await b.call('ledger.startMesh', { secret, signaling });
		const timeoutMs = Math.max(60_000, count * 3);
		const done = await b.call('ledger.waitVV', { vv: out.build.vv, timeoutMs }, timeoutMs + 30_000);
		// Both browsers' CPU by thread over the catch-up (from just before B's mesh start to B holding every block).
		out.cpu = cpuSpent(cpuBefore, cpuByThread(nodes));
		out.seconds = done.ms / 1000;
		if (stopProfile) {
			const profile = await stopProfile();
			mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
			writeFileSync(new URL(`./results/catchup-${name}-B.cpuprofile`, import.meta.url), JSON.stringify(profile));
			out.profile = selfTimes(profile).slice(0, 40);
		}
		out.b = await b.call('ledger.report');
		out.a = await a.call('ledger.report');
		out.linkKinds = { a: assertWebRTC(a, out.a, 1), b: assertWebRTC(b, out.b, 1) };
		log(
			`catch-up ${name}: ${out.seconds.toFixed(2)} s, B's peak heap ${out.b.heap.peakMb.toFixed(1)} MB, links ${out.linkKinds.b.join(',')}`
		);
		const rawBefore = cpuByThread(nodes);
		out.raw = await rawChannelRun(a, b, count);
		out.raw.cpu = cpuSpent(rawBefore, cpuByThread(nodes));
		log(
			`catch-up ${name}: raw data channel, same ${(out.raw.bytes / 1e6).toFixed(2)} MB in ${out.raw.frames} frames: ${(out.raw.ms / 1000).toFixed(2)} s`
		);

		if (options.yjs) out.prepared = await a.call('yjs.prepareFromLedger', {}, 300_000);
		if (options.attachment) {
			await Promise.all([measureClock(a), measureClock(b)]);
			const sent = await a.call('ledger.appendAttachment', { bytes: ATTACHMENT_BYTES });
			const got = await b.call('ledger.waitVV', { vv: sent.vv, timeoutMs: 60_000 }, 90_000);
			out.attachment = {
				blockBytes: sent.blockBytes,
				appendMs: sent.durableAt - sent.sentAt,
				ms: b.toNode(got.doneAt) - a.toNode(sent.sentAt),
				parts: (await b.call('ledger.status')).sessions[0]?.stats
			};
			log(`catch-up ${name}: a ${sent.blockBytes}-byte attachment block reached B in ${out.attachment.ms.toFixed(0)} ms`);
		}
		await a.call('ledger.stop');
		await b.call('ledger.stop');

		if (options.yjs) {
			const signalingUrls = [page.signalingUrl];
			await Promise.all([measureClock(a), measureClock(b)]);
			out.yjs = {};
			for (const step of options.yjs) {
				log(`catch-up ${name}: yjs baseline, ${step}`);
				try {
					if (step === 'small-catchup')
						out.yjs[step] = await yjsCatchup(a, b, signalingUrls, { maxBytes: YJS_SMALL_DOC_BYTES, timeoutS: SIZES.yjsTimeoutS });
					if (step === 'catchup') out.yjs[step] = await yjsCatchup(a, b, signalingUrls, { timeoutS: SIZES.yjsTimeoutS });
					if (step === 'chunked')
						out.yjs[step] = await yjsChunked(a, b, signalingUrls, {
							count: out.prepared.count,
							timeoutS: count > SIZES.small ? SIZES.largeYjsTimeoutS : SIZES.yjsTimeoutS
						});
					if (step === 'attachment') out.yjs[step] = await yjsAttachment(a, b, signalingUrls, { timeoutS: SIZES.attachmentTimeoutS });
				} catch (error) {
					out.yjs[step] = { converged: false, failure: `failed: ${error.message}` };
				}
				const r = out.yjs[step];
				log(`  -> ${r.converged ? `converged in ${(r.ms / 1000).toFixed(2)} s (${r.expected} entries)` : r.failure}`);
			}
		}
		return out;
	} finally {
		await a.close();
		await b.close();
	}
}
