// eslint (`npm run lint`, `npm test`): the recommended rules of eslint, typescript-eslint
// and eslint-plugin-svelte; layout is prettier's (.prettierrc), so no stylistic rules here.
// The layer rule itself is dependency-cruiser's (.dependency-cruiser.cjs); the one piece
// added here is for .svelte files, whose type-only imports the Svelte compiler erases
// before dependency-cruiser reads them.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const NO_CORE = {
	patterns: [
		{
			group: ['$lib/core', '$lib/core/*', '**/lib/core/*'],
			message: 'Components and routes never import the core (docs/architecture.md, "Layers"): go through a state manager or a view type.'
		}
	]
};

export default defineConfig(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'node_modules/',
			'test-results/',
			'playwright-report/',
			'bench/results/',
			'bench/sync/results/',
			'static/'
		]
	},
	js.configs.recommended,
	ts.configs.recommended,
	svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } }
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteConfig } }
	},
	{
		// TypeScript checks names itself (svelte-check); eslint's no-undef does not know type-only globals.
		files: ['**/*.ts', '**/*.svelte'],
		rules: { 'no-undef': 'off' }
	},
	{
		// A `let` assigned once but read earlier by a closure (an IndexedDB `blocking` handler) cannot be a const.
		files: ['**/*.ts', '**/*.js'],
		ignores: ['**/*.svelte.ts', '**/*.svelte.js'],
		rules: { 'prefer-const': ['error', { ignoreReadBeforeAssign: true }] }
	},
	{
		rules: {
			// A leading underscore marks a value left out on purpose (`const { a: _, ...rest } = x`).
			'@typescript-eslint/no-unused-vars': [
				'error',
				{
					argsIgnorePattern: '^_',
					varsIgnorePattern: '^_',
					caughtErrorsIgnorePattern: '^_',
					destructuredArrayIgnorePattern: '^_',
					ignoreRestSiblings: true
				}
			],
			// Managers keep private, non-reactive Maps and Sets and publish snapshots through
			// $state.raw; components build throwaway Maps inside $derived. The rule cannot tell
			// either from state that should have been a SvelteMap, and flags every one.
			'svelte/prefer-svelte-reactivity': 'off'
		}
	},
	{
		files: ['src/lib/components/**', 'src/routes/**'],
		rules: { '@typescript-eslint/no-restricted-imports': ['error', NO_CORE] }
	}
);
