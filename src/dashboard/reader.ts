/**
 * DashboardReader is how the dashboard reads the cluster: through the project's client (HpoClient,
 * which routes across a request's sharded HyperParameterSets) and list/watch caches (the runtime's
 * Informer, which resumes dropped watches and relists after 410 Gone), all with one KubeClient's
 * credentials: the user's own kubeconfig for `kubectl hpo dashboard`, the API server's service
 * account in the cluster (where the handler's authorise hook checks each reader).
 */
import { HpoClient } from "../client/client.ts";
import type { KubeClient } from "../runtime/client.ts";
import { paths } from "../runtime/client.ts";
import { ApiError, ForbiddenError, NotFoundError } from "../runtime/errors.ts";
import { Informer, type InformerLog, type KubeObject } from "../runtime/informer.ts";

/** CacheSpec says what a Cache lists and watches. */
export interface CacheSpec {
  apiVersion: string;
  plural: string;
  /** One namespace, several, or all (undefined). */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
}

const quiet: InformerLog = { info() {}, warn() {}, debug() {} };

/**
 * Gate is a moment to wait for: open() lets every waiter on, fail(e) refuses them all, and a
 * refusal stands over an opening (a cache the API server refused is refused, whatever came before).
 */
class Gate {
  private opened = false;
  private failure: unknown;
  private waiters: { ok: () => void; fail: (e: unknown) => void }[] = [];

  open(): void {
    if (this.opened) return;
    this.opened = true;
    for (const w of this.waiters.splice(0)) w.ok();
  }

  fail(e: unknown): void {
    this.failure = e;
    for (const w of this.waiters.splice(0)) w.fail(e);
  }

  wait(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.opened) return Promise.resolve();
    return new Promise((ok, fail) => this.waiters.push({ ok, fail }));
  }
}

/**
 * Cache is a started Informer that also tells whether its first list worked: ready() resolves
 * once it has synced and rejects when the API server refuses the list (403, 404, 401), so a page
 * can say "not allowed" instead of waiting for a watch that will never start.
 */
export class Cache<T extends KubeObject> {
  readonly informer: Informer<T>;
  /** synced: the first list is in; first: it has brought its first object (or ended empty). */
  private readonly synced = new Gate();
  private readonly first = new Gate();

  constructor(kube: KubeClient, spec: CacheSpec, log: InformerLog = quiet) {
    this.informer = new Informer<T>({
      client: kube,
      ...spec,
      log,
      onWatchError: (e) => this.failed(e),
    });
    this.informer.onCache(() => this.first.open());
    void this.informer.waitForSync().then(() => {
      this.first.open();
      this.synced.open();
    });
  }

  private failed(e: unknown): void {
    if (this.informer.hasSynced()) return;
    const refused =
      e instanceof ForbiddenError ||
      e instanceof NotFoundError ||
      (e instanceof ApiError && e.statusCode === 401);
    if (!refused) return;
    void this.informer.stop();
    this.synced.fail(e);
    this.first.fail(e);
  }

  /** start begins listing and watching. */
  start(): this {
    this.informer.start();
    return this;
  }

  /** ready resolves once the first list is in, or rejects with the API server's refusal. */
  ready(): Promise<void> {
    return this.synced.wait();
  }

  /**
   * begun resolves once the first list has brought its first object (or ended empty), or rejects
   * with the API server's refusal: from then on a page can show what has come, as it comes.
   */
  begun(): Promise<void> {
    return this.first.wait();
  }

  /** stop ends the watches. */
  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/** DashboardReader reads requests, their sets, Jobs, pods and Events for the dashboard. */
export class DashboardReader {
  readonly kube: KubeClient;
  /** hpo is the project's client of requests (with its errors that say what to fix). */
  readonly hpo: HpoClient;
  private readonly log: InformerLog;

  constructor(kube: KubeClient, log: InformerLog = quiet) {
    this.kube = kube;
    this.hpo = new HpoClient({ kube });
    this.log = log;
  }

  /** cache makes a started list/watch cache. */
  cache<T extends KubeObject>(spec: CacheSpec): Cache<T> {
    return new Cache<T>(this.kube, spec, this.log).start();
  }

  /**
   * readableNamespaces is where the reader may list HPORequests: undefined for every namespace (a
   * cluster-wide list is allowed), else the namespaces whose list is allowed (each one tried), else
   * the fallback namespace (the kubeconfig context's) alone.
   */
  async readableNamespaces(fallback: string[]): Promise<string[] | undefined> {
    const api = "hpo.dev/v1alpha1";
    const allowed = (ns?: string) =>
      this.kube
        .get(paths.collection(api, "hporequests", ns), { query: { limit: 1 } })
        .then(() => true)
        .catch((e) => {
          if (e instanceof ForbiddenError) return false;
          throw e;
        });
    if (await allowed()) return undefined;
    let names: string[];
    try {
      const list = await this.kube.get<{ items: { metadata: { name: string } }[] }>("/api/v1/namespaces");
      names = list.items.map((n) => n.metadata.name);
    } catch (e) {
      if (e instanceof ForbiddenError) return fallback;
      throw e;
    }
    const ok: string[] = [];
    for (const ns of names) if (await allowed(ns)) ok.push(ns);
    return ok.length > 0 ? ok : fallback;
  }

  /** close releases the client's connections. */
  close(): void {
    this.kube.close();
  }
}
