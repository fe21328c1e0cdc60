/**
 * A page's bundled demo: its files (paths inside the app, e.g. models/x.onnx, samples/…) fetched
 * and given to the same intake as dropped files, each marked as the demo's (so that links say
 * `?demo=<name>`), then run unless told not to.
 */
import type { Origin, PickedFile } from './files';
import { addFiles } from './intake';
import { errorText, say } from './messages';
import { runBatch } from './runner';
import type { AnyStore } from './types';

export interface DemoFile {
  /** Where to fetch it (relative to the app). */
  url: string;
  /** Its path in the drop ('tomo_sim_001/slice_0000.jpg'): what the preset's sort sees. */
  path: string;
}

export interface PageDemo {
  /** `?demo=<name>`. */
  name: string;
  /** The demo's files, in any order (the intake sorts them). */
  files(): Promise<DemoFile[]>;
}

export async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** Loads the demo (cards, labels, models, items, as a drop of them would) and runs it unless `run: false`. */
export async function openDemo(store: AnyStore, demo: PageDemo, opts: { run?: boolean } = {}): Promise<void> {
  const s = store.getState();
  if (s.batch.status === 'running' || s.busy) return;
  store.setState({ busy: `Downloading the ${store.config.key} demo…` });
  const origin: Origin = { demo: demo.name };
  let files: PickedFile[];
  try {
    const list = await demo.files();
    files = await Promise.all(
      list.map(async (f) => {
        const blob = await (await fetchOk(f.url)).blob();
        const name = f.path.slice(f.path.lastIndexOf('/') + 1);
        return { path: f.path, file: new File([blob], name, { type: blob.type }), origin };
      }),
    );
  } catch (e) {
    say('error', `Could not download the ${store.config.key} demo: ${errorText(e)}`);
    return;
  } finally {
    store.setState({ busy: null });
  }
  const report = await addFiles(store, files);
  if (report.failed > 0) return;
  if (report.ids.length > 0) store.setState({ selected: report.ids[0] });
  if (opts.run !== false) await runBatch(store);
}

/** A bundled file dropped under its own name ('models/x.onnx' as 'x.onnx'), or under `path`. */
export const bundled = (url: string, path = url.slice(url.lastIndexOf('/') + 1)): DemoFile => ({ url, path });

/** A bundled model and its card ('models/x': models/x.json and models/x.onnx, as x.json and x.onnx). */
export const bundledModel = (stem: string): DemoFile[] => [bundled(`${stem}.json`), bundled(`${stem}.onnx`)];
