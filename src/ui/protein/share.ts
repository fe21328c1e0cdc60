/**
 * Share hooks of the protein page (src/ui/share/types.ts) from its store (src/ui/share/storeShare.ts):
 * demo links carry every preset value (`keepRatio`, `percentile`, `segmentation.minNucleusArea` …),
 * the backend, the selected field of view (`sel`) and the view (`view.camOpacity`,
 * `view.channels.green.max` …). URL inputs and session files are not supported yet (the page says so).
 */
import { storeShare } from '../share/storeShare';
import { loadProteinDemo, runProtein } from './actions';
import { useProtein } from './state';

export const proteinShare = storeShare({
  store: useProtein,
  demo: 'protein',
  openDemo: loadProteinDemo,
  run: runProtein,
  inputs: (s) => [...s.fovs.map((f) => f.id), ...s.models.map((m) => m.name)],
  label: 'Protein localisation',
});

export const openProteinDemo = (opts?: { run?: boolean }): Promise<void> => proteinShare.openDemo(opts);
