// `npm run bench` (decode part): what a block costs before its signature is checked, on
// the worst inputs per byte up to the 6 MiB block limit, and the decode rate of valid
// blocks. In Node, on the same TypeScript modules the app runs (Vite's ssrLoadModule).
//
//   decode_worst_6mib_ms       the slowest of checkIntrinsic on every input of
//                              src/lib/core/testing/hostile-blocks.ts (6 MiB of empty maps,
//                              byte strings, arrays, texts, integers, distinct keys, deep
//                              nesting, huge declared lengths, long texts; each forged,
//                              with a forged signature, and signed) and on a valid 6 MiB
//                              block: median of 5 runs per input, CPU time of the process
//   decode_worst_before_signature_6mib_ms
//                              the same over the unsigned inputs only (forged id, forged
//                              signature, not a block): what anyone can make a node spend,
//                              since their check stops at the hash or the signature
//   decode_worst_6mib_heap_mb  the largest heap growth (JS heap + ArrayBuffers) measured
//                              right after one such check, before any collection
//   decode_valid_per_s         small valid blocks (a note, 12 transactions, nested data)
//                              through decodeBlock, per CPU second
//
// Baselines are the figures for the decoder before the fix (the whole input
// decoded before any check): 2.9 s and +383 MB for 6 MiB of empty maps, about 10 s and
// +1.15 GB for 6 MiB of empty byte strings.
//
//   node --expose-gc bench/decode.js [--quick]   --quick: 1 run per input
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = quick ? 1 : 5;
const GOALS = { decode_worst_6mib_ms: 100, decode_worst_6mib_heap_mb: 20 };
const BASELINE = { maps: { ms: 2900, heapMb: 383 }, bytes: { ms: 10_000, heapMb: 1150 } };
const MB = 1024 * 1024;
const log = (m) => process.stderr.write(`[bench decode] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const heapBytes = () => {
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
};
// Collect before each measure so the heap growth is this input's; without --expose-gc the
// growth figures include earlier garbage (said in the output).
const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) log('run with node --expose-gc for exact heap figures');

const vite = await createServer({
	root,
	configFile: false,
	logLevel: 'warn',
	appType: 'custom',
	resolve: { alias: { $lib: `${root}src/lib` } },
	server: { middlewareMode: true, hmr: false, watch: null }
});
try {
	const core = await vite.ssrLoadModule('/src/lib/core/index.ts');
	const { hostileBlocks } = await vite.ssrLoadModule('/src/lib/core/testing/hostile-blocks.ts');
	const { testSecret, makeBlock } = await vite.ssrLoadModule('/src/lib/core/testing/fixtures.ts');
	const { createNodeVerifier } = await vite.ssrLoadModule('/src/lib/core/crypto/node-verifier.ts');
	const verifier = await createNodeVerifier();
	const signer = await core.createSigner(testSecret('founder'));
	const net = 'ab'.repeat(32);

	const inputs = (await hostileBlocks(signer)).map((input) => ({ ...input, expectOk: false }));
	// Valid blocks of the full size: one long text (decoded by the platform), one attachment.
	const long = await makeBlock(signer, { net, txs: [{ t: 'note', text: 'x'.repeat(core.MAX_BLOCK_BYTES - 400) }] });
	inputs.push({ name: 'valid block, one 6 MiB text', variant: 'signed', bytes: long.bytes, expectOk: true });
	const attachment = await makeBlock(signer, { net, txs: [{ t: 'attachment', data: new Uint8Array(core.MAX_BLOCK_BYTES - 400).fill(7) }] });
	inputs.push({ name: 'valid block, one 6 MiB byte string', variant: 'signed', bytes: attachment.bytes, expectOk: true });

	const rows = [];
	for (const input of inputs) {
		const cpus = [];
		const walls = [];
		let heapMb = 0;
		let verdict;
		for (let run = 0; run < RUNS; run++) {
			gc();
			const heapBefore = heapBytes();
			const cpu = process.cpuUsage();
			const started = performance.now();
			verdict = await core.checkIntrinsic(input.bytes, net, verifier);
			walls.push(performance.now() - started);
			const used = process.cpuUsage(cpu);
			cpus.push((used.user + used.system) / 1000);
			heapMb = Math.max(heapMb, (heapBytes() - heapBefore) / MB);
		}
		if (verdict.ok !== input.expectOk)
			throw new Error(`${input.name}: expected ${input.expectOk ? 'accepted' : 'refused'}, got ${verdict.ok ? 'accepted' : verdict.code}`);
		const row = {
			name: input.name,
			signed: input.variant === 'signed',
			bytes: input.bytes.length,
			verdict: verdict.ok ? 'accepted' : verdict.code,
			cpuMs: median(cpus),
			wallMs: median(walls),
			heapMb
		};
		rows.push(row);
		log(
			`${row.name.padEnd(44)} ${(row.bytes / MB).toFixed(2)} MiB  ${row.verdict.padEnd(14)} ${row.cpuMs.toFixed(1).padStart(7)} ms CPU ${row.wallMs.toFixed(1).padStart(7)} ms wall ${row.heapMb.toFixed(1).padStart(6)} MB`
		);
	}
	const worstMs = rows.reduce((a, b) => (b.cpuMs > a.cpuMs ? b : a));
	const worstHeap = rows.reduce((a, b) => (b.heapMb > a.heapMb ? b : a));
	const worstUnsigned = rows.filter((r) => !r.signed).reduce((a, b) => (b.cpuMs > a.cpuMs ? b : a));

	// Valid small blocks through decodeBlock: the everyday rate.
	const small = [
		(await makeBlock(signer, { net, txs: [{ t: 'note', text: 'hello' }] })).bytes,
		(await makeBlock(signer, { net, txs: Array.from({ length: 12 }, (_, i) => ({ t: 'note', text: `note ${i}`, n: i, ok: true })) })).bytes,
		(
			await makeBlock(signer, {
				net,
				txs: [{ t: 'record.put', data: new Uint8Array(600).fill(3), meta: { a: [1, 2, { b: 'c' }], z: null } }]
			})
		).bytes
	];
	const count = quick ? 20_000 : 200_000;
	const rates = [];
	for (let i = 0; i < 5_000; i++) core.decodeBlock(small[i % small.length]);
	for (let run = 0; run < (quick ? 1 : 3); run++) {
		const cpu = process.cpuUsage();
		for (let i = 0; i < count; i++) core.decodeBlock(small[i % small.length]);
		const used = process.cpuUsage(cpu);
		rates.push(count / ((used.user + used.system) / 1e6));
	}
	const rate = median(rates);
	log(`valid small blocks: ${Math.round(rate)} decodeBlock per CPU second (median of ${rates.length})`);
	log(
		`worst: ${worstMs.cpuMs.toFixed(1)} ms CPU (${worstMs.name}); worst before the signature ${worstUnsigned.cpuMs.toFixed(1)} ms (${worstUnsigned.name}); heap ${worstHeap.heapMb.toFixed(1)} MB (${worstHeap.name}); load ${loadavg()[0].toFixed(1)}`
	);

	const sig = (v) => Number(v.toPrecision(4));
	const metric = (name, value, unit, baseline, baselineName, goal, better) =>
		console.log(JSON.stringify({ metric: name, value: sig(value), unit, baseline, baseline_name: baselineName, goal, better }));
	metric(
		'decode_worst_6mib_ms',
		worstMs.cpuMs,
		'ms',
		BASELINE.maps.ms,
		'decoder before the fix, 6 MiB of empty maps (10 s for empty byte strings)',
		GOALS.decode_worst_6mib_ms,
		'lower'
	);
	metric(
		'decode_worst_6mib_heap_mb',
		worstHeap.heapMb,
		'MB',
		BASELINE.maps.heapMb,
		'decoder before the fix, 6 MiB of empty maps (1.15 GB for empty byte strings)',
		GOALS.decode_worst_6mib_heap_mb,
		'lower'
	);
	metric(
		'decode_worst_before_signature_6mib_ms',
		worstUnsigned.cpuMs,
		'ms',
		BASELINE.bytes.ms,
		'decoder before the fix, 6 MiB of empty byte strings',
		GOALS.decode_worst_6mib_ms,
		'lower'
	);
	metric(
		'decode_valid_per_s',
		rate,
		'blocks/s',
		99_500,
		'decoder before the fix, same blocks, measured side by side once (per CPU second)',
		null,
		'higher'
	);
} finally {
	await vite.close();
}
