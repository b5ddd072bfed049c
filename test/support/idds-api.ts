/**
 * The iDDS API server as a real process (`node src/cli/main.ts api`) with a self-signed serving
 * certificate, the real idds-client from the pinned virtualenv (hack/idds-venv), and raw HTTPS
 * calls for what the client hides (headers, the json_outputs envelope). Used by the integration
 * tests and bench/idds-api.ts.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, repoRoot } from "./controlplane.ts";
import { iddsVenvPython } from "./idds-venv.ts";
import { spawnCli } from "./operator.ts";

/** ApiProcess is one running `hpo-operator api`. */
export interface ApiProcess {
  child: ChildProcess;
  port: number;
  /** host is what an idds-client is given: https://127.0.0.1:PORT/idds. */
  host: string;
  /** ca is the PEM of the self-signed serving certificate. */
  ca: string;
  logs(): string;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** selfSignedCert writes a certificate and key for 127.0.0.1/localhost into a new folder. */
export function selfSignedCert(): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "hpo-api-tls-"));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return { certFile, keyFile };
}

/** startApiProcess starts the API server and waits until it is ready (its request cache filled). */
export async function startApiProcess(opts: {
  kubeconfig: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<ApiProcess> {
  const port = await freePort();
  const tls = selfSignedCert();
  const cli = spawnCli(
    [
      "api",
      `--kubeconfig=${opts.kubeconfig}`,
      `--bind-address=127.0.0.1:${port}`,
      `--tls-cert-file=${tls.certFile}`,
      `--tls-private-key-file=${tls.keyFile}`,
      ...(opts.args ?? []),
    ],
    opts.env,
  );
  const { child } = cli;
  const ca = readFileSync(tls.certFile, "utf8");
  const api: ApiProcess = {
    child,
    port,
    host: `https://127.0.0.1:${port}/idds`,
    ca,
    logs: cli.logs,
    kill: (signal = "SIGTERM") => cli.kill(signal),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`hpo-operator api exited (${child.exitCode}):\n${cli.logs()}`);
    const r = await httpsCall(api, "GET", "/readyz").catch(() => undefined);
    if (r?.status === 200) return api;
    if (Date.now() > deadline) throw new Error(`hpo-operator api did not become ready:\n${cli.logs()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** HttpsResult is a raw answer. */
export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** httpsCall makes one HTTPS call to the server (path from the root), trusting its certificate. */
export function httpsCall(
  api: Pick<ApiProcess, "port" | "ca">,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: api.port, method, path, headers, ca: api.ca, servername: "localhost" },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** ClientOutcome is what one idds-client call returned, or the exception it raised. */
export type ClientOutcome = { result: unknown } | { exception: string; message: string };

/** ClientAuth is how the Python client authenticates: a token (oidc), or an X.509 proxy file. */
export type ClientAuth = { token: string } | { proxy: string };

/**
 * iddsClient runs calls with the real idds-client (test/fixtures/idds_client.py): each call is
 * [method, kwargs]; the answers come back in order. Asynchronous, so that servers in this process
 * (a recording proxy) keep serving while Python runs.
 */
export async function iddsClient(
  host: string,
  auth: ClientAuth,
  calls: [string, Record<string, unknown>][],
): Promise<ClientOutcome[]> {
  const file = join(mkdtempSync(join(tmpdir(), "idds-calls-")), "calls.json");
  writeFileSync(file, JSON.stringify({ host, auth, calls }));
  const child = spawn(iddsVenvPython(), [join(repoRoot, "test/fixtures/idds_client.py"), file], {
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`idds_client.py failed (${code}): ${err}`);
  return JSON.parse(out) as ClientOutcome[];
}
