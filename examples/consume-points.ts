/**
 * consume-points: a runnable consumer of the points hpo-operator announces on ActiveMQ (see
 * docs/messaging.md). It prints one JSON line per new point, drops repeated messages by their
 * message_id (delivery is at-least-once), and with --until-end exits when a request ends.
 *
 *   HPO_BROKERS=mq:61613 HPO_BROKER_DESTINATION=/topic/hpo.points node examples/consume-points.ts --until-end
 *
 * Environment: HPO_BROKERS (host:port, comma-separated: tried in turn), HPO_BROKER_USERNAME,
 * HPO_BROKER_PASSWORD, HPO_BROKER_DESTINATION (default /topic/hpo.points).
 */
import { Client, type IMessage } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";

const brokers = (process.env.HPO_BROKERS ?? "127.0.0.1:61613").split(",").map((b) => b.trim());
const destination = process.env.HPO_BROKER_DESTINATION || "/topic/hpo.points";
const untilEnd = process.argv.includes("--until-end");
// At-least-once: the same message may come twice (after a broker outage or an operator restart).
// A real consumer keeps these ids where its work is recorded; a Set is enough for an example.
const seen = new Set<string>();
let next = 0;

function handle(m: IMessage): void {
  const msg = JSON.parse(m.body);
  const id: string = msg.message_id ?? m.headers.hpo_message_id;
  if (seen.has(id)) {
    m.ack();
    return;
  }
  seen.add(id);
  const request = `${msg.kubernetes?.namespace}/${msg.kubernetes?.name}`;
  if (msg.msg_type === "file_hyperparameteropt") {
    for (const f of msg.files) {
      const [params] = JSON.parse(f.path);
      console.log(JSON.stringify({ request, workload_id: msg.workload_id, id: f.name, params }));
    }
  } else if (msg.msg_type === "collection_hyperparameteropt") {
    console.log(JSON.stringify({ request, workload_id: msg.workload_id, end: msg.output.status }));
    if (untilEnd) void client.deactivate().then(() => process.exit(0));
  }
  m.ack();
}

const client = new Client({
  webSocketFactory: () => {
    const [host, port] = (brokers[next++ % brokers.length] as string).split(":");
    return new TCPWrapper(host as string, Number(port));
  },
  connectHeaders: {
    host: "/",
    ...(process.env.HPO_BROKER_USERNAME ? { login: process.env.HPO_BROKER_USERNAME } : {}),
    ...(process.env.HPO_BROKER_PASSWORD ? { passcode: process.env.HPO_BROKER_PASSWORD } : {}),
  },
  heartbeatIncoming: 10_000,
  heartbeatOutgoing: 10_000,
  discardWebsocketOnCommFailure: true,
  reconnectDelay: 1_000,
  // Subscribing in onConnect subscribes again after every reconnect.
  onConnect: () => {
    client.subscribe(destination, handle, { ack: "client-individual" });
    console.error(`listening on ${destination}`);
  },
  onStompError: (f) => console.error(`broker error: ${f.headers.message}`),
});
client.activate();
