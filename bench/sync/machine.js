// Whether a run had the machine to itself: the load average and Chromium browsers of
// another run, sampled every 5 s.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

/**
 * Chromium browsers of another run (e2e tests, another benchmark): they share the cores
 * with the nodes measured here. Counts browser processes (no --type=) not on our profiles.
 */
export function otherChromiums() {
	try {
		return execFileSync('ps', ['-eww', '-o', 'args'], { encoding: 'utf8' })
			.split('\n')
			.filter(
				(line) => /\/chromium(-browser)?$/.test(line.split(' ')[0]) && !line.includes('--type=') && !line.includes('clinic-sync-bench')
			).length;
	} catch {
		return null;
	}
}

/**
 * Load and foreign browsers every 5 s, so a run can say whether it had the machine to
 * itself: `samples` ({t, load, others}, t in seconds since `started`) until `stop()`.
 */
export function monitorMachine(started) {
	const samples = [];
	const timer = setInterval(
		() => samples.push({ t: Math.round((performance.now() - started) / 1000), load: loadavg()[0], others: otherChromiums() }),
		5000
	);
	return { samples, stop: () => clearInterval(timer) };
}
