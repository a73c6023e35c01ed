import type { Category } from '$lib/state/views.js';

export const CATEGORY_LABELS: Record<Category, string> = {
	demographics: 'Demographics',
	encounters: 'Encounters and diagnoses',
	medications: 'Medications, allergies, immunizations',
	labs: 'Lab results',
	'mental-health': 'Mental health',
	'sexual-health': 'Sexual health',
	financial: 'Claims and insurance'
};

export const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
