/**
 * Payer rules as data: JsonLogic expressions (json-logic-js), checked at deploy so that
 * evaluating them inside the fold is deterministic and bounded.
 *
 * - Operators come from an allow-list: no `log` (console), no `method` (calls any method
 *   of a value, a way out to globals), no custom operations.
 * - `var` and `missing` take literal paths of plain names (no `constructor`,
 *   `__proto__`...), so a rule reads only the data the engine hands it.
 * - Iteration (`map`, `filter`, `reduce`, `all`, `some`, `none`) runs only over a `var`,
 *   i.e. over an array of the engine's data, which holds at most {@link MAX_ITEMS} items.
 *   That makes the worst-case number of evaluation steps computable before a rule ever
 *   runs: literal 1, operation 1 + its arguments, iteration 1 + its source +
 *   MAX_ITEMS × its body. A rule whose bound exceeds {@link STEP_BUDGET} is refused.
 * - `{"ref": "name"}` stands for a named definition of the rule set; references are
 *   inlined at deploy and a definition that reaches itself is refused `RULE_LOOP`.
 */
import jsonLogic from 'json-logic-js';
import { CodedError, type CborValue } from '$lib/core/index.js';

/** Largest array the engine passes to a rule (claim lines, diagnoses, modifiers). */
export const MAX_ITEMS = 64;
/** Worst-case evaluation steps of one rule on one claim line. */
export const STEP_BUDGET = 20_000;
/** Deepest nesting of a rule tree. */
export const MAX_DEPTH = 24;
/** Most nodes in one rule tree (after references are inlined). */
export const MAX_NODES = 1_000;
const MAX_STRING = 500;

export const RULE_CODES = [
	'POLICY_MALFORMED',
	'RULE_MALFORMED',
	'RULE_UNKNOWN_OP',
	'RULE_BAD_PATH',
	'RULE_UNKNOWN_REF',
	'RULE_LOOP',
	'RULE_TOO_DEEP',
	'RULE_TOO_LARGE',
	'RULE_OVER_BUDGET'
] as const;
export type RuleCode = (typeof RULE_CODES)[number];

/** A policy or rule refused at deploy: a stable code, where (a path in the rule set) and why. */
export class RuleError extends CodedError {
	override readonly name = 'RuleError';
	declare readonly code: RuleCode;
	constructor(
		code: RuleCode,
		readonly path: string,
		readonly detail: string
	) {
		super(code, `${path}: ${code}: ${detail}`);
	}
}

/** A JsonLogic tree as the ledger carries it (CBOR: integers, text, booleans, null, arrays, maps). */
export type Logic = CborValue;

const ITERATORS = new Set(['map', 'filter', 'reduce', 'all', 'some', 'none']);
const ALLOWED = new Set([
	'==',
	'===',
	'!=',
	'!==',
	'>',
	'>=',
	'<',
	'<=',
	'!!',
	'!',
	'%',
	'+',
	'-',
	'*',
	'/',
	'min',
	'max',
	'in',
	'cat',
	'substr',
	'merge',
	'var',
	'missing',
	'missing_some',
	'if',
	'?:',
	'and',
	'or',
	...ITERATORS
]);
const SEGMENT = /^[A-Za-z0-9_]{1,64}$/;
const FORBIDDEN_SEGMENTS = new Set([
	'constructor',
	'prototype',
	'__proto__',
	'__defineGetter__',
	'__defineSetter__',
	'__lookupGetter__',
	'__lookupSetter__',
	'toString',
	'valueOf',
	'hasOwnProperty'
]);

function isMap(v: CborValue | undefined): v is { [k: string]: CborValue } {
	return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function checkPath(path: CborValue | undefined, where: string): void {
	if (typeof path !== 'string') throw new RuleError('RULE_BAD_PATH', where, 'a data path must be literal text');
	if (path === '') return; // the current item, inside an iteration
	for (const segment of path.split('.')) {
		if (!SEGMENT.test(segment) || FORBIDDEN_SEGMENTS.has(segment))
			throw new RuleError('RULE_BAD_PATH', where, `"${path}" is not a plain data path`);
	}
}

interface Walk {
	nodes: number;
	readonly defs: Record<string, CborValue>;
	readonly visiting: string[];
}

/** Checks one node and returns it with references inlined, and its worst-case step count. */
function compileNode(node: CborValue, path: string, depth: number, walk: Walk): { logic: Logic; cost: number } {
	if (depth > MAX_DEPTH) throw new RuleError('RULE_TOO_DEEP', path, `nesting deeper than ${MAX_DEPTH}`);
	if (++walk.nodes > MAX_NODES) throw new RuleError('RULE_TOO_LARGE', path, `more than ${MAX_NODES} nodes`);
	if (node === null || typeof node === 'boolean' || typeof node === 'number') return { logic: node, cost: 1 };
	if (typeof node === 'string') {
		if (node.length > MAX_STRING) throw new RuleError('RULE_MALFORMED', path, `text longer than ${MAX_STRING} characters`);
		return { logic: node, cost: 1 };
	}
	if (node instanceof Uint8Array) throw new RuleError('RULE_MALFORMED', path, 'bytes are not a rule value');
	if (Array.isArray(node)) {
		let cost = 1;
		const logic = node.map((item, i) => {
			const c = compileNode(item, `${path}[${i}]`, depth + 1, walk);
			cost += c.cost;
			return c.logic;
		});
		return { logic, cost };
	}
	const keys = Object.keys(node);
	if (keys.length !== 1) throw new RuleError('RULE_MALFORMED', path, `an operation is a map with exactly one key, got ${keys.length}`);
	const op = keys[0]!;
	const raw = node[op]!;
	if (op === 'ref') return compileRef(raw, path, depth, walk);
	if (!ALLOWED.has(op)) throw new RuleError('RULE_UNKNOWN_OP', `${path}.${op}`, `operator "${op}" is not allowed`);
	const args = Array.isArray(raw) ? raw : [raw];
	const at = `${path}.${op}`;
	if (op === 'var') {
		if (args.length > 2) throw new RuleError('RULE_MALFORMED', at, 'var takes a path and an optional default');
		checkPath(args[0] ?? '', at);
		if (args.length === 2 && (isMap(args[1]) || Array.isArray(args[1])))
			throw new RuleError('RULE_MALFORMED', at, 'the default of var must be a literal');
		return { logic: node, cost: 1 + args.length };
	}
	if (op === 'missing' || op === 'missing_some') {
		const keysArg = op === 'missing' ? args : args[1];
		if (op === 'missing_some' && (args.length !== 2 || typeof args[0] !== 'number'))
			throw new RuleError('RULE_MALFORMED', at, 'missing_some takes a count and a list of paths');
		if (!Array.isArray(keysArg) || keysArg.length > MAX_ITEMS) throw new RuleError('RULE_MALFORMED', at, 'expected a list of paths');
		keysArg.forEach((k, i) => checkPath(k, `${at}[${i}]`));
		return { logic: node, cost: 1 + 2 * keysArg.length };
	}
	if (ITERATORS.has(op)) {
		const want = op === 'reduce' ? 3 : 2;
		if (args.length !== want) throw new RuleError('RULE_MALFORMED', at, `${op} takes ${want} arguments`);
		if (!isMap(args[0]) || Object.keys(args[0])[0] !== 'var')
			throw new RuleError('RULE_MALFORMED', `${at}[0]`, `${op} iterates over a var (data from the claim), nothing else`);
		const source = compileNode(args[0], `${at}[0]`, depth + 1, walk);
		const body = compileNode(args[1]!, `${at}[1]`, depth + 1, walk);
		const init = op === 'reduce' ? compileNode(args[2]!, `${at}[2]`, depth + 1, walk) : null;
		const cost = 1 + source.cost + MAX_ITEMS * body.cost + (init?.cost ?? 0);
		if (cost > STEP_BUDGET) throw new RuleError('RULE_OVER_BUDGET', at, `worst case ${cost} steps exceeds the budget of ${STEP_BUDGET}`);
		return { logic: { [op]: init ? [source.logic, body.logic, init.logic] : [source.logic, body.logic] }, cost };
	}
	let cost = 1;
	const compiled = args.map((arg, i) => {
		const c = compileNode(arg, `${at}[${i}]`, depth + 1, walk);
		cost += c.cost;
		return c.logic;
	});
	return { logic: { [op]: compiled }, cost };
}

function compileRef(name: CborValue, path: string, depth: number, walk: Walk): { logic: Logic; cost: number } {
	if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(walk.defs, name)) {
		throw new RuleError('RULE_UNKNOWN_REF', `${path}.ref`, `no definition named ${JSON.stringify(name)}`);
	}
	if (walk.visiting.includes(name))
		throw new RuleError('RULE_LOOP', `${path}.ref`, `definition "${name}" refers to itself (${[...walk.visiting, name].join(' → ')})`);
	walk.visiting.push(name);
	try {
		// Each use is inlined and counted: a definition used twice costs twice.
		return compileNode(walk.defs[name]!, `defs.${name}`, depth, walk);
	} finally {
		walk.visiting.pop();
	}
}

/** A rule with references inlined and its worst-case step count; throws {@link RuleError}. */
export function compileRule(rule: CborValue, path: string, defs: Record<string, CborValue> = {}): { logic: Logic; cost: number } {
	const walk: Walk = { nodes: 0, defs, visiting: [] };
	const result = compileNode(rule, path, 0, walk);
	if (result.cost > STEP_BUDGET)
		throw new RuleError('RULE_OVER_BUDGET', path, `worst case ${result.cost} steps exceeds the budget of ${STEP_BUDGET}`);
	return result;
}

/** Evaluates a compiled rule against data; JsonLogic truthiness (an empty list is false). Throws what the rule throws. */
export function ruleHolds(logic: Logic, data: unknown): boolean {
	return jsonLogic.truthy(jsonLogic.apply(logic as never, data));
}

const INFIX: Record<string, string> = {
	'==': '=',
	'===': '=',
	'!=': '≠',
	'!==': '≠',
	'>': '>',
	'>=': '≥',
	'<': '<',
	'<=': '≤',
	'+': '+',
	'-': '−',
	'*': '×',
	'/': '÷',
	'%': 'mod',
	in: 'in',
	and: 'and',
	or: 'or'
};

/** A rule in words and symbols, for the contract viewer. */
export function ruleText(logic: Logic): string {
	if (logic === null) return 'null';
	if (typeof logic === 'string') return JSON.stringify(logic);
	if (typeof logic !== 'object') return String(logic);
	if (Array.isArray(logic)) return `[${logic.map(ruleText).join(', ')}]`;
	if (logic instanceof Uint8Array) return 'bytes';
	const op = Object.keys(logic)[0]!;
	const raw = logic[op]!;
	const args = Array.isArray(raw) ? raw : [raw];
	if (op === 'var') return String(args[0] ?? 'item') || 'item';
	if (op === '!') return `not ${ruleText(args[0] ?? null)}`;
	if (op === '!!') return `(${ruleText(args[0] ?? null)} is set)`;
	if (op === 'if' || op === '?:') {
		const parts: string[] = [];
		for (let i = 0; i + 1 < args.length; i += 2)
			parts.push(`${i === 0 ? 'if' : 'else if'} ${ruleText(args[i]!)} then ${ruleText(args[i + 1]!)}`);
		if (args.length % 2 === 1) parts.push(`else ${ruleText(args[args.length - 1]!)}`);
		return `(${parts.join(' ')})`;
	}
	if (op in INFIX && args.length >= 2) {
		// `<` and `<=` with three arguments test a range: a < b < c.
		return `(${args.map(ruleText).join(` ${INFIX[op]} `)})`;
	}
	return `${op}(${args.map(ruleText).join(', ')})`;
}
