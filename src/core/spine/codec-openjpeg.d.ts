/** The Emscripten factory of @cornerstonejs/codec-openjpeg's decoder (typed in openjpeg.ts). */
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: unknown;
  export default factory;
}
