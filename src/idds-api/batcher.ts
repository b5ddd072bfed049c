/**
 * KeyedBatcher groups work by key: items submitted for one key while that key's previous batch is
 * being carried out (and those submitted in the same tick) go out together as the next batch. One
 * batch per key at a time, no timer: a lone item leaves at once, and under load batches grow by
 * themselves. Each item's promise settles with its own outcome from the batch.
 */

/** RunBatch carries out a batch for key; it returns one outcome per item (an Error rejects that item). */
export type RunBatch<I, R> = (key: string, items: I[]) => Promise<(R | Error)[]>;

interface Waiting<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/** BatchStats count what the batcher did (for metrics). */
export interface BatchStats {
  batches: number;
  items: number;
}

/** KeyedBatcher batches items per key; see the file comment. */
export class KeyedBatcher<I, R> {
  private readonly queues = new Map<string, Waiting<I, R>[]>();
  private readonly running = new Set<string>();
  private readonly run: RunBatch<I, R>;
  private readonly maxBatch: number;
  private readonly onBatch: (size: number) => void;

  constructor(run: RunBatch<I, R>, options: { maxBatch?: number; onBatch?: (size: number) => void } = {}) {
    this.run = run;
    this.maxBatch = options.maxBatch ?? 1000;
    this.onBatch = options.onBatch ?? (() => {});
  }

  /** submit adds item to key's next batch and resolves with its outcome. */
  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const q = this.queues.get(key) ?? [];
      q.push({ item, resolve, reject });
      this.queues.set(key, q);
      if (!this.running.has(key)) {
        this.running.add(key);
        // Let the items of this tick join before the batch leaves.
        queueMicrotask(() => void this.drain(key));
      }
    });
  }

  /** pending is the number of items waiting or being carried out. */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const q = this.queues.get(key) ?? [];
      if (q.length === 0) {
        this.queues.delete(key);
        this.running.delete(key);
        return;
      }
      const batch = q.splice(0, this.maxBatch);
      this.onBatch(batch.length);
      try {
        const outcomes = await this.run(
          key,
          batch.map((w) => w.item),
        );
        batch.forEach((w, i) => {
          const o = outcomes[i];
          if (o instanceof Error) w.reject(o);
          else if (i >= outcomes.length)
            w.reject(new Error(`batch for ${key} gave no outcome for item ${i}`));
          else w.resolve(o as R);
        });
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  }
}
