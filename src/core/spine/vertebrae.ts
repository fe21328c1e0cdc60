/** The vertebrae the spine preset segments and scores, in label order (label k = VERTEBRAE[k - 1]). */
export const VERTEBRAE = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7'] as const;
export type Vertebra = (typeof VERTEBRAE)[number];
