/** React hooks over a kit store. */
import { useMemo } from 'react';
import { finishedRows } from './runner';
import type { AnyStore, PresetState } from './types';

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
