// CPU time by thread of the Chromium processes of each node (Linux /proc): where a
// catch-up's cores go, beside the raw channel's, measured in the same run. Each node is one
// browser launched on its own profile directory; its processes are those whose ancestor's
// command line names that directory.
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ: clock ticks per second in /proc/<pid>/stat on Linux

/** The process's command line as one string (Chromium rewrites its children's argv as one). */
function commandLine(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
	} catch {
		return null;
	}
}

/** Fields of a stat line after the name (which may hold spaces and parentheses), and the name. */
function stat(path) {
	const text = readFileSync(path, 'latin1');
	const close = text.lastIndexOf(')');
	return { name: text.slice(text.indexOf('(') + 1, close), fields: text.slice(close + 2).split(' ') };
}

/**
 * CPU seconds (user + system) of every thread of the processes of each node, by
 * `node|process type|thread name` (threads of one name and type summed), or null where
 * there is no /proc. `nodes`: [{ name, dir }], `dir` the node's profile directory.
 */
export function cpuByThread(nodes) {
	if (!existsSync('/proc/self/stat')) return null;
	const procs = new Map();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const line = commandLine(entry);
			if (line === null) continue;
			procs.set(Number(entry), { line, ppid: Number(stat(`/proc/${entry}/stat`).fields[1]) });
		} catch {
			// The process ended while listed.
		}
	}
	const nodeOf = (pid) => {
		for (let p = pid, hops = 0; procs.has(p) && hops < 20; p = procs.get(p).ppid, hops++) {
			const found = nodes.find((n) => procs.get(p).line.includes(`--user-data-dir=${n.dir}`));
			if (found) return found.name;
		}
		return null;
	};
	const out = new Map();
	for (const [pid, { line }] of procs) {
		const node = nodeOf(pid);
		if (!node) continue;
		const type = /--type=(\S+)/.exec(line)?.[1] ?? 'browser';
		const sub = /--utility-sub-type=\S*?([^.\s]+)(\s|$)/.exec(line)?.[1];
		try {
			for (const tid of readdirSync(`/proc/${pid}/task`)) {
				const { name, fields } = stat(`/proc/${pid}/task/${tid}/stat`);
				const key = `${node}|${sub ? `${type}:${sub}` : type}|${name}`;
				out.set(key, (out.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICK);
			}
		} catch {
			// The process ended while read.
		}
	}
	return out;
}

/** CPU seconds spent between two {@link cpuByThread} readings, by the same keys (threads that ended in between are left out). */
export function cpuSpent(before, after) {
	if (!before || !after) return null;
	const out = {};
	for (const [key, t] of after) {
		const spent = t - (before.get(key) ?? 0);
		if (spent > 0.005) out[key] = Math.round(spent * 100) / 100;
	}
	return out;
}

/** What a thread's CPU was for, from its node, process type and name. */
export function cpuPart(key) {
	const [node, type, name] = key.split('|');
	if (type === 'renderer' && name.startsWith('DedicatedWorker')) return `${node}: web workers (signature checks)`;
	if (type === 'renderer' && /^(chromium|chrome|headless)/.test(name)) return `${node}: page main thread`;
	if (/IOThread|ChildIOT|WebRTC|NetworkService|network/i.test(name) || type.includes('network'))
		return 'both: transport (IO, WebRTC, network threads)';
	if (type === 'browser' && name.startsWith('ThreadPool')) return `${node}: browser thread pool (IndexedDB, disk)`;
	if (type === 'renderer' && name.startsWith('ThreadPool')) return `${node}: renderer thread pool`;
	return `${node}: other threads`;
}
