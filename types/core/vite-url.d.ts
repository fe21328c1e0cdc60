/**
 * For the core guard (tsconfig.core.json) only: the one Vite import form core uses
 * (src/core/spine/openjpegBrowser.ts, loaded only in the page and the worker). The main
 * tsconfig.json gets it, with the rest of Vite's types, from vite/client.
 */
declare module '*?url' {
  const url: string;
  export default url;
}
