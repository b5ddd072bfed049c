/**
 * Two things client-node's authenticators do not do, added from outside: an exec credential plugin
 * that hangs is killed after a timeout (client-node's ExecAuth spawns it with no limit), and a
 * credential the API server refused (401) is dropped, so the next call runs the plugin again or
 * re-reads the token file (as client-go does) instead of sending it until it expires.
 *
 * client-node keeps its authenticators in a private list; guardCredentials finds them by their
 * public shape (ExecAuth's execFn and tokenCache, FileAuth's token) and says which it found, and a
 * unit test fails when a client-node upgrade changes that shape.
 */
import { spawn } from "node:child_process";
import type { KubeConfig } from "@kubernetes/client-node";

interface ExecAuthShape {
  execFn: typeof spawn;
  tokenCache: Record<string, unknown>;
}
interface FileAuthShape {
  token: string | null;
  lastRead: Date | null;
  refreshToken(path: string): void;
}

const isExecAuth = (a: unknown): a is ExecAuthShape =>
  typeof a === "object" && a !== null && "execFn" in a && "tokenCache" in a;
const isFileAuth = (a: unknown): a is FileAuthShape =>
  typeof a === "object" && a !== null && "refreshToken" in a && "lastRead" in a;

/** CredentialsGuard says what guardCredentials hooked and drops refused credentials. */
export interface CredentialsGuard {
  /** execTimeout is true when exec plugins are killed after the timeout. */
  readonly execTimeout: boolean;
  /** forget drops cached exec credentials and token-file tokens, after the server refused one. */
  forget(): void;
}

/** guardCredentials makes kc's exec plugins die after timeoutMs and lets refused credentials be dropped. */
export function guardCredentials(kc: KubeConfig, timeoutMs: number): CredentialsGuard {
  const list = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
  const exec = list.find(isExecAuth);
  const file = list.find(isFileAuth);
  if (exec) {
    exec.execFn = ((command: string, args: readonly string[], options: object) =>
      spawn(command, args ?? [], { ...options, timeout: timeoutMs, killSignal: "SIGKILL" })) as typeof spawn;
  }
  return {
    execTimeout: exec !== undefined,
    forget() {
      if (exec) exec.tokenCache = {};
      if (file) {
        file.token = null;
        file.lastRead = null;
      }
    },
  };
}
