/**
 * WorkerPool runs built-in methods on a fixed set of worker threads, one task per worker at a time,
 * with a timeout: a worker that overruns is terminated and replaced, and its task fails. Threads
 * start on first use (each costs ~30 MB), so an operator that only runs container generators has none.
 */
import { Worker } from "node:worker_threads";
import type { SuggestInput, SuggestResult } from "../generators/types.ts";

/** TimeoutError is a task that overran its time. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

interface Pending {
  id: number;
  method: string;
  input: SuggestInput;
  timeoutMs: number;
  resolve: (r: SuggestResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Pending;
  timer?: NodeJS.Timeout;
}

/** WorkerPool is a fixed-size pool of method workers. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  private readonly workerUrl: URL;
  private readonly size: number;

  /** The pool starts no thread until the first task, then grows to size threads as tasks wait. */
  constructor(size: number, workerUrl = new URL("./method-worker.ts", import.meta.url)) {
    this.workerUrl = workerUrl;
    this.size = size;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.workerUrl) };
    slot.worker.unref();
    slot.worker.on("message", (msg: { id: number; result?: SuggestResult; error?: string }) => {
      const task = slot.task;
      if (!task || task.id !== msg.id) return;
      this.finish(slot);
      if (msg.error !== undefined) task.reject(new Error(msg.error));
      else task.resolve(msg.result as SuggestResult);
    });
    slot.worker.on("error", (err) => this.replace(slot, err));
    slot.worker.on("exit", (code) => {
      if (!this.closed && slot.task) this.replace(slot, new Error(`method worker exited with code ${code}`));
    });
    return slot;
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.timer = undefined;
    this.pump();
  }

  private replace(slot: Slot, err: Error): void {
    const task = slot.task;
    clearTimeout(slot.timer);
    slot.task = undefined;
    void slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1); // pump() starts a fresh thread when work waits
    task?.reject(err);
    this.pump();
  }

  private pump(): void {
    const idle = this.slots.filter((s) => !s.task).length;
    for (let i = idle; i < this.queue.length && this.slots.length < this.size; i++)
      this.slots.push(this.spawn());
    for (const slot of this.slots) {
      if (slot.task || this.queue.length === 0) continue;
      const task = this.queue.shift() as Pending;
      slot.task = task;
      slot.timer = setTimeout(
        () =>
          this.replace(slot, new TimeoutError(`method ${task.method} took longer than ${task.timeoutMs} ms`)),
        task.timeoutMs,
      );
      slot.worker.postMessage({ id: task.id, method: task.method, input: task.input });
    }
  }

  /** run asks a method for points; it rejects on the method's error or its timeout. */
  run(method: string, input: SuggestInput, timeoutMs: number): Promise<SuggestResult> {
    if (this.closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, method, input, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** close terminates every worker; queued tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("worker pool closed"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
