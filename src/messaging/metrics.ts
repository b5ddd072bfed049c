/**
 * Messaging metrics, registered in the operator's registry (src/runtime/metrics.ts makes it):
 * messages confirmed and failed by type, the unconfirmed backlog, and whether a broker is connected.
 */
import { Counter, Gauge, type Registry } from "prom-client";

/** MessagingMetrics is what the announcer and the publisher report. */
export interface MessagingMetrics {
  sent(msgType: string): void;
  failed(msgType: string): void;
  /** backlog records a request's unconfirmed batches (undefined forgets the request). */
  backlog(key: string, batches: number | undefined): void;
  connected(up: boolean): void;
}

/** createMessagingMetrics registers the hpo_messages_* and hpo_broker_connected metrics in registry. */
export function createMessagingMetrics(registry: Registry): MessagingMetrics {
  const registers = [registry];
  const sent = new Counter({
    name: "hpo_messages_sent_total",
    help: "Messages the broker confirmed (receipt), per msg_type.",
    labelNames: ["msg_type"] as const,
    registers,
  });
  const failed = new Counter({
    name: "hpo_messages_failed_total",
    help: "Messages that could not be delivered (retried later), per msg_type.",
    labelNames: ["msg_type"] as const,
    registers,
  });
  const byKey = new Map<string, number>();
  new Gauge({
    name: "hpo_messages_unconfirmed",
    help: "Stored batches of points not yet confirmed by the broker, over all requests.",
    registers,
    collect() {
      this.set([...byKey.values()].reduce((a, b) => a + b, 0));
    },
  });
  const connected = new Gauge({
    name: "hpo_broker_connected",
    help: "1 while a broker connection is up, 0 otherwise.",
    registers,
  });
  connected.set(0);
  return {
    sent: (t) => sent.inc({ msg_type: t }),
    failed: (t) => failed.inc({ msg_type: t }),
    backlog: (key, n) => {
      if (n === undefined || n === 0) byKey.delete(key);
      else byKey.set(key, n);
    },
    connected: (up) => connected.set(up ? 1 : 0),
  };
}
