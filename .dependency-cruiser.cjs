// The layer rule (docs/architecture.md, "Layers"): core → domain → state → components →
// routes, imports pointing down only. `npm test` and `npm run lint` run this through
// scripts/layers.js; tests/unit/project/layers.test.ts proves a deliberate upward import fails it.
//
// The demo network (src/lib/demo) sits beside state: it drives in-memory nodes built from
// the core and the domain, and only state managers and the route may use it.
//
// Rules are `error`; the only exceptions are the edges listed in scripts/layers-known.json,
// which scripts/layers.js lets through and which may only shrink.

const SRC = '^src/';
const CORE = '^src/lib/core/';
const DOMAIN = '^src/lib/domain/';
const STATE = '^src/lib/state/';
const DEMO = '^src/lib/demo/';
const COMPONENTS = '^src/lib/components/';
const ROUTES = '^src/routes/';
// Resolved paths: a package import ends up under node_modules/ (maybe through a symlink).
const SVELTE = ['(^|/)node_modules/svelte/', '(^|/)node_modules/@sveltejs/', '\\.svelte(\\.ts|\\.js)?$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{
			name: 'core-imports-nothing-above',
			comment: 'The core is framework-free and knows nothing of the domain, the UI or the demo.',
			severity: 'error',
			from: { path: CORE },
			to: { path: [DOMAIN, STATE, DEMO, COMPONENTS, ROUTES, ...SVELTE] }
		},
		{
			name: 'domain-imports-core-only',
			comment: 'The domain builds on the core; it never imports state, the demo, components, routes or Svelte.',
			severity: 'error',
			from: { path: DOMAIN },
			to: { path: [STATE, DEMO, COMPONENTS, ROUTES, ...SVELTE] }
		},
		{
			name: 'domain-uses-core-index',
			comment: "The domain goes through the core's public index (src/lib/core/index.ts), not its internals.",
			severity: 'error',
			from: { path: DOMAIN },
			to: { path: CORE, pathNot: '^src/lib/core/index\\.ts$' }
		},
		{
			name: 'records-below-research',
			comment: 'Research reads the record book; records never import research (the study consent lives in privacy/).',
			severity: 'error',
			from: { path: '^src/lib/domain/records/' },
			to: { path: '^src/lib/domain/research/' }
		},
		{
			name: 'state-imports-domain-and-core',
			comment: 'Rune managers sit on the domain and the core; they never import components or routes.',
			severity: 'error',
			from: { path: [STATE, DEMO] },
			to: { path: [COMPONENTS, ROUTES] }
		},
		{
			name: 'demo-below-state',
			comment: 'The demo network is driven by state managers, never the other way round.',
			severity: 'error',
			from: { path: DEMO },
			to: { path: STATE }
		},
		{
			name: 'components-never-import-core',
			comment: 'Components see managers and view types only: never the core, never a Ledger.',
			severity: 'error',
			from: { path: COMPONENTS },
			to: { path: [CORE, ROUTES] }
		},
		{
			name: 'routes-never-import-core',
			comment: 'Routes compose components and managers; like components they never touch the core.',
			severity: 'error',
			from: { path: ROUTES },
			to: { path: CORE }
		},
		{
			name: 'shipped-code-never-imports-test-scaffolding',
			comment: 'src/ must not import tests/, bench/ or any testing/ folder.',
			severity: 'error',
			from: { path: SRC, pathNot: '(^|/)testing/' },
			to: { path: ['^tests/', '^bench/', '(^|/)testing/'] }
		},
		{
			name: 'no-circular-in-src',
			comment: 'Import cycles in shipped code tie two concepts together; move the shared piece down.',
			severity: 'error',
			from: { path: SRC },
			to: { circular: true }
		},
		{
			name: 'not-to-unresolvable',
			comment: 'An import the checker cannot resolve would hide an edge from every rule above.',
			severity: 'error',
			from: { path: SRC },
			to: { couldNotResolve: true, dependencyTypesNot: ['type-only'], pathNot: ['^\\$app/', '^\\$env/', '^\\$service-worker$'] }
		}
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: ['^src/.*\\.json$'] },
		tsPreCompilationDeps: true,
		detectProcessBuiltinModuleCalls: true,
		tsConfig: { fileName: '.dependency-cruiser.tsconfig.json' },
		enhancedResolveOptions: {
			exportsFields: ['exports'],
			conditionNames: ['import', 'require', 'node', 'default', 'types'],
			// @medplum/fhirtypes ships only declarations
			mainFields: ['module', 'main', 'types']
		},
		moduleSystems: ['es6', 'cjs'],
		reporterOptions: { text: { highlightFocused: true } }
	}
};
