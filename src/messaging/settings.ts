/**
 * Broker settings of the operator (flags and environment, see src/operator/config.ts): which brokers,
 * how to log in, TLS, heart-beats, the default destination and the message TTL. Pure parsing here;
 * credentials files are read when connecting, so a rotated Secret is picked up on the next connect.
 */
import { readFileSync } from "node:fs";

/** BrokerAddress is one broker's host and STOMP port. */
export interface BrokerAddress {
  host: string;
  port: number;
}

/** BrokerSettings configure messaging; no brokers means messaging is off. */
export interface BrokerSettings {
  brokers: BrokerAddress[];
  username?: string;
  usernameFile?: string;
  password?: string;
  passwordFile?: string;
  tls: boolean;
  /** heartbeatMs is the STOMP heart-beat in both directions (0 = none). */
  heartbeatMs: number;
  /** destination is where requests without spec.notification.destination are announced. */
  destination: string;
  /** ttlMs is the message time to live (0 = never expires). */
  ttlMs: number;
  /** vo is the vo header of every message, as iDDS sends it (default atlas). */
  vo?: string;
  /** receiptTimeoutMs is how long a message waits for the broker's receipt. */
  receiptTimeoutMs: number;
}

/** DefaultDestination is the destination when neither the operator nor the request names one. */
export const DefaultDestination = "/topic/hpo.points";

/** parseBrokers reads "host:port,host:port" (also "[::1]:61613" and "stomp://host:port"). */
export function parseBrokers(list: string, what: string): BrokerAddress[] {
  return list
    .split(",")
    .map((s) => s.trim().replace(/^(stomp\+ssl|stomp\+nio|stomp|ssl|tcp):\/\//, ""))
    .filter(Boolean)
    .map((s) => {
      const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(s);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535) throw new Error(`${what}: "${s}" is not host:port`);
      return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
    });
}

/** parseDestination checks a STOMP destination such as /topic/hpo.points or /queue/team-a. */
export function parseDestination(s: string, what: string): string {
  if (!/^\/(topic|queue)\/\S+$/.test(s))
    throw new Error(`${what}: "${s}" must look like /topic/NAME or /queue/NAME`);
  return s;
}

/** shuffled returns a copy in random order (failover order, so replicas spread over brokers). */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** credentialsOf returns login and passcode, reading the files when set (trailing newline dropped). */
export function credentialsOf(
  s: BrokerSettings,
  read = (f: string) => readFileSync(f, "utf8"),
): {
  login?: string;
  passcode?: string;
} {
  const login = s.usernameFile ? read(s.usernameFile).replace(/\r?\n$/, "") : s.username;
  const passcode = s.passwordFile ? read(s.passwordFile).replace(/\r?\n$/, "") : s.password;
  return { login: login || undefined, passcode: passcode || undefined };
}

/** formatAddress is host:port, with brackets around an IPv6 host. */
export function formatAddress(a: BrokerAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
