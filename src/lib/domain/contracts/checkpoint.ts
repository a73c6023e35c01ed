/**
 * The claims fold's checkpoint form: the head (contracts, coverages, keys, flags:
 * everything but the pages) as one JSON byte string, and each patient's
 * page as one of its own. Claims are packed as arrays (no repeated field names, keys by
 * their number in `keyList`, a decision's block and coverage omitted when they are the
 * claim's). Decoding reads the head only: a page stays bytes until first used (`Pages`),
 * and a page never used is written back as the bytes it was. Decoding gives back the same
 * state: `unpack(pack(s))` encodes to the same bytes as `s`.
 */
import type { CborValue } from '$lib/core/index.js';
import type { ClaimsState, ClaimRecord, Decision, DecisionKind, LineOutcome, AdjustmentGroup, PatientPage } from './claims-state.js';
import { emptyClaimsState, knownKey, Pages } from './claims-state.js';

type Packed = (string | number | boolean | null | Packed)[];
const KINDS: DecisionKind[] = ['original', 'correction', 'appeal'];
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function packClaim(state: ClaimsState, rec: ClaimRecord): Packed {
	const key = (hex: string) => knownKey(state, hex)!;
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

type Head = Omit<ClaimsState, 'pages'> & { keyList: string[]; pageKeys: number[] };
type PackedPage = Omit<PatientPage, 'claims'> & { claims: Packed[] };

function packPage(state: ClaimsState, page: PatientPage): Uint8Array {
	const { claims, ...rest } = page;
	return utf8.encode(JSON.stringify({ ...rest, claims: Object.values(claims).map((rec) => packClaim(state, rec)) }));
}

function unpackPage(keys: readonly string[], bytes: Uint8Array): PatientPage {
	const { claims: packed, ...rest } = JSON.parse(text.decode(bytes)) as PackedPage;
	const claims: PatientPage['claims'] = {};
	for (const p of packed) {
		const rec = unpackClaim(keys, p);
		claims[rec.id] = rec;
	}
	return { ...rest, claims };
}

/** The checkpoint form of a claims state: the head's bytes, and each page's. */
export function packState(state: ClaimsState): CborValue {
	const { pages, ...rest } = state;
	const packed = pages.packAll(
		(page) => packPage(state, page),
		(bytes, keys) => unpackPage(keys, bytes)
	);
	const head: Head = { ...rest, keyList: pages.keyList, pageKeys: packed.map(([key]) => key) };
	return { head: utf8.encode(JSON.stringify(head)), pages: packed.map(([, bytes]) => bytes) };
}

/** The claims state of its checkpoint form: the head decoded, the pages kept as bytes until used. */
export function unpackState(value: CborValue): ClaimsState {
	const v = value as { head: Uint8Array; pages: Uint8Array[] };
	const { pageKeys, keyList, ...head } = JSON.parse(text.decode(v.head)) as Head;
	const packed = new Map(pageKeys.map((key, i) => [key, v.pages[i]!]));
	return { ...emptyClaimsState(), ...head, pages: new Pages(keyList, (bytes, keys) => unpackPage(keys, bytes), packed) };
}
