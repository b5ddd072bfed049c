import { describe, expect, it } from "vitest";
import { parseConfig } from "../operator/config.ts";
import { credentialsOf, parseBrokers, parseDestination, shuffled } from "./settings.ts";

describe("broker settings", () => {
  it("parses host:port lists, with schemes and IPv6", () => {
    expect(parseBrokers(" a:61613, stomp://b.example:61614,[::1]:1 ", "--brokers")).toEqual([
      { host: "a", port: 61613 },
      { host: "b.example", port: 61614 },
      { host: "::1", port: 1 },
    ]);
    expect(parseBrokers("", "--brokers")).toEqual([]);
    expect(() => parseBrokers("a", "--brokers")).toThrow(/--brokers: "a" is not host:port/);
    expect(() => parseDestination("hpo", "--broker-destination")).toThrow(/\/topic\/NAME/);
  });
  it("reads the issue's environment variables", () => {
    const c = parseConfig([], {
      HPO_BROKERS: "mq1:61613,mq2:61613",
      HPO_BROKER_USERNAME: "hpo",
      HPO_BROKER_PASSWORD_FILE: "/secret/pw",
      HPO_BROKER_DESTINATION: "/queue/points",
      HPO_BROKER_TLS: "true",
    });
    expect(c.broker).toMatchObject({
      brokers: [
        { host: "mq1", port: 61613 },
        { host: "mq2", port: 61613 },
      ],
      username: "hpo",
      passwordFile: "/secret/pw",
      destination: "/queue/points",
      tls: true,
      heartbeatMs: 10_000,
      ttlMs: 0,
      receiptTimeoutMs: 10_000,
      vo: "atlas",
    });
    expect(parseConfig([], {}).broker).toMatchObject({
      brokers: [],
      destination: "/topic/hpo.points",
      tls: false,
    });
  });
  it("takes the vo header of iDDS's messages from --broker-vo, a single word", () => {
    expect(parseConfig(["--broker-vo=rubin"], {}).broker.vo).toBe("rubin");
    expect(parseConfig([], { HPO_BROKER_VO: "lsst" }).broker.vo).toBe("lsst");
    expect(() => parseConfig(["--broker-vo=a b"], {})).toThrow(
      /--broker-vo: "a b" must be a word such as atlas/,
    );
  });
  it("reads credentials files at connect time, without the trailing newline", () => {
    const files: Record<string, string> = { "/u": "hpo\n", "/p": "s3cret\n" };
    const s = {
      brokers: [],
      tls: false,
      heartbeatMs: 0,
      destination: "/topic/x",
      ttlMs: 0,
      receiptTimeoutMs: 1,
    };
    expect(
      credentialsOf(
        { ...s, usernameFile: "/u", passwordFile: "/p", password: "ignored" },
        (f) => files[f] ?? "",
      ),
    ).toEqual({
      login: "hpo",
      passcode: "s3cret",
    });
    expect(credentialsOf({ ...s, username: "a" })).toEqual({ login: "a", passcode: undefined });
  });
  it("shuffles without losing brokers", () => {
    let i = 0;
    const seq = [0.9, 0.1, 0.5];
    expect(shuffled([1, 2, 3, 4], () => seq[i++ % 3] as number).sort()).toEqual([1, 2, 3, 4]);
  });
});
