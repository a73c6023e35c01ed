/**
 * The ledger options every node of the app opens its ledger with (browser and headless
 * peer alike): the app's transaction types and folds, so every node accepts what any
 * clinic may write.
 */
import { APP_FOLDS } from './fold-registry.js';
import { APP_RULES } from './rule-registry.js';

export const APP_LEDGER = { rules: APP_RULES, folds: APP_FOLDS } as const;
