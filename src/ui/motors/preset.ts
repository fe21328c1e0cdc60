/** Switching between the generic workbench and the motors preset, and the URL that opens each. */
import type { BackendChoice } from '../../worker/protocol';
import { useStore, type PresetId } from '../store';
import { loadMotorsDemo, setBackend } from './actions';

/** Shows the preset and keeps the address in step (`?preset=motors`), so a reload stays there. */
export function switchPreset(preset: PresetId): void {
  useStore.getState().setPreset(preset);
  const url = new URL(window.location.href);
  url.searchParams.delete('demo');
  if (preset === 'workbench') url.searchParams.delete('preset');
  else url.searchParams.set('preset', preset);
  window.history.replaceState(null, '', url);
}

/** The motors demo from the gallery button: switch to the preset, load it and run it. */
export function openMotorsDemo(): void {
  switchPreset('motors');
  void loadMotorsDemo();
}

/** The preset the address asks for (`?preset=motors` or `?demo=motors`), applied before the first render. */
export function presetFromUrl(params: URLSearchParams): void {
  if (params.get('demo') === 'motors' || params.get('preset') === 'motors') useStore.getState().setPreset('motors');
}

/**
 * Reads `?preset=motors` (the empty preset) and `?demo=motors` (the preset with the demo, run
 * without clicks); `&backend=wasm|webgpu|auto` picks the backend. Returns true when it handled the URL.
 */
export function startFromUrl(params: URLSearchParams): boolean {
  const demo = params.get('demo');
  const preset = params.get('preset');
  if (demo !== 'motors' && preset !== 'motors') return false;
  useStore.getState().setPreset('motors');
  const b = params.get('backend');
  if (b === 'wasm' || b === 'webgpu' || b === 'auto') setBackend(b as BackendChoice);
  if (demo === 'motors') void loadMotorsDemo();
  return true;
}
