/**
 * The fuzz suite's worker (a child process started by tools/fuzzHarness.ts): runs one case at a
 * time and says how it ended. Clean: an InputError naming the file; sane: a result that passes the
 * target's invariants; raw: any other error; insane: a result that breaks them. Hangs and crashes
 * are seen from the main thread.
 */
import { stem, targetByName, type FuzzInput } from './fuzzTargets';

export interface WorkerCase {
  id: number;
  target: string;
  input: FuzzInput;
}

export interface WorkerReply {
  id: number;
  kind: 'clean' | 'sane' | 'raw' | 'insane';
  detail?: string;
  ms: number;
}

// libraries log what they skip (UTIF: "Unknown compression"); a fuzz run would drown in it
const quiet = (): void => {};
console.log = quiet;
console.warn = quiet;
console.info = quiet;
console.error = quiet;
console.debug = quiet;

const send = (m: unknown): void => {
  process.send!(m);
};
const short = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

process.on('message', (c: WorkerCase) => {
  void (async () => {
    const t = targetByName(c.target);
    const t0 = performance.now();
    let reply: Omit<WorkerReply, 'ms' | 'id'>;
    try {
      const result = await t.run(c.input);
      let why: string | null;
      try {
        why = t.insane(result, c.input);
      } catch (e) {
        why = `the invariant check threw: ${(e as Error).message}`;
      }
      reply = why ? { kind: 'insane', detail: short(why) } : { kind: 'sane' };
    } catch (e) {
      const err = e as Error;
      const msg = String(err?.message ?? err);
      // an item's id (the file name without its extension) names the file too
      const named = t.named === false || c.input.files.some((f) => msg.includes(f.name) || msg.includes(stem(f.name)));
      if (err?.name === 'InputError' && named) reply = { kind: 'clean', detail: short(msg) };
      else reply = { kind: 'raw', detail: short(`${err?.name ?? typeof e}${err?.name === 'InputError' ? ' (names no file)' : ''}: ${msg}`) };
    }
    send({ id: c.id, ms: performance.now() - t0, ...reply } satisfies WorkerReply);
  })();
});

send('ready');
