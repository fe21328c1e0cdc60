/** React hooks over a kit store. */
import { useEffect, useMemo, useState } from 'react';
import type { MetricReport } from '../../core/preset/types';
import { ensureItem } from './intake';
import { finishedRows, metricReport } from './runner';
import type { AnyStore, PageSource, PresetState } from './types';

/** A value of the page's store, typed as the page's store is (re-renders when it changes). */
export function useKit<S extends AnyStore, T>(store: S, select: (s: ReturnType<S['getState']>) => T): T {
  return store(select as (s: PresetState) => T);
}

/** The finished items' rows through the preset's batch step (recomputed when the items or the values change; no run). */
export function useFinishedRows<Row = unknown>(store: AnyStore): Row[] {
  const items = useKit(store, (s) => s.items);
  const params = useKit(store, (s) => s.params);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => finishedRows<Row>(store, items), [store, items, params]);
}

/**
 * The selected item's decoded value (read in the worker, or from the page's cache) once it is
 * read, with its id; null while there is none or it is being read. A view draws from it.
 */
export function useSelectedItem<Item>(store: AnyStore): { id: string; item: Item } | null {
  const selected = useKit(store, (s) => s.selected);
  const entry = useKit(store, (s) => s.items.find((t) => t.id === s.selected));
  const read = entry?.meta !== undefined;
  const source = entry?.source;
  const [shown, setShown] = useState<{ id: string; source: PageSource | null | undefined; item: Item } | null>(null);
  useEffect(() => {
    if (!selected || !read) return;
    let live = true;
    void ensureItem(store, selected, true).then((item) => {
      if (live && item !== null) setShown({ id: selected, source, item: item as Item });
    });
    return () => {
      live = false;
    };
  }, [store, selected, read, source]);
  return shown && shown.id === selected && shown.source === source && read ? { id: shown.id, item: shown.item } : null;
}

/** The preset's metric of the finished rows against the page's labels (null without labels or results). */
export function useMetric(store: AnyStore): MetricReport | null {
  const items = useKit(store, (s) => s.items);
  const labels = useKit(store, (s) => s.labels);
  const params = useKit(store, (s) => s.params);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => metricReport(store, items), [store, items, labels, params]);
}
