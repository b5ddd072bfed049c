/**
 * Server-sent events (text/event-stream): one named event per change, a comment every 15 s so
 * proxies keep the stream open, and the end of the stream when the browser goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** EventStream writes named events to one browser. */
export interface EventStream {
  send(event: string, data: unknown): void;
  /** closed resolves when the browser has gone (or close() was called). */
  closed: Promise<void>;
  close(): void;
}

/** formatEvent is one event in the text/event-stream format (data is JSON on one line). */
export function formatEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** openEventStream answers req with an event stream. */
export function openEventStream(
  req: IncomingMessage,
  res: ServerResponse,
  heartbeatMs = 15_000,
): EventStream {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  let done = false;
  let resolve: () => void = () => {};
  const closed = new Promise<void>((r) => {
    resolve = r;
  });
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
  heartbeat.unref();
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(heartbeat);
    resolve();
  };
  req.on("close", finish);
  res.on("close", finish);
  return {
    send(event, data) {
      if (!done) res.write(formatEvent(event, data));
    },
    closed,
    close() {
      finish();
      res.end();
    },
  };
}
