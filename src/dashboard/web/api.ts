/**
 * The browser side of the dashboard's endpoints: JSON reads, binary frames and server-sent event
 * streams (EventSource reconnects by itself; the server starts each stream from its live view).
 */
import { readFrames } from "./frames.ts";

/** ApiError is an answer other than 200, with the server's message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** getJson reads an endpoint (relative to the page). */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  return body;
}

/**
 * getFrames reads a binary endpoint whose answer is frames one after another (wire.ts PointsHeader)
 * and yields each frame, whole, in a buffer of its own, as it arrives.
 */
export async function* getFrames(path: string): AsyncGenerator<ArrayBuffer> {
  const res = await fetch(path);
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  }
  yield* readFrames(res.body);
}

/** Stream is an open event stream. */
export interface Stream {
  close(): void;
}

/**
 * follow opens an event stream and calls handlers[event](data) for each event; onState tells
 * whether the stream is connected (for the page's "live" badge).
 */
export function follow<E>(
  path: string,
  handlers: { [K in keyof E]?: (data: E[K]) => void },
  onState: (live: boolean) => void = () => {},
): Stream {
  const es = new EventSource(path);
  for (const name of Object.keys(handlers) as (keyof E & string)[]) {
    es.addEventListener(name, (ev) => handlers[name]?.(JSON.parse((ev as MessageEvent<string>).data)));
  }
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  return { close: () => es.close() };
}

/** requestPath is the API path of a request (relative to the page). */
export function requestPath(ns: string, name: string): string {
  return `api/requests/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}
