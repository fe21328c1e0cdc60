/**
 * What the links of a page that shows volumes in the Niivue viewer carry of its view: the slice
 * layout, the overlay's opacity and the page's own view values, the selected item under its link
 * key, and the viewer's window after the run (`baseWindowShare`).
 */
import type { PageDemo } from './demo';
import { baseWindowShare, presetShare, type ViewField } from './share';
import type { AnyStore } from './types';

/** The slice layout (`sliceType`) among the page's choices. */
export const sliceField = (choices: readonly string[]): ViewField => ({ key: 'sliceType', field: { choices } });

/** The overlay's opacity (`opacity`, 0..1). */
export const OPACITY_FIELD: ViewField = { key: 'opacity', field: { min: 0, max: 1 }, digits: 4 };

/** Links and sessions of a volume page: every preset value, the backend, the item shown (link key `selected`), the view `fields` and the window. */
export const volumeShare = <S extends AnyStore>(store: S, selected: string, fields: Record<string, ViewField>, demo: PageDemo) => presetShare(store, { selected, fields, after: baseWindowShare }, demo);
