/**
 * WatchFeed is one watch stream of a fake API server, written by a unit test event by event: the
 * code under test reads it as KubeClient.lines() would give it, so what arrives when is the test's
 * to decide.
 */
export class WatchFeed {
  private readonly queued: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  /** send queues watch events, a JSON line each, and wakes the reader. */
  send(...events: unknown[]): void {
    for (const e of events) this.queued.push(JSON.stringify(e));
    this.wake?.();
  }

  /** end ends the stream once what is queued has been read (the server closing the watch). */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** read yields the lines as they are sent, until the feed ends or signal aborts. */
  async *read(signal?: AbortSignal): AsyncGenerator<string> {
    while (!signal?.aborted) {
      const line = this.queued.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => {
        this.wake = r;
        signal?.addEventListener("abort", () => r(), { once: true });
      });
    }
  }
}
