/* global process, require */
/**
 * Preloaded into a benchmarked Node process (node --require tools/bench/rusage.cjs ...): at exit it
 * writes the process's CPU time (user + system, all threads) and peak RSS to $VB_RUSAGE_OUT as JSON.
 * The peak is VmHWM from /proc/self/status where there is one (Linux): getrusage's maxRSS starts at
 * the spawning process's RSS (fork copies it, exec keeps it), so a 40 MB child of an 800 MB bench
 * process reported 800 MB.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs');
const out = process.env.VB_RUSAGE_OUT;

/** This process's own peak RSS in MB: VmHWM (Linux), else getrusage's maxRSS. */
function peakMB(u) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return u.maxRSS / 1024;
}

if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMB: peakMB(u) }));
  });
}
