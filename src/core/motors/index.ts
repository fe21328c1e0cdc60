/** Cryo-ET flagellar motor detection (spec section 1): loaders, resize, weight map, pipeline, post-processing, metric. */
export * from './tomogram';
export * from './decode';
export * from './resize';
export * from './weightMap';
export * from './pipeline';
export * from './postprocess';
export * from './metric';
