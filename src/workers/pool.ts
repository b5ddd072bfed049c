/**
 * WorkerPool runs built-in methods on a fixed set of worker threads, one task per worker at a time,
 * with a timeout: a worker that overruns is terminated and replaced, and its task fails. Threads
 * start on first use (each costs ~30 MB), so an operator that only runs container generators has none.
 */
import { Worker } from "node:worker_threads";
import type { PointSource } from "../api/index.ts";
import type { SuggestInput, SuggestResult } from "../generators/types.ts";
import { HistorySync } from "./history-sync.ts";

/** TimeoutError is a task that overran its time. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** Synced names a request whose history the workers keep: only changes are sent (history-sync.ts). */
export interface Synced {
  uid: string;
  source: PointSource;
}

interface Pending {
  id: number;
  method: string;
  input: SuggestInput;
  synced?: Synced;
  timeoutMs: number;
  resolve: (r: SuggestResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  /** sid names the thread: a replaced thread gets a new one (and the whole history again). */
  sid: number;
  worker: Worker;
  task?: Pending;
  timer?: NodeJS.Timeout;
}

/** WorkerPool is a fixed-size pool of method workers. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly history = new HistorySync();
  private nextId = 1;
  private nextSid = 1;
  private closed = false;

  private readonly workerUrl: URL;
  private readonly size: number;

  /** The pool starts no thread until the first task, then grows to size threads as tasks wait. */
  constructor(size: number, workerUrl = new URL("./method-worker.ts", import.meta.url)) {
    this.workerUrl = workerUrl;
    this.size = size;
  }

  private spawn(): Slot {
    const slot: Slot = { sid: this.nextSid++, worker: new Worker(this.workerUrl) };
    slot.worker.unref();
    slot.worker.on(
      "message",
      (msg: { id: number; result?: SuggestResult; error?: string; resync?: boolean }) => {
        const task = slot.task;
        if (!task || task.id !== msg.id) return;
        this.finish(slot);
        // A history out of step is sent whole with the next task (the generation is retried).
        if (msg.resync && task.synced) this.history.drop(task.synced.uid, slot.sid);
        if (msg.error !== undefined) task.reject(new Error(msg.error));
        else task.resolve(msg.result as SuggestResult);
      },
    );
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
    this.history.drop(undefined, slot.sid);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1); // pump() starts a fresh thread when work waits
    task?.reject(err);
    this.pump();
  }

  private pump(): void {
    const idle = this.slots.filter((s) => !s.task).length;
    for (let i = idle; i < this.queue.length && this.slots.length < this.size; i++)
      this.slots.push(this.spawn());
    for (let q = 0; q < this.queue.length; ) {
      const task = this.queue[q] as Pending;
      const slot = this.slotFor(task);
      if (!slot) {
        q++;
        continue;
      }
      this.queue.splice(q, 1);
      slot.task = task;
      slot.timer = setTimeout(
        () =>
          this.replace(slot, new TimeoutError(`method ${task.method} took longer than ${task.timeoutMs} ms`)),
        task.timeoutMs,
      );
      const sync = task.synced && this.history.message(task.synced.uid, slot.sid, task.synced.source);
      slot.worker.postMessage({ id: task.id, method: task.method, input: task.input, sync });
    }
  }

  /**
   * slotFor is the idle thread a task goes to: a request's tasks wait for the thread that keeps its
   * history (one copy of a big history, not one per thread); other tasks take any idle thread.
   */
  private slotFor(task: Pending): Slot | undefined {
    if (task.synced) {
      const holders = this.history.holders(task.synced.uid);
      const home = this.slots.find((s) => holders.has(s.sid));
      if (home) return home.task ? undefined : home;
    }
    return this.slots.find((s) => !s.task);
  }

  /**
   * run asks a method for points; it rejects on the method's error or its timeout. With synced, the
   * input's history is left empty and the worker rebuilds it from what it keeps of that request.
   */
  run(method: string, input: SuggestInput, timeoutMs: number, synced?: Synced): Promise<SuggestResult> {
    if (this.closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise((resolve, reject) => {
      const task: Pending = { id: this.nextId++, method, input, timeoutMs, resolve, reject };
      if (synced) task.synced = synced;
      this.queue.push(task);
      this.pump();
    });
  }

  /** forget drops what the workers keep of a request's history (it was deleted). */
  forget(uid: string): void {
    this.history.drop(uid);
    for (const s of this.slots) s.worker.postMessage({ forget: uid });
  }

  /** close terminates every worker; queued tasks fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error("worker pool closed"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
