/**
 * Share hooks of the cervical spine page (src/ui/share/types.ts) from its store
 * (src/ui/share/storeShare.ts): demo links carry every preset value (`threshold`, `order`,
 * `layout` …), the backend, the selected series (`sel`) and the view (`view.level`,
 * `view.width`, `view.sliceType`, `view.opacity` …) with the crosshair. URL inputs and session
 * files are not supported yet (the page says so).
 */
import { storeShare } from '../share/storeShare';
import { loadSpineDemo, runSpine } from './actions';
import { useSpine } from './state';

export const spineShare = storeShare({
  store: useSpine,
  demo: 'spine',
  openDemo: loadSpineDemo,
  run: runSpine,
  inputs: (s) => [...s.series.map((t) => t.key), ...s.models.map((m) => m.name)],
  scene: true,
  label: 'Cervical spine',
});

export const openSpineDemo = (opts?: { run?: boolean }): Promise<void> => spineShare.openDemo(opts);
