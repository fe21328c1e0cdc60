/** Protein localisation (HPA 2021, pipeline 4): reading, preprocessing, CAM, per-cell rule, RLE, metric. */
export * from './images';
export * from './preprocess';
export * from './cells';
export * from './rle';
export * from './segment';
export * from './pipeline';
export * from './metric';
