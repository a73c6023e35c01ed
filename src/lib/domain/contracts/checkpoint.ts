/**
 * The claims fold's checkpoint form: claims packed as arrays (no repeated field names,
 * keys by their number in `keyList`, a decision's block and coverage omitted when they are
 * the claim's), everything else as it is; the whole as one JSON byte string. Decoding
 * gives back the same state: `unpack(pack(s))` encodes to the same bytes as `s`.
 */
import type { ClaimsState, ClaimRecord, Decision, DecisionKind, LineOutcome, AdjustmentGroup } from './claims-state.js';
import { knownKey } from './claims-state.js';

type Packed = (string | number | boolean | null | Packed)[];
const KINDS: DecisionKind[] = ['original', 'correction', 'appeal'];
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function packClaim(state: ClaimsState, rec: ClaimRecord): Packed {
	const key = (hex: string) => knownKey(state, hex)!;
	return [
		rec.block,
		Number(rec.id.slice(rec.block.length + 1)),
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

function unpackClaim(keys: readonly string[], packed: Packed, n: number): ClaimRecord {
	const [
		block,
		index,
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
		string,
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

/** The checkpoint bytes of a claims state. */
export function packState(state: ClaimsState): Uint8Array {
	const { claims: _, order, ...rest } = state;
	return utf8.encode(JSON.stringify({ ...rest, claims: order.map((id) => packClaim(state, state.claims[id]!)) }));
}

/** The claims state of checkpoint bytes. */
export function unpackState(bytes: Uint8Array): ClaimsState {
	const { claims: packed, ...rest } = JSON.parse(text.decode(bytes)) as Omit<ClaimsState, 'claims' | 'order'> & { claims: Packed[] };
	const claims: ClaimsState['claims'] = {};
	const order: string[] = [];
	packed.forEach((p, n) => {
		const rec = unpackClaim(rest.keyList, p, n);
		claims[rec.id] = rec;
		order.push(rec.id);
	});
	return { ...rest, claims, order } as ClaimsState;
}
