/**
 * The Node side of the benchmarks, loaded by bench/run.js through Vite's `ssrLoadModule`:
 * receiving the workload with the node:crypto verifier (OpenSSL, the native limit on this
 * machine), and the Yjs baseline in the same process.
 */
import { MemoryStore, createWebCryptoVerifier } from '../../src/lib/core/index.js';
import { createNodeVerifier } from '../../src/lib/core/crypto/node-verifier.js';
import { median } from '../lib/stats.js';
import { splitVerify, splitVerifyMedian, timeReceive } from '../lib/verify.js';
import { buildVerifyWorkload } from '../lib/workload.js';
import { singleEntryUpdates, timeApplyUpdates } from '../lib/yjs-updates.js';

export async function runNodeVerify({ count, runs, warmup, yjsRuns }: { count: number; runs: number; warmup: number; yjsRuns: number }) {
	// The baseline first, on a quiet heap: 3 warm-up passes, then the median of `yjsRuns`.
	const updates = singleEntryUpdates(count);
	for (let i = 0; i < 3; i++) timeApplyUpdates(updates);
	const yjs: number[] = [];
	for (let r = 0; r < yjsRuns; r++) yjs.push(timeApplyUpdates(updates));
	const yjsMs = median(yjs);

	const verifier = await createNodeVerifier();
	const start = performance.now();
	const workload = await buildVerifyWorkload(count, verifier, 250, (done) => {
		if (done % 2500 < 250) console.error(`[node] verify workload: ${done}/${count} blocks`);
	});
	const prepareMs = performance.now() - start;

	await timeReceive(workload.net, workload.ordered.slice(0, warmup), verifier, new MemoryStore());
	const samples: number[] = [];
	for (let r = 0; r < runs; r++) samples.push(await timeReceive(workload.net, workload.blocks, verifier, new MemoryStore()));
	const ms = median(samples);

	await splitVerify(workload.ordered.slice(0, 500), verifier);
	const split = await splitVerifyMedian(workload.blocks, verifier, 1);
	// Node's own WebCrypto, for comparison with the direct node:crypto call.
	const webcrypto = await splitVerifyMedian(workload.blocks, createWebCryptoVerifier(globalThis.crypto.subtle), 1);

	return {
		digest: workload.digest,
		blocks: workload.blocks.length,
		prepareMs,
		samplesMs: samples,
		ms,
		perSecond: (count / ms) * 1000,
		split,
		nodeWebCryptoSignatureMs: webcrypto.signatureMs,
		yjsApply: { samplesMs: yjs, ms: yjsMs, perSecond: (count / yjsMs) * 1000 }
	};
}
