/**
 * The container image without a Docker engine: hadolint (the real linter, from PyPI) on the
 * Dockerfile; its structure (Node version, production dependencies only, non-root user matching
 * the generator Jobs' securityContext, the `hpo-operator` entrypoint); the build context that
 * .dockerignore lets through; and the image's file tree assembled as the Dockerfile does it
 * (`npm ci --omit=dev`, the COPYs, the entrypoint link) in a temp folder, where every command of
 * the entrypoint runs: --help, `run --help`, `generate`, a stage-in/generate/stage-out round trip,
 * and `run` itself against the control plane, writing nothing into the image's files.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import type { HPORequest } from "../../src/api/index.ts";
import { unframeOutput } from "../../src/jobs/frame.ts";
import { jobFor } from "../../src/jobs/manifests.ts";
import { flags } from "../../src/operator/config.ts";
import { freePort, repoRoot } from "../support/controlplane.ts";
import { waitFor } from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { hadolintBinary } from "../support/tools.ts";

/** Instruction is one Dockerfile instruction with its continuation lines joined. */
interface Instruction {
  op: string;
  args: string;
}

/** parseDockerfile splits a Dockerfile into stages of instructions (comments and blank lines dropped). */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Instruction[][] } {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!current && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue; // a comment inside a continued instruction
    if (line.endsWith("\\")) current += `${line.slice(0, -1).trim()} `;
    else {
      logical.push(current + line);
      current = "";
    }
  }
  const preamble: Instruction[] = [];
  const stages: Instruction[][] = [];
  for (const l of logical) {
    const m = /^(\S+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`cannot read Dockerfile line: ${l}`);
    const ins = { op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() };
    if (ins.op === "FROM") stages.push([ins]);
    else (stages.at(-1) ?? preamble).push(ins);
  }
  return { preamble, stages };
}

/** dockerignored tells whether .dockerignore keeps path out of the build context (last match wins). */
function dockerignored(patterns: string[], path: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*\*\//g, "§1")
        .replace(/\*\*/g, "§2")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]")
        .replace(/§1/g, "(?:.*/)?")
        .replace(/§2/g, ".*")}$`,
    );
  const parents = (p: string) => p.split("/").map((_, i, a) => a.slice(0, i + 1).join("/"));
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const p = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, "");
    const re = toRegex(p);
    if (parents(path).some((x) => re.test(x))) excluded = !negate;
  }
  return excluded;
}

const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
const { preamble, stages } = parseDockerfile(dockerfile);
const finalStage = stages.at(-1) ?? [];
const ignore = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const contextFiles = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: repoRoot,
  encoding: "utf8",
})
  .split("\n")
  .filter(Boolean)
  .filter((f) => !dockerignored(ignore, f));

describe("the Dockerfile", () => {
  it("passes hadolint", () => {
    const r = spawnSync(hadolintBinary(), ["--no-color", "Dockerfile"], { cwd: repoRoot, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  }, 120_000);

  it("builds on the project's Node.js version in every stage", () => {
    const ensureNode = readFileSync(join(repoRoot, "hack/ensure-node.sh"), "utf8");
    const projectNode = /NODE_VERSION=\$\{HPO_NODE_VERSION:-([\d.]+)\}/.exec(ensureNode)?.[1];
    expect(preamble).toContainEqual({ op: "ARG", args: `NODE_VERSION=${projectNode}` });
    expect(stages.length).toBe(2);
    for (const s of stages) expect(s[0]?.args).toMatch(/^node:\$\{NODE_VERSION\}-\S+-slim( AS \w+)?$/);
  });

  it("installs the production dependencies only, from the lock file", () => {
    const deps = stages[0] ?? [];
    expect(deps).toContainEqual({ op: "COPY", args: "package.json package-lock.json ./" });
    expect(deps.find((i) => i.op === "RUN")?.args).toMatch(/^npm ci --omit=dev\b/);
    expect(finalStage).toContainEqual({ op: "COPY", args: "--from=deps /app/node_modules ./node_modules" });
  });

  it("runs as the non-root user that generator Jobs ask of the stage containers", () => {
    const req = {
      metadata: { name: "r", namespace: "n" },
      spec: { method: "container", generator: { image: "g" } },
    };
    const job = jobFor(
      req as HPORequest,
      "r-gen-1",
      1,
      { maxPoints: 1, numPoints: 1, input: "i", output: "o" },
      {
        operatorImage: "img",
        ttlSecondsAfterFinished: 60,
        gzipAboveBytes: 1000,
      },
    );
    const stage = job.spec.template.spec.initContainers as {
      securityContext: { runAsUser: number; runAsGroup: number };
    }[];
    const { runAsUser, runAsGroup } = stage[0]?.securityContext ?? { runAsUser: -1, runAsGroup: -1 };
    expect(finalStage.filter((i) => i.op === "USER")).toEqual([
      { op: "USER", args: `${runAsUser}:${runAsGroup}` },
    ]);
    // The chart runs the operator as the same user.
    const values = parse(readFileSync(join(repoRoot, "charts/hpo-operator/values.yaml"), "utf8"));
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser, runAsGroup });
  });

  it("has the entrypoint hpo-operator (src/cli/main.ts, as package.json's bin) and runs the operator by default", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    expect(pkg.bin["hpo-operator"]).toBe("src/cli/main.ts");
    expect(readFileSync(join(repoRoot, "src/cli/main.ts"), "utf8").split("\n")[0]).toBe(
      "#!/usr/bin/env node",
    );
    expect(finalStage).toContainEqual({
      op: "RUN",
      args: "chmod 0755 /app/src/cli/main.ts && ln -s /app/src/cli/main.ts /usr/local/bin/hpo-operator",
    });
    expect(finalStage.filter((i) => i.op === "ENTRYPOINT")).toEqual([
      { op: "ENTRYPOINT", args: '["hpo-operator"]' },
    ]);
    expect(finalStage.filter((i) => i.op === "CMD")).toEqual([{ op: "CMD", args: '["run"]' }]);
    expect(finalStage).toContainEqual({ op: "WORKDIR", args: "/app" });
  });

  it("sends only package.json, the lock file and the non-test sources to the build", () => {
    const expected = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "src"], {
      cwd: repoRoot,
      encoding: "utf8",
    })
      .split("\n")
      .filter((f) => f && !f.endsWith(".test.ts"));
    expect(contextFiles.sort()).toEqual(["package-lock.json", "package.json", ...expected].sort());
    // and the final stage copies exactly those (the deps stage has the lock file).
    const copies = finalStage.filter((i) => i.op === "COPY" && !i.args.startsWith("--from"));
    expect(copies.map((i) => i.args)).toEqual(["package.json ./", "src ./src"]);
  });

  it("imports nothing outside src/ and no devDependency from the image's sources", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    const allowed = new Set(Object.keys(pkg.dependencies));
    const problems: string[] = [];
    for (const f of contextFiles.filter((x) => x.endsWith(".ts"))) {
      const text = readFileSync(join(repoRoot, f), "utf8");
      for (const m of text.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|import\("([^"]+)"\)/g,
      )) {
        const spec = (m[1] ?? m[2]) as string;
        if (spec.startsWith("node:")) continue;
        if (spec.startsWith(".")) {
          const target = relative(repoRoot, join(dirname(join(repoRoot, f)), spec));
          if (!target.startsWith("src/")) problems.push(`${f} imports ${spec} (outside src/)`);
          continue;
        }
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : (spec.split("/")[0] as string);
        if (!allowed.has(name)) problems.push(`${f} imports ${spec}, not a production dependency`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("the image's entrypoint commands (the image's file tree, assembled as the Dockerfile does)", () => {
  let root = "";
  let app = "";
  let bin = "";
  let snapshot = "";
  const children: ChildProcess[] = [];

  /** files lists every file of the image's /app with its size and mtime (to prove nothing is written). */
  const files = (dir: string): string =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => {
        const p = join(d.parentPath, d.name);
        const s = statSync(p);
        return `${relative(dir, p)} ${s.size} ${s.mtimeMs}`;
      })
      .sort()
      .join("\n");

  /** env is the image's environment: only ENV, PATH with the entrypoint and node, and a HOME that does not exist. */
  const env = () => ({
    PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    NODE_ENV: "production",
    HOME: join(root, "nonexistent-home"),
  });
  const run = (args: string[], cwd = root) =>
    spawnSync("hpo-operator", args, { cwd, env: env(), encoding: "utf8", timeout: 60_000 });

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "hpo-image-"));
    app = join(root, "app");
    bin = join(root, "usr-local-bin");
    mkdirSync(app);
    mkdirSync(bin);
    // deps stage: COPY package.json package-lock.json ./ ; RUN npm ci --omit=dev ...
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(repoRoot, f), join(app, f));
    execFileSync(
      "npm",
      ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
      {
        cwd: app,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    rmSync(join(app, "package-lock.json")); // the final stage copies node_modules and package.json only
    // final stage: COPY src ./src (what the context lets through), then the entrypoint link.
    for (const f of contextFiles.filter((x) => x.startsWith("src/")))
      cpSync(join(repoRoot, f), join(app, f), { recursive: true });
    chmodSync(join(app, "src/cli/main.ts"), 0o755);
    symlinkSync(join(app, "src/cli/main.ts"), join(bin, "hpo-operator"));
    snapshot = files(app);
  }, 300_000);

  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("has no devDependency installed, and every production one", () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([path]) => path.startsWith("node_modules/"));
    const present = (path: string) => existsSync(join(app, path));
    const devOnly = entries.filter(([, p]) => p.dev).map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(devOnly.filter(present)).toEqual([]);
    const prod = entries.filter(([, p]) => !p.dev && !("optional" in p)).map(([path]) => path);
    expect(prod.filter((p) => !present(p))).toEqual([]);
  });

  it("hpo-operator --help lists the commands; an unknown command exits 2", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(0);
    for (const c of ["run", "generate", "stage-in", "stage-out", "validate"])
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect(run(["bogus"]).status).toBe(2);
  });

  it("run --help lists every flag with its environment variable", () => {
    const r = run(["run", "--help"]);
    expect(r.status).toBe(0);
    for (const f of flags) expect(r.stdout).toContain(`--${f.name}`);
    for (const f of flags) expect(r.stdout).toContain(`$${f.env}`);
  });

  it("generate proposes points in the space (the operator's image as an iDDS steering container)", () => {
    const work = mkdtempSync(join(root, "work-"));
    const space = { x: { type: "float", low: -5, high: 10 }, n: { type: "int", low: 1, high: 4 } };
    writeFileSync(
      join(work, "idds_input.json"),
      JSON.stringify({ points: [[{ x: 1, n: 2 }, 0.5]], opt_space: space }),
    );
    const r = run(
      [
        "generate",
        "--method",
        "sobol",
        "--max_points=10",
        "--num_points=3",
        "--input=idds_input.json",
        "--output=out.json",
      ],
      work,
    );
    expect(r.stderr).toContain("wrote 3 point(s)");
    expect(r.status).toBe(0);
    const pts = JSON.parse(readFileSync(join(work, "out.json"), "utf8")) as { x: number; n: number }[];
    expect(pts).toHaveLength(3);
    for (const p of pts) {
      expect(p.x).toBeGreaterThanOrEqual(-5);
      expect(p.x).toBeLessThanOrEqual(10);
      expect([1, 2, 3, 4]).toContain(p.n);
    }
  });

  it("validate checks manifests with the CRDs' schemas that the image carries", () => {
    const dir = mkdtempSync(join(root, "manifests-"));
    const file = join(dir, "request.yaml");
    writeFileSync(
      file,
      "apiVersion: hpo.dev/v1alpha1\nkind: HPORequest\nmetadata: {name: r}\n" +
        "spec: {method: tpe, searchSpace: {x: {type: float, low: 2, high: 1}}}\n",
    );
    const r = run(["validate", file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      `${file}:4: spec.searchSpace[x]: Invalid value: "object": low must be less than high\n`,
    );
  });

  it("stage-in, generate and stage-out round trip as in a generator Job", () => {
    const cm = mkdtempSync(join(root, "configmap-"));
    const work = mkdtempSync(join(root, "data-"));
    const input = JSON.stringify({
      points: [],
      opt_space: { lr: { type: "float", low: 0.001, high: 0.1, log: true } },
    });
    writeFileSync(join(cm, "idds_input.json.gz"), gzipSync(input)); // a large input is stored gzip-compressed
    const staged = run(["stage-in", `--from=${cm}`, `--to=${work}`]);
    expect(staged.status).toBe(0);
    expect(readFileSync(join(work, "idds_input.json"), "utf8")).toBe(input);
    const gen = run(
      [
        "generate",
        "--method=random",
        "--max_points=5",
        "--num_points=2",
        "--input=idds_input.json",
        "--output=output.json",
      ],
      work,
    );
    expect(gen.status).toBe(0);
    const out = run(["stage-out", `--file=${join(work, "output.json")}`]);
    expect(out.status).toBe(0);
    const frame = unframeOutput(out.stdout);
    expect(frame).toEqual({ ok: true, json: readFileSync(join(work, "output.json"), "utf8") });
    writeFileSync(join(work, "bad.json"), "{not json");
    const bad = run(["stage-out", `--file=${join(work, "bad.json")}`]);
    expect(bad.status).toBe(1);
    expect(run(["stage-out", `--file=${join(work, "missing.json")}`]).stderr).toContain("no output file");
  });

  it("run starts the operator against the control plane, gets ready, and stops cleanly on SIGTERM", async () => {
    const ns = newNamespace("image");
    try {
      const [probe, metrics] = await Promise.all([freePort(), freePort()]);
      const child = spawn(
        "hpo-operator",
        [
          "run",
          `--kubeconfig=${inject("kubeconfig")}`,
          `--namespaces=${ns}`,
          `--health-probe-bind-address=127.0.0.1:${probe}`,
          `--metrics-bind-address=127.0.0.1:${metrics}`,
        ],
        { cwd: root, env: env(), stdio: ["ignore", "pipe", "pipe"] },
      );
      children.push(child);
      let log = "";
      child.stderr?.on("data", (d) => {
        log += d;
      });
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      await waitFor(
        "/readyz",
        async () => (await fetch(`http://127.0.0.1:${probe}/readyz`).catch(() => undefined))?.ok === true,
        60_000,
        async () => log,
      );
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      expect(text).toContain("controller_runtime_reconcile_total");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(log).toContain('"stopped"');
    } finally {
      deleteNamespace(ns);
    }
  }, 90_000);

  it("wrote nothing into the image's files (it runs with a read-only root filesystem)", () => {
    expect(files(app)).toBe(snapshot);
  });
});
