/** Where a page's inputs came from, and what a link can say about them (the preset's `sources` hook). */
import type { ShareSources } from './types';

/** A bundled demo's file, or a file fetched from a URL; anything else was opened from the computer. */
export type Origin = { demo: string } | { url: string };

export interface SourceItem {
  origin: Origin | undefined;
  /** Shown when the item is local (cannot go into a link). */
  name: string;
  kind: 'model' | 'data' | 'labels';
}

/**
 * A link's view of the inputs: all from one demo -> that demo; else the URLs by kind, and the
 * names of the local ones (which no link can carry).
 */
export function shareSourcesOf(items: SourceItem[], empty: boolean): ShareSources {
  const out: ShareSources = { models: [], data: [], local: [], empty };
  const demos = new Set(items.map((i) => (i.origin && 'demo' in i.origin ? i.origin.demo : null)));
  if (items.length > 0 && demos.size === 1 && !demos.has(null)) {
    out.demo = [...demos][0]!;
    return out;
  }
  for (const { origin, name, kind } of items) {
    if (origin && 'url' in origin) {
      if (kind === 'labels') out.labels = origin.url;
      else (kind === 'model' ? out.models : out.data).push(origin.url);
    } else out.local.push(name);
  }
  return out;
}
