/**
 * Informer keeps an in-memory copy of one kind of object (list, then watch) and tells a handler
 * what changed. Its watches survive: a 410 Gone relists, a watch that goes silent past the
 * watchdog's limit is restarted, errors back off with jitter, and bookmarks keep the resume point
 * fresh. One watch per namespace when the scope is a list of namespaces, else one for all.
 *
 * The list is a streaming list where the API server has one (KEP-3157 "watch-list": a watch with
 * sendInitialEvents=true, on by default from Kubernetes 1.34; 1.32 too): the objects come as a
 * stream from the API server's cache, one event each, ending with a bookmark, and the same stream
 * goes on as the watch. That is about three times faster than pages of 500 for 12,500 large
 * objects (docs/performance.md) and lets the first list fill the cache as it arrives. A server
 * that refuses it (the WatchList feature gate off, as in 1.30, 1.31 and 1.33) gets pages of 500,
 * for the rest of the informer's life.
 */
import type { KubeClient } from "./client.ts";
import { paths } from "./client.ts";
import { ApiError, GoneError } from "./errors.ts";

/** KubeObject is the part of every object the informer reads. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string | Date;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

/** EventType is what happened to an object. */
export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** Handler is told about each change; old is the previous copy for MODIFIED and DELETED. */
export type Handler<T> = (type: EventType, obj: T, old: T | undefined) => void;

/**
 * CacheListener is told each time the cached copy of an object changes, by the watch or by an
 * upsert: before is the copy it replaces (undefined when new), after the new one (undefined when
 * removed). Aggregates over the cache (such as per-request summaries) follow it exactly.
 */
export type CacheListener<T> = (before: T | undefined, after: T | undefined) => void;

/** InformerLog is the logging the informer needs. */
export interface InformerLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

/** InformerOptions configure an informer. */
export interface InformerOptions {
  client: KubeClient;
  apiVersion: string;
  plural: string;
  /** namespaces to watch; undefined or empty means all namespaces. */
  namespaces?: string[];
  labelSelector?: string;
  /** fieldSelector narrows the list and watch further (such as metadata.name=x). */
  fieldSelector?: string;
  log: InformerLog;
  /** idleTimeoutMs restarts a watch that delivered nothing (not even a bookmark) for this long. */
  idleTimeoutMs?: number;
  /** backoff after a failed list or watch, doubling from initialMs to maxMs, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /** onWatchError is called for each failed list or watch (for metrics). */
  onWatchError?: (err: unknown) => void;
  /**
   * streamingList lists with a streaming list where the server has one (default true); false
   * always lists in pages of 500.
   */
  streamingList?: boolean;
}

interface WatchEvent<T> {
  type: EventType | "BOOKMARK" | "ERROR";
  object: T & { code?: number; message?: string };
}

/** keyOf is "namespace/name" of an object. */
export function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

/** backoffMs is the delay before retry attempt n (0-based): doubling, capped, with ±25 % jitter. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Informer lists and watches one resource and keeps a cache of it. */
export class Informer<T extends KubeObject> {
  /** store is the freshest copy known: the watch's, or a newer one a caller wrote (upsert). */
  private readonly store = new Map<string, T>();
  /** watched is the last copy the list or watch delivered: the "old" side of the next event. */
  private readonly watched = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private readonly cacheListeners: CacheListener<T>[] = [];
  private readonly opts: Required<
    Omit<InformerOptions, "namespaces" | "labelSelector" | "fieldSelector" | "onWatchError" | "streamingList">
  > &
    InformerOptions;
  /** streaming says whether to list with a streaming list (until the server refuses one). */
  private streaming: boolean;
  private readonly synced = new Set<string>();
  private abort = new AbortController();
  private loops: Promise<void>[] = [];
  private syncWaiters: (() => void)[] = [];

  constructor(opts: InformerOptions) {
    this.opts = { idleTimeoutMs: 120_000, backoff: { initialMs: 200, maxMs: 5_000 }, ...opts };
    this.streaming = opts.streamingList ?? true;
  }

  /** on registers a handler for changes. */
  on(handler: Handler<T>): void {
    this.handlers.push(handler);
  }

  /** onCache registers a listener for every change of the cache (see CacheListener). */
  onCache(listener: CacheListener<T>): void {
    this.cacheListeners.push(listener);
  }

  private scopes(): (string | undefined)[] {
    return this.opts.namespaces?.length ? this.opts.namespaces : [undefined];
  }

  /** start begins listing and watching; it returns at once. */
  start(): void {
    this.abort = new AbortController();
    this.loops = this.scopes().map((ns) => this.run(ns));
  }

  /** stop ends every watch and waits for the loops to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  /** hasSynced tells whether every scope has completed its first list. */
  hasSynced(): boolean {
    return this.synced.size === this.scopes().length;
  }

  /** waitForSync resolves once every scope has completed its first list. */
  waitForSync(): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((res) => this.syncWaiters.push(res));
  }

  /** get returns the cached object, if any. */
  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  /** put caches obj under key and tells the cache listeners. */
  private put(key: string, obj: T): void {
    const before = this.store.get(key);
    this.store.set(key, obj);
    for (const l of this.cacheListeners) l(before, obj);
  }

  /** remove drops key from the cache and tells the cache listeners. */
  private remove(key: string): void {
    const before = this.store.get(key);
    this.store.delete(key);
    if (before) for (const l of this.cacheListeners) l(before, undefined);
  }

  /** list returns the cached objects, of one namespace or all. */
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /**
   * upsert puts an object the caller just wrote (or read from the API server) into the cache, so
   * its next get() is not behind its own write. It tells no handler and hides no event: handlers
   * still see every change the watch delivers, compared with the watch's previous copy. A copy
   * older than the cached one is ignored, and the watch's copies replace it only once they are at
   * least as new (resourceVersions compare as integers: KEP-5504, GA in Kubernetes 1.35).
   */
  upsert(obj: T): void {
    const key = keyOf(obj);
    const cached = this.store.get(key);
    if (cached && isOlder(obj, cached)) return;
    this.put(key, slim(obj));
  }

  private emit(type: EventType, obj: T, old: T | undefined): void {
    for (const h of this.handlers) h(type, obj, old);
  }

  /**
   * apply records one listed or watched copy and tells the handlers, comparing it with the previous
   * watched copy (never with an upserted one, which would make a real change look like none: the
   * reply of a status write carries the spec a reporter patched a moment before).
   */
  private apply(type: EventType, listed: T): void {
    const obj = slim(listed);
    const key = keyOf(obj);
    const old = this.watched.get(key);
    if (type === "DELETED") {
      this.remove(key);
      this.watched.delete(key);
      this.emit(type, obj, old);
      return;
    }
    this.watched.set(key, obj);
    const cached = this.store.get(key);
    if (!cached || !isOlder(obj, cached)) this.put(key, obj);
    // A relist repeating the version already seen is no news.
    if (old?.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.emit(old ? "MODIFIED" : "ADDED", obj, old);
  }

  private inScope(obj: T, namespace: string | undefined): boolean {
    return namespace === undefined || obj.metadata?.namespace === namespace;
  }

  /** relist replaces the cache of a scope with a fresh list and returns its resourceVersion. */
  private async relist(namespace: string | undefined): Promise<string> {
    const { client, apiVersion, plural, labelSelector, fieldSelector } = this.opts;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await client.get<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        paths.collection(apiVersion, plural, namespace),
        {
          query: { labelSelector, fieldSelector, limit: 500, continue: cont },
          signal: this.abort.signal,
          timeoutMs: 60_000,
        },
      );
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(keyOf(item));
      this.apply("ADDED", item);
    }
    this.listed(namespace, seen);
    return rv;
  }

  /** listed ends a list of a scope: objects it did not name are gone; the scope has synced. */
  private listed(namespace: string | undefined, seen: Set<string>): void {
    for (const [key, obj] of [...this.store]) {
      if (this.inScope(obj, namespace) && !seen.has(key)) this.apply("DELETED", obj);
    }
    this.synced.add(namespace ?? "");
    if (this.hasSynced()) for (const w of this.syncWaiters.splice(0)) w();
  }

  /**
   * streamList lists a scope with a streaming list (watch with sendInitialEvents) and goes on
   * watching on the same stream; cursor.rv is where a new watch resumes, set once the list is in.
   * The first list of a scope fills the cache as the objects arrive (their handlers run as each
   * comes; the scope has synced at the bookmark); a later one (after 410 Gone) is applied whole at
   * its end, so the cache never mixes two lists.
   */
  private async streamList(namespace: string | undefined, cursor: { rv?: string }): Promise<void> {
    const { plural } = this.opts;
    const first = !this.synced.has(namespace ?? "");
    const stream = this.openWatch(namespace, {
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
    });
    const seen = new Set<string>();
    const later: T[] = [];
    let inList = true;
    for await (const line of stream) {
      if (!line) continue;
      const ev = parseEvent<T>(line, plural);
      if (inList) {
        if (ev.type === "BOOKMARK") {
          if (ev.object.metadata?.annotations?.[INITIAL_EVENTS_END] !== "true") continue;
          for (const obj of later) this.apply("ADDED", obj);
          this.listed(namespace, seen);
          inList = false;
          cursor.rv = ev.object.metadata?.resourceVersion;
          continue;
        }
        seen.add(keyOf(ev.object));
        if (first) this.apply("ADDED", ev.object);
        else later.push(ev.object);
        continue;
      }
      cursor.rv = ev.object.metadata?.resourceVersion ?? cursor.rv;
      if (ev.type !== "BOOKMARK") this.apply(ev.type, ev.object);
    }
    if (inList) throw new Error(`list ${plural}: the stream ended before the end of the list`);
  }

  /** openWatch opens a watch of a scope (with bookmarks, ended by the server after 5 to 10 minutes). */
  private openWatch(
    namespace: string | undefined,
    from: { resourceVersion: string } | { sendInitialEvents: true; resourceVersionMatch: "NotOlderThan" },
  ): AsyncGenerator<string> {
    const { client, apiVersion, plural, labelSelector, fieldSelector, idleTimeoutMs } = this.opts;
    return client.lines(paths.collection(apiVersion, plural, namespace), {
      query: {
        watch: true,
        ...from,
        allowWatchBookmarks: true,
        labelSelector,
        fieldSelector,
        timeoutSeconds: 300 + Math.floor(Math.random() * 300),
      },
      signal: this.abort.signal,
      idleTimeoutMs,
    });
  }

  /** watch follows changes from rv until the stream ends; it returns the last resourceVersion seen. */
  private async watch(namespace: string | undefined, rv: string): Promise<string> {
    const { plural } = this.opts;
    const stream = this.openWatch(namespace, { resourceVersion: rv });
    for await (const line of stream) {
      if (!line) continue;
      const ev = parseEvent<T>(line, plural);
      rv = ev.object.metadata?.resourceVersion ?? rv;
      if (ev.type !== "BOOKMARK") this.apply(ev.type, ev.object);
    }
    return rv;
  }

  private async run(namespace: string | undefined): Promise<void> {
    const { log, backoff } = this.opts;
    const scope = namespace ?? "(all namespaces)";
    let rv: string | undefined;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      const cursor: { rv?: string } = {};
      try {
        if (rv === undefined && this.streaming) {
          await this.streamList(namespace, cursor);
          rv = cursor.rv;
        } else {
          if (rv === undefined) rv = await this.relist(namespace);
          rv = await this.watch(namespace, rv);
        }
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        // A list that got to its end resumes watching from there, not with a new list.
        rv ??= cursor.rv;
        if (rv === undefined && this.streaming && refusesStreamingList(err)) {
          this.streaming = false;
          log.info("the API server refuses streaming lists: listing in pages", {
            resource: this.opts.plural,
            error: (err as Error).message,
          });
          continue;
        }
        this.opts.onWatchError?.(err);
        if (err instanceof GoneError) {
          log.info("watch expired (410 Gone): relisting", { resource: this.opts.plural, namespace: scope });
          rv = undefined;
          continue;
        }
        const delay = backoffMs(failures++, backoff.initialMs, backoff.maxMs);
        log.warn("list/watch failed; retrying", {
          resource: this.opts.plural,
          namespace: scope,
          error: (err as Error).message,
          retryInMs: delay,
        });
        // After repeated failures the cache may have missed deletions: relist.
        if (failures > 3) rv = undefined;
        await sleep(delay, this.abort.signal);
      }
    }
  }
}

/** INITIAL_EVENTS_END marks the bookmark that ends a streaming list's objects. */
const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/** parseEvent reads one line of a watch; an ERROR event throws (410 as GoneError). */
function parseEvent<T extends KubeObject>(
  line: string,
  plural: string,
): { type: EventType | "BOOKMARK"; object: T } {
  const ev = JSON.parse(line) as WatchEvent<T>;
  if (ev.type === "ERROR") {
    if (ev.object.code === 410) throw new GoneError(410, `watch ${plural}: ${ev.object.message ?? "Gone"}`);
    throw new Error(`watch ${plural}: ${ev.object.message ?? "error event"}`);
  }
  return { type: ev.type, object: ev.object };
}

/**
 * refusesStreamingList tells whether a failed streaming list says the server will not do one (the
 * WatchList feature gate off answers 422 Invalid; 400 and 403 the same way: a watch this caller
 * may not do, where a plain list may work), as opposed to a failure worth retrying.
 */
function refusesStreamingList(err: unknown): boolean {
  return err instanceof ApiError && [400, 403, 422].includes(err.statusCode);
}

/**
 * compareResourceVersions orders two resourceVersions of one resource: -1, 0 or 1, or undefined
 * when either is not the positive integer without leading zeros that KEP-5504 guarantees (then
 * the two cannot be ordered, and callers fall back to trusting the watch).
 */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  const valid = (v: string | undefined): v is string => v !== undefined && /^[1-9][0-9]*$/.test(v);
  if (!valid(a) || !valid(b)) return undefined;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** isOlder tells whether obj is known to be an older version than cached. */
function isOlder(obj: KubeObject, cached: KubeObject): boolean {
  return compareResourceVersions(obj.metadata?.resourceVersion, cached.metadata?.resourceVersion) === -1;
}

/**
 * slim drops metadata.managedFields, which the operator never reads and which can be a good part of
 * a small object (controller-runtime's caches strip them too). A status PUT built from the slim copy
 * leaves the server's managedFields as they are: an update without the field keeps them.
 */
function slim<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as (KubeObject["metadata"] & { managedFields?: unknown }) | undefined;
  if (!meta || meta.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...obj, metadata: rest };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(res, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        res();
      },
      { once: true },
    );
  });
}
