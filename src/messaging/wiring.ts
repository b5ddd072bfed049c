/**
 * Messaging as the operator runs it: the publisher (when brokers are configured), the announcer
 * controller and their metrics, built from the operator's settings and its shared caches.
 */

import type { HPORequest, HyperParameterSet } from "../api/index.ts";
import type { Recorder } from "../controller/events.ts";
import type { SetAggregates } from "../controller/setsview.ts";
import type { KubeClient } from "../runtime/client.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { Announcer } from "./announcer.ts";
import { createMessagingMetrics } from "./metrics.ts";
import { StompPublisher } from "./publisher.ts";
import { type BrokerSettings, formatAddress } from "./settings.ts";

/** MessagingDeps are what the operator hands to messaging. */
export interface MessagingDeps {
  settings: BrokerSettings;
  client: KubeClient;
  requests: Informer<HPORequest>;
  sets: Informer<HyperParameterSet>;
  /** aggregates are the sets' per-request views (the announcer reads only the sets it has not announced). */
  aggregates: SetAggregates;
  recorder: Recorder;
  metrics: Metrics;
  log: Logger;
  /** resyncMs: every request is looked at again at least this often. */
  resyncMs: number;
}

/** Messaging is the running messaging part of the operator. */
export interface Messaging {
  announcer: Announcer;
  /** start connects to the brokers and starts announcing (call it when leading). */
  start(): void;
  stop(): Promise<void>;
}

/** createMessaging builds the publisher and the announcer; nothing connects before start(). */
export function createMessaging(d: MessagingDeps): Messaging {
  const log = d.log.child({ component: "messaging" });
  const mmetrics = createMessagingMetrics(d.metrics.registry);
  let announcer: Announcer | undefined;
  const publisher = d.settings.brokers.length
    ? new StompPublisher(d.settings, {
        log,
        onConnection: (up) => {
          mmetrics.connected(up);
          if (up) announcer?.enqueueAll();
        },
      })
    : undefined;
  announcer = new Announcer({
    client: d.client,
    requests: d.requests,
    sets: d.sets,
    aggregates: d.aggregates,
    publisher,
    recorder: d.recorder,
    metrics: mmetrics,
    runtimeMetrics: d.metrics,
    logger: d.log,
    destination: d.settings.destination,
    ttlMs: d.settings.ttlMs,
    vo: d.settings.vo,
  });
  const a = announcer;
  let resync: NodeJS.Timeout | undefined;
  return {
    announcer: a,
    start() {
      log.info(publisher ? "announcing new points on ActiveMQ" : "messaging is off: no brokers configured", {
        brokers: d.settings.brokers.map(formatAddress),
        destination: d.settings.destination,
      });
      publisher?.start();
      a.start();
      resync = setInterval(() => a.enqueueAll(), d.resyncMs);
      resync.unref();
    },
    async stop() {
      clearInterval(resync);
      await a.stop();
      await publisher?.stop();
    },
  };
}
