/**
 * The layer check (scripts/layers.js over .dependency-cruiser.cjs; `npm test` runs it on
 * the real tree as its own stage) passes on a clean tree and fails, naming the rule, on a
 * tree with one upward import per rule; the known-violations list lets listed edges
 * through and may only shrink. The .svelte type-import
 * half of "components never import the core" is eslint's (eslint.config.js).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const script = join(repo, 'scripts/layers.js');
// One cruise loads TypeScript and the Svelte compiler: seconds on a quiet machine, far more with both cores busy.
const SLOW = 180_000;

const trees: string[] = [];
afterAll(() => {
	for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway project holding the real checker configuration and `files`. */
function tree(files: Record<string, string>): string {
	const dir = mkdtempSync(join(tmpdir(), 'layers-'));
	trees.push(dir);
	for (const name of ['.dependency-cruiser.cjs', '.dependency-cruiser.tsconfig.json']) copyFileSync(join(repo, name), join(dir, name));
	symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
	for (const [path, text] of Object.entries(files)) {
		mkdirSync(dirname(join(dir, path)), { recursive: true });
		writeFileSync(join(dir, path), text);
	}
	return dir;
}

function check(cwd: string) {
	const result = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8' });
	return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/** A small tree that keeps every rule: each layer imports the one below it. */
const CLEAN: Record<string, string> = {
	'src/lib/core/types.ts': 'export type Id = string;\n',
	'src/lib/core/index.ts': "export type { Id } from './types.js';\n",
	'src/lib/domain/records/book.ts': "import type { Id } from '$lib/core/index.js';\nexport const book = (id: Id) => id;\n",
	'src/lib/domain/research/source.ts': "import { book } from '../records/book.js';\nexport const source = book;\n",
	'src/lib/demo/network.ts': "import { source } from '$lib/domain/research/source.js';\nexport const demo = source;\n",
	'src/lib/state/node.svelte.ts': "import { demo } from '$lib/demo/network.js';\nexport const node = demo;\n",
	'src/lib/components/Panel.svelte':
		"<script lang=\"ts\">\n\timport { node } from '$lib/state/node.svelte.js';\n</script>\n<p>{node('x')}</p>\n",
	'src/routes/+page.svelte': '<script lang="ts">\n\timport Panel from \'$lib/components/Panel.svelte\';\n</script>\n<Panel />\n',
	'src/lib/core/testing/prng.ts': 'export const prng = () => 0;\n',
	'src/lib/core/testing/simulation.ts': "import { prng } from './prng.js';\nexport const simulate = prng;\n"
};

/** One upward import per rule: [rule, importing file, imported file, importing file's text]. */
const UPWARD: [string, string, string, string][] = [
	[
		'core-imports-nothing-above',
		'src/lib/core/ledger.ts',
		'src/lib/domain/records/book.ts',
		"import { book } from '$lib/domain/records/book.js';\nexport const l = book;\n"
	],
	[
		'core-imports-nothing-above',
		'src/lib/core/fold.ts',
		'node_modules/svelte/',
		"import { tick } from 'svelte';\nexport const f = tick;\n"
	],
	[
		'domain-imports-core-only',
		'src/lib/domain/members.ts',
		'src/lib/state/node.svelte.ts',
		"import { node } from '$lib/state/node.svelte.js';\nexport const m = node;\n"
	],
	[
		'domain-uses-core-index',
		'src/lib/domain/identity.ts',
		'src/lib/core/types.ts',
		"import type { Id } from '../core/types.js';\nexport const i = (id: Id) => id;\n"
	],
	[
		'records-below-research',
		'src/lib/domain/records/patient.ts',
		'src/lib/domain/research/source.ts',
		"import { source } from '../research/source.js';\nexport const p = source;\n"
	],
	[
		'state-imports-domain-and-core',
		'src/lib/state/sync.svelte.ts',
		'src/lib/components/Panel.svelte',
		"import Panel from '$lib/components/Panel.svelte';\nexport const s = Panel;\n"
	],
	[
		'demo-below-state',
		'src/lib/demo/script.ts',
		'src/lib/state/node.svelte.ts',
		"import { node } from '$lib/state/node.svelte.js';\nexport const d = node;\n"
	],
	[
		'components-never-import-core',
		'src/lib/components/Ledger.svelte',
		'src/lib/core/index.ts',
		'<script lang="ts">\n\timport * as core from \'$lib/core/index.js\';\n</script>\n<p>{Object.keys(core).length}</p>\n'
	],
	[
		'routes-never-import-core',
		'src/routes/+layout.ts',
		'src/lib/core/index.ts',
		"import * as core from '$lib/core/index.js';\nexport const ssr = Object.keys(core).length === 0;\n"
	],
	[
		'shipped-code-never-imports-test-scaffolding',
		'src/lib/domain/synthetic.ts',
		'src/lib/core/testing/prng.ts',
		"import { prng } from '$lib/core/testing/prng.js';\nexport const s = prng;\n"
	],
	[
		'shipped-code-never-imports-test-scaffolding',
		'src/lib/domain/fixture.ts',
		'tests/support/fixture.ts',
		"import { fixture } from '../../../tests/support/fixture.js';\nexport const f = fixture;\n"
	],
	[
		'no-circular-in-src',
		'src/lib/domain/records/book.ts',
		'src/lib/domain/records/card.ts',
		"import { card } from './card.js';\nexport const book = card;\n"
	],
	['not-to-unresolvable', 'src/lib/domain/missing.ts', 'no-such-package', "import { x } from 'no-such-package';\nexport const m = x;\n"]
];
const EXTRA: Record<string, string> = {
	'tests/support/fixture.ts': 'export const fixture = 1;\n',
	'src/lib/domain/records/card.ts': "import { book } from './book.js';\nexport const card = (id: string) => book(id);\n"
};

describe('layer check', () => {
	// The real tree is checked by `npm test`'s own layers stage (scripts/test.js), beside the
	// lint: checking it again here cost a unit fork 15-20 s.

	it('passes on a small tree where every layer imports the one below', { timeout: SLOW }, () => {
		const { status, out } = check(tree(CLEAN));
		expect(out).toContain('0 new violations');
		expect(status).toBe(0);
	});

	it('fails on every kind of upward import, naming the rule and the edge', { timeout: SLOW }, () => {
		const files = { ...CLEAN, ...EXTRA };
		for (const [, from, , text] of UPWARD) files[from] = text;
		const { status, out } = check(tree(files));
		expect(status).toBe(1);
		for (const [rule, from, to] of UPWARD) {
			if (rule === 'no-circular-in-src')
				expect(out).toMatch(
					new RegExp(`layer violation ${rule}: src/lib/domain/records/(book|card)\\.ts → src/lib/domain/records/(book|card)\\.ts`)
				);
			// node_modules is a symlink here: the package resolves to wherever it really lives
			else if (to.startsWith('node_modules/')) expect(out).toMatch(new RegExp(`layer violation ${rule}: ${from} → \\S*${to}`));
			else expect(out).toContain(`layer violation ${rule}: ${from} → ${to}`);
		}
	});

	it('lets a listed violation through, and fails once it is fixed but still listed', { timeout: SLOW }, () => {
		const [rule, from, to, text] = UPWARD.find(([r]) => r === 'demo-below-state')!;
		const listed = JSON.stringify([`${rule}: ${from} → ${to}`]);
		const known = check(tree({ ...CLEAN, [from]: text, 'scripts/layers-known.json': listed }));
		expect(known.out).toContain('0 new violations, 1 known, 0 stale');
		expect(known.status).toBe(0);
		const fixed = check(tree({ ...CLEAN, 'scripts/layers-known.json': listed }));
		expect(fixed.out).toContain(`fixed, delete from scripts/layers-known.json: ${rule}: ${from} → ${to}`);
		expect(fixed.status).toBe(1);
	});
});

describe('components and routes never import the core (eslint, for .svelte type imports)', () => {
	const eslint = new ESLint({ cwd: repo });
	const typeImport =
		'<script lang="ts">\n\timport type { Ledger } from \'$lib/core/index.js\';\n\tlet { ledger }: { ledger: Ledger } = $props();\n</script>\n<p>{ledger}</p>\n';
	for (const filePath of ['src/lib/components/Probe.svelte', 'src/lib/components/records/Probe.svelte', 'src/routes/probe/+page.svelte']) {
		it(`refuses a type-only core import in ${filePath}`, { timeout: SLOW }, async () => {
			const [result] = await eslint.lintText(typeImport, { filePath: join(repo, filePath) });
			expect(result!.messages.map((m) => m.ruleId)).toContain('@typescript-eslint/no-restricted-imports');
		});
	}
	it('allows a state import in a component', { timeout: SLOW }, async () => {
		const stateImport =
			'<script lang="ts">\n\timport type { NodeState } from \'$lib/state/node.svelte.js\';\n\tlet { node }: { node: NodeState } = $props();\n</script>\n<p>{node}</p>\n';
		const [result] = await eslint.lintText(stateImport, { filePath: join(repo, 'src/lib/components/Probe.svelte') });
		expect(result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')).toEqual([]);
	});
});
