/**
 * The worker thread that runs built-in search methods, so a CPU-bound suggestion never blocks the
 * operator's event loop. Receives {id, method, input}; answers {id, result} or {id, error}.
 */
import { parentPort } from "node:worker_threads";
import { getMethod } from "../generators/methods.ts";
import type { SuggestInput } from "../generators/types.ts";

/** Task is one request to the worker. */
export interface Task {
  id: number;
  method: string;
  input: SuggestInput;
}

parentPort?.on("message", (task: Task) => {
  try {
    const method = getMethod(task.method);
    if (!method) throw new Error(`unknown built-in method "${task.method}"`);
    parentPort?.postMessage({ id: task.id, result: method.suggest(task.input) });
  } catch (e) {
    parentPort?.postMessage({ id: task.id, error: (e as Error).message ?? String(e) });
  }
});
