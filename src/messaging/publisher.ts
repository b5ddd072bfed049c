/**
 * StompPublisher sends messages to ActiveMQ over STOMP (@stomp/stompjs on a TCP or TLS socket via
 * @stomp/tcp-wrapper) and resolves each send only when the broker's RECEIPT arrives. One connection,
 * failover over a randomised broker list, heart-beats that discard a silent connection (a frozen
 * broker never answers the close), and typed errors. It never queues: a send without a connection
 * fails at once, so the announcer decides when to retry.
 */
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { Client, type IFrame, ReconnectionTimeMode } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import type { Logger } from "../runtime/log.ts";
import {
  BrokerRefusedError,
  BrokerUnavailableError,
  PublisherClosedError,
  ReceiptTimeoutError,
  SendRejectedError,
} from "./errors.ts";
import type { Outgoing } from "./messages.ts";
import {
  type BrokerAddress,
  type BrokerSettings,
  credentialsOf,
  formatAddress,
  shuffled,
} from "./settings.ts";

/** Publisher sends a message and resolves when the broker has confirmed it. */
export interface Publisher {
  readonly connected: boolean;
  send(msg: Outgoing): Promise<void>;
}

/** PublisherLog is the logging the publisher needs. */
export type PublisherLog = Pick<Logger, "info" | "warn" | "debug">;

/** PublisherOptions are the publisher's collaborators. */
export interface PublisherOptions {
  log: PublisherLog;
  /** onConnection is told each time the connection comes up (true) or goes down (false). */
  onConnection?: (up: boolean) => void;
  random?: () => number;
  /** reconnect delays: the first, doubling up to the max (default 500 ms to 5 s). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

/** TlsWrapper is the TCP wrapper over a TLS socket (system CAs, plus NODE_EXTRA_CA_CERTS). */
class TlsWrapper extends TCPWrapper {
  protected override getSocket(port: number, host: string) {
    // SNI takes names only; an IP address is checked against the certificate's IP entries.
    return tlsConnect({ port, host, ...(isIP(host) ? {} : { servername: host }) });
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** StompPublisher is the STOMP implementation of Publisher. */
export class StompPublisher implements Publisher {
  private readonly s: BrokerSettings;
  private readonly o: PublisherOptions;
  private readonly order: BrokerAddress[];
  private readonly waiters = new Map<string, Waiter>();
  private readonly client: Client;
  private next = 0;
  private seq = 0;
  private up = false;
  private closed = false;
  private current = "";
  private lastProblem: Error | undefined;

  constructor(settings: BrokerSettings, options: PublisherOptions) {
    this.s = settings;
    this.o = options;
    this.order = shuffled(settings.brokers, options.random);
    this.client = new Client({
      webSocketFactory: () => this.socket(),
      beforeConnect: (c) => {
        const { login, passcode } = credentialsOf(this.s);
        c.connectHeaders = { host: "/", ...(login ? { login } : {}), ...(passcode ? { passcode } : {}) };
      },
      heartbeatIncoming: settings.heartbeatMs,
      heartbeatOutgoing: settings.heartbeatMs,
      discardWebsocketOnCommFailure: true,
      connectionTimeout: Math.max(5_000, settings.heartbeatMs * 2),
      reconnectDelay: options.reconnectDelayMs ?? 500,
      maxReconnectDelay: options.maxReconnectDelayMs ?? 5_000,
      reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
      onConnect: () => this.connectedNow(),
      onStompError: (f) => this.errorFrame(f),
      onWebSocketClose: () => this.closedNow(),
      onWebSocketError: (e: unknown) => {
        const msg = (e as { message?: unknown })?.message;
        this.lastProblem = new BrokerUnavailableError(
          `${this.current}: ${String(msg instanceof Error ? msg.message : msg)}`,
        );
      },
    });
  }

  /** connected tells whether a broker connection is up. */
  get connected(): boolean {
    return this.up;
  }

  /** broker is the broker of the current (or latest) connection, host:port. */
  get broker(): string {
    return this.current;
  }

  /** start connects in the background and keeps reconnecting until stop. */
  start(): void {
    this.client.activate();
  }

  /** stop fails the sends still waiting and closes the connection. */
  async stop(): Promise<void> {
    this.closed = true;
    this.failAll(new PublisherClosedError("the operator is shutting down"));
    await this.client.deactivate({ force: true });
  }

  /** send publishes msg persistently and resolves when the broker's receipt arrives. */
  send(msg: Outgoing): Promise<void> {
    if (this.closed) return Promise.reject(new PublisherClosedError("the publisher is stopped"));
    if (!this.up) return Promise.reject(this.notConnected());
    const receipt = `hpo-${process.pid}-${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(receipt);
        reject(
          new ReceiptTimeoutError(`no receipt from ${this.current} within ${this.s.receiptTimeoutMs} ms`),
        );
      }, this.s.receiptTimeoutMs);
      this.waiters.set(receipt, { resolve, reject, timer });
      this.client.watchForReceipt(receipt, () => this.settle(receipt));
      try {
        this.client.publish({
          destination: msg.destination,
          body: msg.body,
          headers: { ...msg.headers, receipt },
        });
      } catch (e) {
        this.settle(
          receipt,
          new BrokerUnavailableError(`cannot send to ${this.current}: ${(e as Error).message}`),
        );
      }
    });
  }

  private socket(): TCPWrapper {
    const b = this.order[this.next++ % this.order.length] as BrokerAddress;
    this.current = formatAddress(b);
    this.o.log.debug("connecting to a broker", { broker: this.current, tls: this.s.tls });
    return this.s.tls ? new TlsWrapper(b.host, b.port) : new TCPWrapper(b.host, b.port);
  }

  private notConnected(): Error {
    const brokers = this.order.map(formatAddress).join(", ");
    if (this.lastProblem instanceof BrokerRefusedError) return this.lastProblem;
    const why = this.lastProblem ? ` (last: ${this.lastProblem.message})` : "";
    return new BrokerUnavailableError(`not connected to any broker of ${brokers}${why}`);
  }

  private connectedNow(): void {
    this.up = true;
    this.lastProblem = undefined;
    this.o.log.info("connected to the broker", { broker: this.current });
    this.o.onConnection?.(true);
  }

  private closedNow(): void {
    const was = this.up;
    this.up = false;
    this.failAll(new BrokerUnavailableError(`connection to ${this.current} lost before the receipt`));
    if (was) {
      if (!this.closed) this.o.log.warn("lost the broker connection; reconnecting", { broker: this.current });
      this.o.onConnection?.(false);
    }
  }

  private errorFrame(f: IFrame): void {
    const text = [f.headers.message, f.body].filter(Boolean).join(": ").slice(0, 500);
    const receipt = f.headers["receipt-id"];
    if (receipt && this.waiters.has(receipt)) {
      this.settle(receipt, new SendRejectedError(`${this.current} refused the message: ${text}`));
      return;
    }
    if (!this.up) {
      this.lastProblem = new BrokerRefusedError(`${this.current} refused the connection: ${text}`);
      this.o.log.warn("the broker refused the connection", { broker: this.current, error: text });
      return;
    }
    this.failAll(new SendRejectedError(`${this.current} reported an error: ${text}`));
  }

  private settle(receipt: string, err?: Error): void {
    const w = this.waiters.get(receipt);
    if (!w) return;
    this.waiters.delete(receipt);
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }

  private failAll(err: Error): void {
    for (const id of [...this.waiters.keys()]) this.settle(id, err);
  }
}
