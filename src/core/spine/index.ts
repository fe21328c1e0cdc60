export * from './dicom';
export * from './pipeline';
export * from './export';
