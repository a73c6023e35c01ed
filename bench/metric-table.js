// The metric table and JSON lines bench/run.js and bench/sync/run.js both print. A metric
// is {metric, value, unit, baseline, baseline_name, goal, ratio, better, met}.

/** Columns padded to their widest cell, two spaces apart, a dashed line under the header. */
export function table(rows, columns) {
	const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => String(row[i]).length)));
	const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
	return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Whether the metric meets its goal (null without a goal). */
export const goalMet = (m) => (m.goal === null ? null : m.better === 'lower' ? m.value < m.goal : m.value >= m.goal);

/** The metrics as a table; `noBaseline` is shown where a metric has no baseline figure. */
export function metricTable(metrics, noBaseline) {
	return table(
		metrics.map((m) => [
			m.metric,
			m.value,
			m.unit,
			m.baseline ?? noBaseline,
			m.ratio ?? '-',
			m.goal === null ? '-' : `${m.better === 'lower' ? '<' : '>='} ${m.goal}`,
			m.met === null ? '' : m.met ? 'met' : 'MISSED'
		]),
		['metric', 'value', 'unit', 'baseline', 'ratio', 'goal', '']
	);
}

/** One JSON line per metric on stdout, for tools that read the results. */
export function printMetricLines(metrics) {
	for (const { metric: name, value, unit, baseline, baseline_name, goal, ratio } of metrics) {
		console.log(JSON.stringify({ metric: name, value, unit, baseline, baseline_name, goal, ratio }));
	}
}
