/**
 * Receiving blocks into a fresh node, timed as a whole and split into its parts, in any
 * environment (Chromium page or Node) and with any verifier and store.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import {
	Ledger,
	bytesEqual,
	decodeBlock,
	fromHex,
	hashBody,
	precheckSignature,
	type BlockId,
	type LedgerStore,
	type ReceiveResult,
	type Verifier
} from '../../src/lib/core/index.js';

/** How a workload is handed to `receive`: in batches of `size`, `depth` calls in flight at once (as a sync session does). */
export interface Batching {
	size: number;
	depth: number;
}

/**
 * Milliseconds `ledger.receive` takes to take `blocks` into a fresh ledger of `net` over
 * `store`: full validation (decode, hash, signature, chain, deps, clock, membership,
 * rules), the durable writes and the fold. In one call, or in `batching`'s batches.
 * `verifier` undefined: the one `Ledger.open` picks (the page's worker pool).
 * Throws unless every block is accepted.
 */
export async function timeReceive(
	net: BlockId,
	blocks: Uint8Array[],
	verifier: Verifier | undefined,
	store: LedgerStore,
	batching?: Batching
): Promise<number> {
	const ledger = await Ledger.open({ store, net, ...(verifier ? { verifier } : {}) });
	const results: ReceiveResult[] = [];
	const start = performance.now();
	if (!batching) results.push(await ledger.receive(blocks));
	else {
		const inFlight: Promise<ReceiveResult>[] = [];
		for (let i = 0; i < blocks.length; i += batching.size) {
			inFlight.push(ledger.receive(blocks.slice(i, i + batching.size)));
			if (inFlight.length >= batching.depth) results.push(await inFlight.shift()!);
		}
		for (const r of inFlight) results.push(await r);
	}
	const ms = performance.now() - start;
	const accepted = results.reduce((n, r) => n + r.accepted.length, 0);
	if (accepted !== blocks.length) {
		const last = results[results.length - 1]!;
		const first = results.flatMap((r) => r.rejected)[0];
		throw new Error(
			`receive accepted ${accepted} of ${blocks.length} (pending ${last.pending}${first ? `, ${first.code}: ${first.detail}` : ''})`
		);
	}
	await ledger.close();
	return ms;
}

/** Milliseconds spent by each stage of intrinsic validation over `blocks`, run stage by stage. */
export interface VerifySplit {
	/** `decodeBlock` as the core has it: strict canonical decode of wrapper and body, shape checks, hex ids. */
	decodeMs: number;
	/**
	 * For comparison, the canonical check the core used first: plain cborg decoding of
	 * wrapper and body (this field), then re-encoding both and comparing bytes (next field).
	 */
	cborDecodeMs: number;
	cborReencodeMs: number;
	/** sha256 of domain || body, compared with the carried id (as validate.ts does). */
	hashMs: number;
	/** The strict-rule precheck alone (canonical A and R, small order, S < L). */
	precheckMs: number;
	/** `verifier.verify` for every block at once (precheck included), as `receive` issues them. */
	signatureMs: number;
}

export async function splitVerify(blocks: Uint8Array[], verifier: Verifier): Promise<VerifySplit> {
	let start = performance.now();
	const decoded = blocks.map((bytes) => decodeBlock(bytes));
	const decodeMs = performance.now() - start;

	start = performance.now();
	const values = blocks.map((bytes) => {
		const outer = decode(bytes) as [Uint8Array, Uint8Array, Uint8Array];
		return [outer, decode(outer[1])] as const;
	});
	const cborDecodeMs = performance.now() - start;

	start = performance.now();
	for (const [outer, body] of values) {
		encode(outer, rfc8949EncodeOptions);
		encode(body, rfc8949EncodeOptions);
	}
	const cborReencodeMs = performance.now() - start;

	start = performance.now();
	for (const block of decoded) if (!bytesEqual(hashBody(block.body), fromHex(block.id))) throw new Error('workload block with a bad hash');
	const hashMs = performance.now() - start;

	start = performance.now();
	for (const block of decoded)
		if (!precheckSignature(fromHex(block.author), block.signature)) throw new Error('workload block fails the precheck');
	const precheckMs = performance.now() - start;

	start = performance.now();
	const answers = await Promise.all(decoded.map((block) => verifier.verify(block.signature, fromHex(block.id), fromHex(block.author))));
	const signatureMs = performance.now() - start;
	if (answers.some((ok) => !ok)) throw new Error(`${verifier.name} refused a valid workload signature`);

	return { decodeMs, cborDecodeMs, cborReencodeMs, hashMs, precheckMs, signatureMs };
}

/** {@link splitVerify} `repeat` times; the median of each stage. */
export async function splitVerifyMedian(blocks: Uint8Array[], verifier: Verifier, repeat: number): Promise<VerifySplit> {
	const runs: VerifySplit[] = [];
	for (let i = 0; i < repeat; i++) runs.push(await splitVerify(blocks, verifier));
	const mid = (pick: (s: VerifySplit) => number) => runs.map(pick).sort((a, b) => a - b)[(runs.length - 1) >> 1]!;
	return {
		decodeMs: mid((s) => s.decodeMs),
		cborDecodeMs: mid((s) => s.cborDecodeMs),
		cborReencodeMs: mid((s) => s.cborReencodeMs),
		hashMs: mid((s) => s.hashMs),
		precheckMs: mid((s) => s.precheckMs),
		signatureMs: mid((s) => s.signatureMs)
	};
}
