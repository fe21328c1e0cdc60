/**
 * The page's decoded items and its reads, as objects its store holds (one per page, made with the
 * store): items are kept least recently used first out within a byte budget (a batch of large
 * tomograms is read again when needed instead of all being held at once), and reads wait in one
 * queue so that only one source is read at a time unless one is urgent.
 */

/** Decoded items by id within a byte budget; `bytes` says what an item weighs. */
export class ItemCache<Item> {
  private readonly items = new Map<string, Item>();

  constructor(
    private readonly bytes: (item: Item) => number,
    private readonly budget = 1 << 30,
  ) {}

  get(id: string): Item | undefined {
    const t = this.items.get(id);
    if (t !== undefined) {
      this.items.delete(id);
      this.items.set(id, t);
    }
    return t;
  }

  set(id: string, item: Item): void {
    this.items.delete(id);
    this.items.set(id, item);
    let total = 0;
    for (const x of this.items.values()) total += this.bytes(x);
    for (const [k, x] of this.items) {
      if (total <= this.budget || k === id) break;
      this.items.delete(k);
      total -= this.bytes(x);
    }
  }

  /** Forgets one item, or all. */
  delete(id?: string): void {
    if (id === undefined) this.items.clear();
    else this.items.delete(id);
  }

  has(id: string): boolean {
    return this.items.has(id);
  }
}

/** A read waiting or going: its result, its id in the worker (for cancelRead), and how to start it now. */
export interface PendingRead<Item> {
  promise: Promise<Item | null>;
  readId: string;
  /** Starts it now if it is still waiting (an urgent read of a queued item jumps the queue). */
  start(): void;
}

/** Reads waiting or going, by item id, and the chain that runs queued reads one at a time. */
export class ReadQueue<Item> {
  readonly pending = new Map<string, PendingRead<Item>>();
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  /** A fresh id for the worker's cancelRead. */
  nextReadId(): string {
    return `r${++this.seq}`;
  }

  /** Runs `job` after the queued reads (or at once when urgent); one entry per id. */
  enqueue(id: string, readId: string, job: () => Promise<Item | null>, urgent: boolean): Promise<Item | null> {
    let resolve!: (v: Item | null) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Item | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      job().then(resolve, reject);
    };
    this.pending.set(id, { promise, readId, start });
    if (urgent) start();
    else {
      // the chain waits for this read before the next one starts (also when it was started early)
      this.chain = this.chain.then(() => {
        start();
        return promise.catch(() => undefined);
      });
    }
    void promise
      .finally(() => {
        if (this.pending.get(id)?.promise === promise) this.pending.delete(id);
      })
      .catch(() => undefined);
    return promise;
  }
}
