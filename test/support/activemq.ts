/**
 * A real ActiveMQ Classic broker for tests: Debian's `activemq` package (installed when missing),
 * one instance per call in a folder of its own, with a STOMP connector on a free 127.0.0.1 port.
 * It can be stopped and started again on the same port (outage tests) and is always torn down,
 * even when a test fails or the test process exits.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./controlplane.ts";

/** launcher is the Debian package's start script. */
const launcher = "/usr/bin/activemq";
const home = "/usr/share/activemq";

/** BrokerUser is a login the broker accepts (no users: anyone may connect). */
export interface BrokerUser {
  username: string;
  password: string;
}

/** StartBrokerOptions tune startBroker. */
export interface StartBrokerOptions {
  /** users switch authentication on: only these logins may connect. */
  users?: BrokerUser[];
  /** tls adds a stomp+ssl connector with a fresh self-signed certificate for 127.0.0.1 (see caFile). */
  tls?: boolean;
  /** readyTimeoutMs bounds the wait for the STOMP port (default 60 s). */
  readyTimeoutMs?: number;
}

/** Broker is one running (or stopped) ActiveMQ instance. */
export interface Broker {
  /** port of the STOMP connector on 127.0.0.1; the same after a restart. */
  readonly port: number;
  /** address is "127.0.0.1:port", as HPO_BROKERS takes it. */
  readonly address: string;
  /** tlsAddress is "127.0.0.1:port" of the stomp+ssl connector (tls only). */
  readonly tlsAddress?: string;
  /** caFile is the PEM certificate a TLS client must trust (tls only; for NODE_EXTRA_CA_CERTS). */
  readonly caFile?: string;
  readonly dir: string;
  /** logs returns what the broker printed so far. */
  logs(): string;
  /** stop ends the broker (SIGTERM, SIGKILL after 15 s) and waits for it. */
  stop(): Promise<void>;
  /** start brings a stopped broker back on the same port, with its stored messages. */
  start(): Promise<void>;
  /** freeze stops the broker's processes (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void;
  /** thaw resumes a frozen broker (SIGCONT). */
  thaw(): void;
  /** destroy stops the broker and removes its folder. */
  destroy(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) killGroup(c, "SIGKILL");
});

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (c.pid) process.kill(-c.pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(c: ChildProcess): boolean {
  try {
    if (c.pid) process.kill(-c.pid, 0);
    return Boolean(c.pid);
  } catch {
    return false;
  }
}

/**
 * watchdog runs the broker in a process group of its own and kills that group when the test
 * process goes away, however it ends (SIGKILL, a timeout): its stdin pipe closes, `read` returns.
 */
const watchdog = 'exec 3<&0; "$@" </dev/null 3<&- & b=$!; { read -r _ <&3; kill -9 -$$; } & wait "$b"';

/**
 * ensureActiveMQ installs Debian's activemq package (and with it Java) when /usr/bin/activemq is
 * missing. It needs root, as CI has; otherwise it fails saying what to run.
 */
export function ensureActiveMQ(): void {
  if (existsSync(launcher) && existsSync(join(home, "bin/activemq.jar"))) return;
  if (userInfo().uid !== 0) {
    throw new Error(
      "ActiveMQ is not installed (no /usr/bin/activemq) and the tests do not run as root: " +
        "install it with `sudo apt-get install -y activemq`",
    );
  }
  process.stderr.write(
    "installing Debian's activemq package for the messaging tests (apt-get install -y activemq)\n",
  );
  const apt = (...args: string[]) =>
    spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", ...args], {
      encoding: "utf8",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  let r = apt("install", "-y", "-q", "activemq");
  if (r.status !== 0) {
    apt("update", "-q");
    r = apt("install", "-y", "-q", "activemq");
  }
  if (r.status !== 0 || !existsSync(launcher)) {
    throw new Error(
      `apt-get install -y activemq failed (exit ${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout.slice(-2000)}`,
    );
  }
}

/** brokerXml is the broker's configuration: KahaDB in dir, a STOMP connector (and a TLS one), optional logins. */
export function brokerXml(dir: string, port: number, users: BrokerUser[] = [], tlsPort = 0): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  const auth = users.length
    ? `<plugins><simpleAuthenticationPlugin><users>${users
        .map(
          (u) =>
            `<authenticationUser username="${esc(u.username)}" password="${esc(u.password)}" groups="users"/>`,
        )
        .join("")}</users></simpleAuthenticationPlugin></plugins>`
    : "";
  return `<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="hpo-test-${port}"
          dataDirectory="${dir}/data" schedulerSupport="false">
    ${auth}
    <persistenceAdapter><kahaDB directory="${dir}/data/kahadb"/></persistenceAdapter>
    <systemUsage><systemUsage>
      <storeUsage><storeUsage limit="1 gb"/></storeUsage>
      <tempUsage><tempUsage limit="1 gb"/></tempUsage>
    </systemUsage></systemUsage>
    ${tlsPort ? `<sslContext><sslContext keyStore="file:${dir}/conf/broker.p12" keyStorePassword="${keyPass}" keyStoreType="PKCS12"/></sslContext>` : ""}
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:${port}"/>
      ${tlsPort ? `<transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:${tlsPort}"/>` : ""}
    </transportConnectors>
  </broker>
</beans>
`;
}

const keyPass = "hpo-test";

/** makeCertificate writes a self-signed key store for 127.0.0.1 and its certificate as PEM (Java's keytool). */
function makeCertificate(dir: string): string {
  const ks = join(dir, "conf/broker.p12");
  const pem = join(dir, "conf/broker.pem");
  const common = ["-alias", "broker", "-keystore", ks, "-storepass", keyPass, "-storetype", "PKCS12"];
  execFileSync(
    "keytool",
    [
      "-genkeypair",
      ...common,
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-validity",
      "2",
      "-dname",
      "CN=127.0.0.1",
      "-ext",
      "SAN=ip:127.0.0.1,dns:localhost",
      "-keypass",
      keyPass,
    ],
    { stdio: "pipe" },
  );
  execFileSync("keytool", ["-exportcert", "-rfc", ...common, "-file", pem], { stdio: "pipe" });
  return pem;
}

/** log4j settings: warnings and the broker's start/stop lines on the console, which the harness keeps. */
const log4j = `log4j.rootLogger=WARN, stdout
log4j.logger.org.apache.activemq.broker.BrokerService=INFO
log4j.logger.org.apache.activemq.broker.TransportConnector=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=%d{HH:mm:ss,SSS} %-5p %c{1} - %m%n
`;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/** startBroker starts a fresh broker and waits until its STOMP port accepts connections. */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<Broker> {
  ensureActiveMQ();
  const [port, tlsPort] = await Promise.all([freePort(), opts.tls ? freePort() : Promise.resolve(0)]);
  const dir = mkdtempSync(join(tmpdir(), "hpo-activemq-"));
  for (const sub of ["conf", "data", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
  const caFile = opts.tls ? makeCertificate(dir) : undefined;
  writeFileSync(join(dir, "conf/activemq.xml"), brokerXml(dir, port, opts.users, tlsPort));
  writeFileSync(join(dir, "conf/log4j.properties"), log4j);
  // The launcher switches to the `activemq` user unless told to stay the current one; staying
  // keeps the broker in this process group (clean teardown) and works without root too.
  execFileSync("chmod", ["-R", "a+rwX", dir]);
  let out = "";
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (await portOpen(port)) throw new Error(`port ${port} is taken; the broker cannot start`);
    const args = [launcher, "console", `xbean:file:${dir}/conf/activemq.xml`];
    const c = spawn("sh", ["-c", watchdog, "sh", ...args], {
      cwd: dir,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        ACTIVEMQ_USER: userInfo().username,
        ACTIVEMQ_HOME: home,
        ACTIVEMQ_BASE: dir,
        ACTIVEMQ_CONF: join(dir, "conf"),
        ACTIVEMQ_DATA: join(dir, "data"),
        ACTIVEMQ_TMP: join(dir, "tmp"),
        ACTIVEMQ_PIDFILE: join(dir, "activemq.pid"),
      },
    });
    child = c;
    running.add(c);
    c.stdout?.on("data", (d) => {
      out += d;
    });
    c.stderr?.on("data", (d) => {
      out += d;
    });
    c.on("exit", () => running.delete(c));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
    while (!(await portOpen(port))) {
      if (!groupAlive(c))
        throw new Error(
          `ActiveMQ exited (${c.exitCode ?? c.signalCode}) before opening port ${port}:\n${out}`,
        );
      if (Date.now() > deadline) throw new Error(`ActiveMQ did not open port ${port} in time:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || !groupAlive(c)) return;
    killGroup(c, "SIGCONT");
    killGroup(c, "SIGTERM");
    // The JVM shuts down gracefully (it outlives the wrapper shell); SIGKILL after 15 s.
    const deadline = Date.now() + 15_000;
    while (groupAlive(c) || (await portOpen(port))) {
      if (Date.now() > deadline) killGroup(c, "SIGKILL");
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    await start();
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    tlsAddress: tlsPort ? `127.0.0.1:${tlsPort}` : undefined,
    caFile,
    dir,
    logs: () => out,
    stop,
    start,
    freeze: () => {
      if (child) killGroup(child, "SIGSTOP");
    },
    thaw: () => {
      if (child) killGroup(child, "SIGCONT");
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
