// A cache key over source files: a fixture built from sources is reused only while they
// (and the given salt: sizes, format versions) are unchanged.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * 16 hex digits of a SHA-256 over `salt`, then the path and contents of every .ts/.js file
 * under `dirs` and of `files` (paths relative to `root`).
 * @param {string} root
 * @param {{ dirs: string[]; files: string[]; salt: string }} what
 */
export function sourceHash(root, { dirs, files, salt }) {
	const hash = createHash('sha256').update(salt);
	const paths = [];
	const walk = (dir) => {
		for (const name of readdirSync(dir).sort()) {
			const path = join(dir, name);
			if (statSync(path).isDirectory()) walk(path);
			else if (/\.(ts|js)$/.test(path)) paths.push(path);
		}
	};
	for (const dir of dirs) walk(join(root, dir));
	paths.push(...files.map((f) => join(root, f)));
	for (const path of paths) hash.update(relative(root, path)).update(readFileSync(path));
	return hash.digest('hex').slice(0, 16);
}
