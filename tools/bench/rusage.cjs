/* global process, require */
/**
 * Preloaded into a benchmarked Node process (node --require tools/bench/rusage.cjs ...): at exit it
 * writes the process's CPU time (user + system, all threads) and peak RSS to $VB_RUSAGE_OUT as JSON.
 */
const out = process.env.VB_RUSAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('node:fs').writeFileSync(out, JSON.stringify({ cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMB: u.maxRSS / 1024 }));
  });
}
