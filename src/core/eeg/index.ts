export * from './parquet';
export * from './preprocess';
export * from './metric';
export * from './pipeline';
