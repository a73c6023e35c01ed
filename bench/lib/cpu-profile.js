// Where the time of a V8 CPU profile (CDP Profiler.stop) goes: self time by module and by
// function, and inclusive time of the project's own functions. Used by bench/profile.js and
// bench/records-100k.js --profile.

/** The profile as text: the `modules`, `functions` and `inclusive` top lists. */
export function summarizeProfile(profile, { modules = 15, functions = 30, inclusive: inclusiveTop = 30 } = {}) {
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
	const own = new Map([...inclusive].filter(([k]) => /\/(src|bench)\/|\/_app\/immutable\//.test(k)));
	return {
		totalMs: total / 1000,
		modules: top(byModule, modules),
		functions: top(byFunction, functions),
		inclusive: top(own, inclusiveTop)
	};
}
