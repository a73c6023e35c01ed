/**
 * A patient's claims page as bytes, and back (claims-state.ts `PageCodec`): packed JSON,
 * claims as arrays (no repeated field names, keys by their number in the state's key list,
 * a decision's block and coverage omitted when they are the claim's). Byte strings of packed
 * JSON encode and decode far faster than the same data as nested CBOR maps (measured:
 * docs/contracts.md). `unpack(pack(p))` packs to the same bytes as `p`.
 */
import { CodedError } from '$lib/core/index.js';
import type { AdjustmentGroup, ClaimRecord, Decision, DecisionKind, LineOutcome, PatientPage } from './claims-types.js';

/** How a page becomes bytes and back: claims name keys by their place in `keys`, the state's key list. */
export interface PageCodec {
	pack(page: PatientPage, keys: readonly string[]): Uint8Array;
	unpack(bytes: Uint8Array, keys: readonly string[]): PatientPage;
}

const places = new WeakMap<readonly string[], Map<string, number>>();

/** The place of `hex` in `keys` (a key list only grows: the map of it is extended, never rebuilt). */
function placeOf(keys: readonly string[], hex: string): number {
	let map = places.get(keys);
	if (!map) places.set(keys, (map = new Map()));
	for (let i = map.size; i < keys.length; i++) map.set(keys[i]!, i);
	const at = map.get(hex);
	if (at === undefined) throw new CodedError('PAGE_KEY_UNKNOWN', `a claim names ${hex.slice(0, 12)}, which is not in the state's key list`);
	return at;
}

type Packed = (string | number | boolean | null | Packed)[];
const KINDS: DecisionKind[] = ['original', 'correction', 'appeal'];
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function packClaim(keys: readonly string[], rec: ClaimRecord): Packed {
	const key = (hex: string) => placeOf(keys, hex);
	return [
		rec.n,
		rec.block,
		Number(rec.id.slice(rec.block.length + 1)),
		rec.clock,
		key(rec.author),
		key(rec.clinic),
		rec.submitted,
		key(rec.patient),
		rec.coverage,
		rec.payer === null ? -1 : key(rec.payer),
		rec.billed,
		[...rec.diagnoses],
		rec.lines.map((l) => [
			l.seq,
			l.code,
			l.units,
			l.charge,
			l.dos,
			[...l.modifiers],
			sameList(l.diagnoses, rec.diagnoses) ? 0 : [...l.diagnoses]
		]),
		[...rec.preAuth],
		rec.decisions.map((d) => [
			d.block === rec.block ? null : d.block,
			KINDS.indexOf(d.kind),
			d.plan,
			d.version,
			d.coverage === rec.coverage ? null : d.coverage,
			d.billed,
			d.payer,
			d.patient,
			d.adjusted,
			d.status,
			d.lines.map((l) => [
				l.allowed,
				l.payer,
				l.patient,
				l.denied ? 1 : 0,
				l.edit,
				l.adjustments.flatMap((a) => [a.group, a.carc, a.amount])
			])
		]),
		rec.replaces,
		rec.replacedBy
	];
}

function unpackClaim(keys: readonly string[], packed: Packed): ClaimRecord {
	const [
		n,
		block,
		index,
		clock,
		author,
		clinic,
		submitted,
		patient,
		coverage,
		payer,
		billed,
		diagnoses,
		lines,
		preAuth,
		decisions,
		replaces,
		replacedBy
	] = packed as [
		number,
		string,
		number,
		number,
		number,
		number,
		number,
		number,
		string,
		number,
		number,
		string[],
		Packed[],
		string[],
		Packed[],
		string | null,
		string | null
	];
	const billedLines = lines.map((l) => {
		const [seq, code, units, charge, dos, modifiers, dx] = l as [number, string, number, number, number, string[], 0 | string[]];
		return { seq, code, units, charge, dos, modifiers, diagnoses: dx === 0 ? [...diagnoses] : dx };
	});
	return {
		id: `${block}-${index}`,
		n,
		block,
		clock,
		author: keys[author]!,
		clinic: keys[clinic]!,
		submitted,
		patient: keys[patient]!,
		coverage,
		payer: payer === -1 ? null : keys[payer]!,
		billed,
		diagnoses,
		lines: billedLines,
		preAuth,
		decisions: decisions.map((d): Decision => {
			const [dBlock, kind, plan, version, dCoverage, dBilled, dPayer, dPatient, adjusted, status, outcomes] = d as [
				string | null,
				number,
				string | null,
				number | null,
				string | null,
				number,
				number,
				number,
				number,
				Decision['status'],
				Packed[]
			];
			return {
				block: dBlock ?? block,
				kind: KINDS[kind]!,
				plan,
				version,
				coverage: dCoverage ?? coverage,
				lines: outcomes.map((o, i): LineOutcome => {
					const [allowed, lPayer, lPatient, denied, edit, flat] = o as [number, number, number, number, string | null, (string | number)[]];
					const line = billedLines[i]!;
					const adjustments = [];
					for (let j = 0; j < flat.length; j += 3)
						adjustments.push({ group: flat[j] as AdjustmentGroup, carc: flat[j + 1] as string, amount: flat[j + 2] as number });
					return {
						seq: line.seq,
						code: line.code,
						units: line.units,
						billed: line.charge,
						allowed,
						payer: lPayer,
						patient: lPatient,
						adjustments,
						denied: denied === 1,
						edit
					};
				}),
				billed: dBilled,
				payer: dPayer,
				patient: dPatient,
				adjusted,
				status
			};
		}),
		replaces,
		replacedBy
	};
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

type PackedPage = Omit<PatientPage, 'claims'> & { claims: Packed[] };

export const pageCodec: PageCodec = {
	pack(page, keys) {
		const { claims, ...rest } = page;
		return utf8.encode(JSON.stringify({ ...rest, claims: Object.values(claims).map((rec) => packClaim(keys, rec)) }));
	},
	unpack(bytes, keys) {
		const { claims: packed, ...rest } = JSON.parse(text.decode(bytes)) as PackedPage;
		const claims: PatientPage['claims'] = {};
		for (const p of packed) {
			const rec = unpackClaim(keys, p);
			claims[rec.id] = rec;
		}
		return { ...rest, claims };
	}
};
