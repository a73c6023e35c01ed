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
import { summarizeProfile } from './lib/cpu-profile.js';

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

	const summary = summarizeProfile(profile);
	console.log(
		`suite ${name} ${JSON.stringify(params)}\nresult ${JSON.stringify(result)}\nprofiled ${summary.totalMs.toFixed(0)} ms of main-thread time (idle included)\n`
	);
	console.log(`by module:\n${summary.modules}\n`);
	console.log(`by function (self time):\n${summary.functions}\n`);
	console.log(`by function (inclusive time, src/ and bench/ only):\n${summary.inclusive}`);
} finally {
	await close();
	await server.close();
}
