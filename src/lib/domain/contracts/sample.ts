/**
 * Small sample tables and a sample policy, for tests, the demo and a payer's first deploy.
 * The engine takes any table of the same shape.
 *
 * Sources (abbreviated and rounded; illustrative, not for real billing):
 * - Service codes and fees: shaped on the CMS Medicare Physician Fee Schedule (national
 *   non-facility amounts) and the Clinical Laboratory Fee Schedule, 2024 public files.
 *   Descriptions are short paraphrases, not the AMA's CPT descriptors.
 * - Unit limits: shaped on the CMS practitioner Medically Unlikely Edits (MUE) table.
 * - Code pairs: shaped on the CMS NCCI procedure-to-procedure (PTP) practitioner edits
 *   (column 1, column 2, modifier indicator: 1 = a modifier such as 59 may bypass).
 * Figures were chosen to look like those files, not copied entry by entry: check the
 * current CMS files before any real use.
 */
import type { CborValue } from '$lib/core/index.js';

export interface SampleService {
	readonly code: string;
	readonly description: string;
	/** Fee schedule amount per unit, cents. */
	readonly fee: number;
	/** Medically unlikely edit: most units per line. */
	readonly maxUnits: number;
	readonly priorAuth?: boolean;
	readonly frequency?: { readonly count: number; readonly days: number };
}

export const SAMPLE_SERVICES: readonly SampleService[] = [
	{ code: '99211', description: 'Office visit, established patient, minimal', fee: 2300, maxUnits: 1 },
	{ code: '99212', description: 'Office visit, established patient, straightforward', fee: 5700, maxUnits: 1 },
	{ code: '99213', description: 'Office visit, established patient, low complexity', fee: 9200, maxUnits: 1 },
	{ code: '99214', description: 'Office visit, established patient, moderate complexity', fee: 13_000, maxUnits: 1 },
	{ code: '99215', description: 'Office visit, established patient, high complexity', fee: 18_400, maxUnits: 1 },
	{
		code: '99396',
		description: 'Preventive visit, established patient, 40-64 years',
		fee: 15_500,
		maxUnits: 1,
		frequency: { count: 1, days: 365 }
	},
	{ code: '36415', description: 'Venous blood draw', fee: 300, maxUnits: 1 },
	{ code: '80053', description: 'Comprehensive metabolic panel', fee: 1056, maxUnits: 1 },
	{ code: '82947', description: 'Glucose, quantitative, blood', fee: 380, maxUnits: 2 },
	{ code: '84132', description: 'Potassium, serum', fee: 450, maxUnits: 2 },
	{ code: '85025', description: 'Complete blood count with differential', fee: 777, maxUnits: 1 },
	{ code: '93000', description: 'Electrocardiogram, with interpretation and report', fee: 1600, maxUnits: 1 },
	{ code: '93010', description: 'Electrocardiogram, interpretation and report only', fee: 800, maxUnits: 1 },
	{ code: '71046', description: 'Chest X-ray, 2 views', fee: 3700, maxUnits: 1 },
	{ code: '73721', description: 'MRI of a lower-extremity joint, without contrast', fee: 22_000, maxUnits: 1, priorAuth: true },
	{ code: '20610', description: 'Arthrocentesis or injection, major joint', fee: 6600, maxUnits: 2 },
	{ code: '20605', description: 'Arthrocentesis or injection, intermediate joint', fee: 5500, maxUnits: 2 },
	{ code: '97110', description: 'Therapeutic exercise, each 15 minutes', fee: 2900, maxUnits: 6 },
	{ code: '90471', description: 'Immunization administration, first injection', fee: 1600, maxUnits: 1 }
];

/** [column 1, column 2, modifier indicator]: column 2 is part of column 1 when billed together. */
export const SAMPLE_CODE_PAIRS: readonly (readonly [string, string, number])[] = [
	['80053', '82947', 0],
	['80053', '84132', 0],
	['93000', '93010', 0],
	['20610', '20605', 1],
	['20610', '97110', 1]
];

/** A payer's sample line edits: data, evaluated by the engine with JsonLogic. */
export const SAMPLE_EDITS: readonly { id: string; text: string; carc: string; when: CborValue }[] = [
	{
		id: 'high-level-visit-needs-two-diagnoses',
		text: 'A level-5 visit (99215) needs at least two diagnoses on the claim',
		carc: '150',
		when: { and: [{ '==': [{ var: 'line.code' }, '99215'] }, { '<': [{ ref: 'diagnosisCount' }, 2] }] }
	},
	{
		id: 'preventive-visit-needs-z-code',
		text: 'A preventive visit (99396) must point to a Z00 encounter-for-examination diagnosis',
		carc: '11',
		when: {
			and: [
				{ '==': [{ var: 'line.code' }, '99396'] },
				{ none: [{ var: 'line.diagnoses' }, { '==': [{ substr: [{ var: '' }, 0, 3] }, 'Z00'] }] }
			]
		}
	}
];

/** The sample policy (a `contract.deploy` policy map) for plan `name`, effective from `start`. */
export function samplePolicy(
	options: {
		name?: string;
		start?: string;
		end?: string | null;
		deductible?: number;
		copay?: number;
		coinsuranceBps?: number;
		oopMax?: number;
		timelyFilingDays?: number;
	} = {}
): CborValue {
	const services: Record<string, CborValue> = {};
	for (const s of SAMPLE_SERVICES)
		services[s.code] = {
			fee: s.fee,
			maxUnits: s.maxUnits,
			...(s.priorAuth ? { priorAuth: true } : {}),
			...(s.frequency ? { frequency: { ...s.frequency } } : {})
		};
	return {
		name: options.name ?? 'Sample PPO',
		start: options.start ?? '2025-01-01',
		end: options.end ?? null,
		services,
		codePairs: SAMPLE_CODE_PAIRS.map((p) => [...p]),
		deductible: options.deductible ?? 50_000,
		copay: options.copay ?? 2_500,
		coinsuranceBps: options.coinsuranceBps ?? 2_000,
		oopMax: options.oopMax ?? 300_000,
		timelyFilingDays: options.timelyFilingDays ?? 90,
		defs: { diagnosisCount: { reduce: [{ var: 'claim.diagnoses' }, { '+': [{ var: 'accumulator' }, 1] }, 0] } },
		edits: SAMPLE_EDITS.map((e) => ({ ...e }))
	};
}
