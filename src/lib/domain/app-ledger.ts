/**
 * The ledger options every node of the app opens its ledger with (browser and headless
 * peer alike): the app's transaction types and folds, so every node accepts what any
 * clinic may write, and the index folds kept in the store.
 */
import { APP_FOLDS, APP_INDEXES } from './fold-registry.js';
import { APP_RULES } from './rule-registry.js';

export const APP_LEDGER = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES } as const;
