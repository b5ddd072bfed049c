/**
 * A STOMP subscriber for tests: it connects to a broker (reconnecting after an outage, and
 * subscribing again each time), and records every message with its headers, in arrival order.
 */
import { Client, type IMessage } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import { waitFor } from "./hpo.ts";

/** Received is one message as a consumer sees it. */
export interface Received {
  destination: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Subscriber records what arrives on its destinations. */
export interface Subscriber {
  readonly messages: Received[];
  /** of returns the messages of one request (by the hpo_name header). */
  of(name: string): Received[];
  /** waitFor waits until pick returns a value for the messages received so far. */
  until<T>(what: string, pick: (m: Received[]) => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** subscribe connects to 127.0.0.1:port and subscribes to the destinations (client-individual acks). */
export async function subscribe(
  port: number,
  destinations: string[],
  login?: { login: string; passcode: string },
): Promise<Subscriber> {
  const messages: Received[] = [];
  let subscribed = false;
  const client = new Client({
    webSocketFactory: () => new TCPWrapper("127.0.0.1", port),
    connectHeaders: { host: "/", ...(login ?? {}) },
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    discardWebsocketOnCommFailure: true,
    reconnectDelay: 200,
    onConnect: () => {
      for (const d of destinations)
        client.subscribe(
          d,
          (m: IMessage) => {
            messages.push({ destination: d, headers: { ...m.headers }, body: JSON.parse(m.body) });
            m.ack();
          },
          { ack: "client-individual" },
        );
      subscribed = true;
    },
  });
  client.activate();
  await waitFor("the test subscriber to connect", async () => subscribed, 30_000);
  return {
    messages,
    of: (name) => messages.filter((m) => m.headers.hpo_name === name),
    until: (what, pick, timeoutMs = 60_000) =>
      waitFor(
        what,
        async () => pick(messages) as never,
        timeoutMs,
        async () => `received so far: ${JSON.stringify(messages.map((m) => m.headers.hpo_message_id))}`,
      ),
    close: () => client.deactivate({ force: true }),
  };
}
