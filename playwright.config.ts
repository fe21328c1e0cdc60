import { defineConfig } from '@playwright/test';
import { executablePathFor, findBrowser, playwrightChromium, systemEnv } from './tools/findBrowser';

/**
 * CHROME_PATH, else Debian's Chromium, else Playwright's own browser (tools/findBrowser.ts; `npm run
 * test:e2e` runs it first and installs Playwright's when none is found).
 */
const executablePath = executablePathFor(findBrowser(systemEnv(playwrightChromium())));

/** WebGPU through SwiftShader (and WebGL2 for Niivue) in headless Chromium; see README. */
export const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * VB_PORT and VB_DIST let several e2e runs share one checkout (each builds with
 * `VB_DIST=dist-x npx vite build` and serves its own folder on its own port).
 */
const PORT = Number(process.env.VB_PORT ?? 4179);
const DIST = process.env.VB_DIST ?? 'dist';
const TAG = process.env.VB_DIST ? `-${process.env.VB_DIST}` : '';

export default defineConfig({
  testDir: 'e2e',
  outputDir: `test-results/e2e-artifacts${TAG}`,
  timeout: 600_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: `test-results/e2e${TAG}.json` }]],
  use: {
    baseURL: `http://localhost:${PORT}/`,
    headless: true,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
    // the built app registers a service worker (public/sw.js); only e2e/share.spec.ts allows it
    serviceWorkers: 'block',
    launchOptions: { executablePath, args: chromiumArgs },
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
