/**
 * The STOMP client comparison behind docs/messaging.md ("The STOMP client, and why"): @stomp/stompjs
 * (over @stomp/tcp-wrapper, as the operator uses it) against stompit, on real ActiveMQ brokers from
 * test/support/activemq.ts. stompit is not a dependency: it is installed into the cache folder.
 *
 *   node bench/stomp-clients.ts
 *
 * For each client: receipt latency, a send after 10 s idle on 1 s heart-beats, recovery (first send
 * confirmed) after the connected broker stops, after it freezes (SIGSTOP), after both were down for
 * 5 s, how a send behaves while no broker is up, and what a wrong password reports.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { Client } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import { type Broker, startBroker } from "../test/support/activemq.ts";

/** Probe is one client under test: connect over brokers (in order), send with a receipt, close. */
interface Probe {
  send(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

type Maker = (
  ports: number[],
  login?: { login: string; passcode: string },
  onError?: (e: string) => void,
) => Promise<Probe>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTimeout(ms: number, run: (done: (e?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no receipt within ${ms} ms`)), ms);
    run((e) => {
      clearTimeout(t);
      e ? reject(e) : resolve();
    });
  });
}

const stompjs: Maker = async (ports, login, onError) => {
  let i = 0;
  let seq = 0;
  const c = new Client({
    webSocketFactory: () => new TCPWrapper("127.0.0.1", ports[i++ % ports.length] as number),
    connectHeaders: { host: "/", ...login },
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    discardWebsocketOnCommFailure: true,
    reconnectDelay: 200,
    onStompError: (f) => onError?.(String(f.headers.message)),
  });
  c.activate();
  if (!login) while (!c.connected) await sleep(10);
  return {
    send: (ms) =>
      withTimeout(ms, (done) => {
        const receipt = `r${++seq}`;
        c.watchForReceipt(receipt, () => done());
        try {
          c.publish({ destination: "/queue/bench", body: "x", headers: { receipt, persistent: "true" } });
        } catch (e) {
          done(e as Error);
        }
      }),
    close: () => c.deactivate({ force: true }),
  };
};

function loadStompit(): Stompit {
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "hpo-operator", "stompit");
  if (!existsSync(join(dir, "node_modules/stompit"))) {
    mkdirSync(dir, { recursive: true });
    execFileSync("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "stompit@1.0.0"], {
      stdio: "inherit",
    });
  }
  return createRequire(join(dir, "index.js"))("stompit");
}

/** Stompit is the part of stompit's (untyped) API used here. */
interface Stompit {
  ConnectFailover: new (
    servers: unknown[],
    options: unknown,
  ) => { on(ev: "error", cb: (e: Error) => void): void };
  ChannelPool: new (failover: unknown, options: unknown) => StompitPool;
}
interface StompitChannel {
  send(headers: Record<string, string>, body: string, cb: (e?: Error) => void): void;
}
interface StompitPool {
  channel(cb: (e: Error | null, ch: StompitChannel) => void): void;
  close?(): void;
}

const stompit: Maker = async (ports, login, onError) => {
  const lib = loadStompit();
  const servers = ports.map((port) => ({
    host: "127.0.0.1",
    port,
    connectHeaders: { host: "/", "heart-beat": "1000,1000", ...login },
  }));
  const failover = new lib.ConnectFailover(servers, {
    initialReconnectDelay: 100,
    maxReconnectDelay: 1000,
    useExponentialBackOff: false,
    maxReconnects: login ? 2 : -1,
    randomize: false,
  });
  failover.on("error", (e: Error) => onError?.(e.message));
  const pool = new lib.ChannelPool(failover, { minChannels: 1 });
  const channel = await new Promise<StompitChannel>((res, rej) =>
    pool.channel((e, ch) => (e ? rej(e) : res(ch))),
  );
  return {
    send: (ms) =>
      withTimeout(ms, (done) =>
        channel.send({ destination: "/queue/bench", persistent: "true" }, "x", (e?: Error) => done(e)),
      ),
    close: async () => pool.close?.(),
  };
};

/** recovery sends every 100 ms (1 s receipt timeout each) until one is confirmed; ms since t0. */
async function recovery(p: Probe, t0: number, limitMs = 30_000): Promise<string> {
  while (Date.now() - t0 < limitMs) {
    if (
      await p.send(1000).then(
        () => true,
        () => false,
      )
    )
      return `${Date.now() - t0} ms`;
    await sleep(100);
  }
  return `none within ${limitMs} ms`;
}

async function measure(
  name: string,
  make: Maker,
  a: Broker,
  b: Broker,
  auth: Broker,
): Promise<Record<string, string>> {
  const r: Record<string, string> = { client: name };
  const p = await make([a.port, b.port]);
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await p.send(5000);
    lat.push(performance.now() - s);
  }
  lat.sort((x, y) => x - y);
  r.receipt = `p50 ${lat[100]?.toFixed(1)} ms, p99 ${lat[198]?.toFixed(1)} ms`;
  await sleep(10_000);
  r.idle = await p.send(2000).then(
    () => "ok",
    (e) => e.message,
  );
  await a.stop();
  r.stopped = await recovery(p, Date.now());
  await a.start();
  b.freeze();
  r.frozen = await recovery(p, Date.now());
  b.thaw();
  await Promise.all([a.stop(), b.stop()]);
  const t = Date.now();
  r.down = await p.send(3000).then(
    () => "confirmed?",
    (e) => `${Date.now() - t} ms: ${e.message}`,
  );
  await sleep(5000);
  await a.start();
  r.restarted = await recovery(p, Date.now());
  await b.start();
  await p.close();
  let refused = "(nothing reported within 3 s)";
  const bad = await make([auth.port], { login: "hpo", passcode: "wrong" }, (e) => {
    refused = e;
  }).catch((e: Error) => {
    refused = e.message;
    return undefined;
  });
  await sleep(3000);
  await bad?.close();
  r.refused = refused;
  return r;
}

const [a, b, auth] = await Promise.all([
  startBroker(),
  startBroker(),
  startBroker({ users: [{ username: "hpo", password: "right" }] }),
]);
try {
  const rows = [
    await measure("@stomp/stompjs + tcp-wrapper", stompjs, a, b, auth),
    await measure("stompit", stompit, a, b, auth),
  ];
  const keys = Object.keys(rows[0] ?? {});
  console.log(`| ${keys.join(" | ")} |\n|${keys.map(() => " --- ").join("|")}|`);
  for (const row of rows) console.log(`| ${keys.map((k) => row[k]).join(" | ")} |`);
} finally {
  await Promise.all([a.destroy(), b.destroy(), auth.destroy()]);
  process.exit(0);
}
