// Profiles one benchmark suite in Chromium with the V8 sampling profiler and prints where
// the time goes (self time by function, and by module), to find what dominates a figure.
//
//   node bench/profile.js [setupSuite '{json}' ...] suite '{json}'
//   e.g. node bench/profile.js batchLedger '{"total":2000,"batch":500,"runs":1,"durability":"strict"}'
//        node bench/profile.js verifyPrepare '{"count":2000}' verifyLedger '{"verifier":"webcrypto","store":"indexeddb","runs":1,"warmup":300}'
//
// Every suite but the last runs unprofiled (setup). The full profile is written to
// bench/results/<suite>.cpuprofile (open it in Chromium DevTools, Performance panel).
import { mkdirSync, writeFileSync } from 'node:fs';
import { openBenchPage, startServer } from './harness.js';

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
	console.error('usage: node bench/profile.js [setupSuite params]... suite params');
	process.exit(2);
}
const steps = [];
for (let i = 0; i < args.length; i += 2) steps.push({ name: args[i], params: JSON.parse(args[i + 1]) });

const { server, url } = await startServer();
const { close, page, inPage } = await openBenchPage(url);
try {
	for (const { name, params } of steps.slice(0, -1)) await inPage(name, params, 900_000);
	const { name, params } = steps[steps.length - 1];
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
	await cdp.send('Profiler.start');
	const result = await inPage(name, params, 900_000);
	const { profile } = await cdp.send('Profiler.stop');
	mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
	writeFileSync(new URL(`./results/${name}.cpuprofile`, import.meta.url), JSON.stringify(profile));

	// Self time per node from the sample stream (timeDeltas are µs between samples).
	const self = new Map();
	for (let i = 0; i < profile.samples.length; i++) {
		const id = profile.samples[i];
		self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
	}
	const parent = new Map();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
	const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
	const describe = (node) => {
		const { functionName, url: source, lineNumber } = node.callFrame;
		const module = source ? source.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '') : `(${functionName || 'native'})`;
		return { module, key: `${functionName || '(anonymous)'}  ${module}${source ? `:${lineNumber + 1}` : ''}` };
	};
	const byFunction = new Map();
	const byModule = new Map();
	const inclusive = new Map();
	let total = 0;
	for (const node of profile.nodes) {
		const us = self.get(node.id) ?? 0;
		if (us === 0) continue;
		total += us;
		const { module, key } = describe(node);
		byFunction.set(key, (byFunction.get(key) ?? 0) + us);
		byModule.set(module, (byModule.get(module) ?? 0) + us);
		// Inclusive: every distinct function on this node's stack gets the time once.
		const seen = new Set();
		for (let id = node.id; id !== undefined; id = parent.get(id)) {
			const k = describe(nodes.get(id)).key;
			if (seen.has(k)) continue;
			seen.add(k);
			inclusive.set(k, (inclusive.get(k) ?? 0) + us);
		}
	}
	const top = (map, n) =>
		[...map.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, n)
			.map(([k, us]) => `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
			.join('\n');
	console.log(
		`suite ${name} ${JSON.stringify(params)}\nresult ${JSON.stringify(result)}\nprofiled ${(total / 1000).toFixed(0)} ms of main-thread time (idle included)\n`
	);
	console.log(`by module:\n${top(byModule, 15)}\n`);
	console.log(`by function (self time):\n${top(byFunction, 30)}\n`);
	console.log(
		`by function (inclusive time, src/ and bench/ only):\n${top(new Map([...inclusive].filter(([k]) => /\/(src|bench)\//.test(k))), 30)}`
	);
} finally {
	await close();
	await server.close();
}
