/**
 * The worker thread that runs built-in search methods, so a CPU-bound suggestion never blocks the
 * operator's event loop. Receives {id, method, input, sync?}; answers {id, result} or {id, error}.
 * With sync, it keeps the request's history between tasks and applies only the changes
 * (history-sync.ts). {forget: uid} drops a request's history.
 */
import { parentPort } from "node:worker_threads";
import { getMethod } from "../generators/methods.ts";
import type { SuggestInput } from "../generators/types.ts";
import { type SyncMessage, WorkerHistory } from "./history-sync.ts";

/** Task is one request to the worker. */
export interface Task {
  id: number;
  method: string;
  input: SuggestInput;
  sync?: SyncMessage;
}

const kept = new WorkerHistory();

parentPort?.on("message", (task: Task | { forget: string }) => {
  if ("forget" in task) {
    kept.forget(task.forget);
    return;
  }
  let input = task.input;
  if (task.sync) {
    try {
      // Copied as properties, so the history stays lazy (built only if the method reads it).
      input = Object.defineProperties(
        { ...input },
        Object.getOwnPropertyDescriptors(kept.apply(task.sync, input.space)),
      );
    } catch (e) {
      kept.forget(task.sync.uid);
      parentPort?.postMessage({ id: task.id, error: (e as Error).message, resync: true });
      return;
    }
  }
  try {
    const method = getMethod(task.method);
    if (!method) throw new Error(`unknown built-in method "${task.method}"`);
    parentPort?.postMessage({ id: task.id, result: method.suggest(input) });
  } catch (e) {
    parentPort?.postMessage({ id: task.id, error: (e as Error).message ?? String(e) });
  }
});
