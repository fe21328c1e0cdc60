/** Calls `fn` at most every `ms` with the latest arguments (the last call always lands). */
export function throttle<T>(fn: (v: T) => void, ms: number): (v: T) => void {
  let last = 0;
  let pending: T | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return (v: T) => {
    const now = performance.now();
    if (now - last >= ms) {
      last = now;
      fn(v);
      return;
    }
    pending = v;
    timer ??= setTimeout(() => {
      timer = null;
      last = performance.now();
      if (pending !== null) fn(pending);
      pending = null;
    }, ms - (now - last));
  };
}
