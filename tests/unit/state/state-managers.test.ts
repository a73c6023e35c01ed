/**
 * The managers in src/lib/state show their state through getters and change it through
 * methods: no class there declares a public field that a component could write (issue 20).
 * Read with the TypeScript parser, so a field written any way (initialized, declared,
 * a constructor parameter property, `public`, `protected`) is found.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../../src/lib/state');

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return sources(path);
		return path.endsWith('.ts') ? [path] : [];
	});
}

const has = (node: ts.Node, kind: ts.SyntaxKind) =>
	(ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : []).some((m) => m.kind === kind);

/** Every writable field a class of this source exposes: `Class.field`. */
export function writableFields(file: string, text: string): string[] {
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
	const found: string[] = [];
	const visit = (node: ts.Node) => {
		if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
			const name = node.name?.text ?? '(anonymous)';
			for (const member of node.members) {
				if (ts.isPropertyDeclaration(member)) {
					if (ts.isPrivateIdentifier(member.name) || has(member, ts.SyntaxKind.PrivateKeyword)) continue;
					if (has(member, ts.SyntaxKind.ReadonlyKeyword)) continue;
					found.push(`${name}.${member.name.getText(source)}`);
				}
				if (ts.isConstructorDeclaration(member)) {
					for (const parameter of member.parameters) {
						const property = [ts.SyntaxKind.PublicKeyword, ts.SyntaxKind.ProtectedKeyword].some((k) => has(parameter, k));
						if (property && !has(parameter, ts.SyntaxKind.ReadonlyKeyword)) found.push(`${name}.${parameter.name.getText(source)}`);
					}
				}
			}
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found;
}

describe('state managers', () => {
	it('the check finds a writable field written any of the ways a class can declare one', () => {
		const text = `class A { #ok = 1; readonly fine = 2; get x() { return 1; } open = 3; declare later: number; protected p = 1; private q = 1;
			constructor(public w: number, readonly r: number, private s: number) {} }`;
		expect(writableFields('a.ts', text)).toEqual(['A.open', 'A.later', 'A.p', 'A.w']);
	});

	it('no manager in src/lib/state exposes a writable field', () => {
		const files = sources(root);
		expect(files.length).toBeGreaterThan(20);
		const found = files.flatMap((file) => writableFields(file, readFileSync(file, 'utf8')).map((f) => `${relative(root, file)}: ${f}`));
		expect(found).toEqual([]);
	});
});
