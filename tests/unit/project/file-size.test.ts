/**
 * No source file over 400 lines (issue 20): the app (src/), the headless peer, the server,
 * the scripts and the benchmarks. A file that grows past it is split along its seams, not
 * listed here. Tests are not counted: a test file is a list of independent cases.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const LIMIT = 400;
const SOURCE = /\.(ts|js|cjs|svelte)$/;

function files(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (name === 'node_modules' || name === 'results') return [];
		if (statSync(path).isDirectory()) return files(path);
		return SOURCE.test(name) ? [path] : [];
	});
}

describe('source files', () => {
	it(`none is over ${LIMIT} lines`, () => {
		const all = ['src', 'peer', 'server', 'scripts', 'bench'].flatMap((dir) => files(join(repo, dir)));
		expect(all.length).toBeGreaterThan(200);
		const over = all
			.map((path) => ({ path: relative(repo, path), lines: readFileSync(path, 'utf8').split('\n').length - 1 }))
			.filter((f) => f.lines > LIMIT)
			.map((f) => `${f.path}: ${f.lines} lines`);
		expect(over).toEqual([]);
	});
});
