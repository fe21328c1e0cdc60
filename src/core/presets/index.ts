/**
 * Every preset of this version, by id: the worker's readInputs / runPreset, the page registry and
 * the CLI (`voxelbench run <preset>`) look them up here. Adding a pipeline = one core file with
 * its Preset (see ./motors.ts) and one line here, plus its view (src/ui/<preset>/).
 */
import type { AnyPreset, PresetKey } from '../preset/types';
import { brainPresetDef } from './brain';
import { eegPresetDef } from './eeg';
import { motorsPresetDef } from './motors';
import { proteinPresetDef } from './protein';
import { spinePresetDef } from './spine';

export const PRESET_DEFS: Partial<Record<PresetKey, AnyPreset>> = {
  motors: motorsPresetDef,
  spine: spinePresetDef,
  eeg: eegPresetDef,
  protein: proteinPresetDef,
  brain: brainPresetDef,
};

/** The preset with this id, or an Error listing the known ones. */
export function presetDef(id: string): AnyPreset {
  const p = PRESET_DEFS[id as PresetKey];
  if (!p) throw new Error(`unknown preset '${id}'; known: ${Object.keys(PRESET_DEFS).join(', ')}`);
  return p;
}
