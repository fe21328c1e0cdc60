/**
 * The preset contract (./types.ts) and what is derived from a preset's parameter specs
 * (./params.ts, ./derive.ts). Generic helpers over any preset live here.
 */
import { InputError } from '../volume';
import { paramDefaults, paramsFromCard, validateParams } from './params';
import type { AnyPreset, Preset } from './types';

export * from './types';
export * from './params';
export * from './derive';

/** The preset's default values (from its specs). */
export function presetDefaults<P>(preset: Preset<P>): P {
  return paramDefaults<P>(preset.params);
}

/** Every problem with a preset's values: per value from the specs, then the preset's cross-value rules. */
export function validatePreset<P>(preset: Preset<P>, p: P): string[] {
  const own = validateParams(preset.params, p);
  return own.length ? own : (preset.validate?.(p) ?? []);
}

/** `base` with a model card's values: the specs' card paths, then the preset's own reading. */
export function presetParamsFromCard<P>(preset: Preset<P>, card: unknown, base: P): P {
  const p = paramsFromCard(preset.params, card, base);
  try {
    return preset.fromCard ? preset.fromCard(card as Record<string, unknown>, p) : p;
  } catch (e) {
    // a card of the wrong shape where the preset reads it itself
    throw e instanceof InputError ? e : new InputError(`model card: ${(e as Error).message}`);
  }
}

/** The models of each role a run needs but does not have, as a message (null when enough). */
export function missingModels(preset: AnyPreset, counts: Record<string, number>): string | null {
  const missing = preset.models.filter((r) => (counts[r.role] ?? 0) < r.min);
  if (missing.length === 0) return null;
  return `add ${missing.map((r) => (r.min > 1 ? `at least ${r.min} ${r.label}s` : `a ${r.label}`)).join(' and ')}`;
}
