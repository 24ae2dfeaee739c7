import { describe, expect, it } from "vitest";
import { workerEnv, workerSettingsProblems } from "./worker-env.ts";

const base = {
  workerId: "worker-1",
  region: "us-east-1",
  resourcePrefix: "market-local-",
  logLevel: "info",
  expertsDir: "/data/experts",
  servingKeyFile: "/data/workers/worker-1/serving-key.json",
  gatewayAddress: "5Gateway",
  trustedSenders: ["5Gateway", "5Validator"],
  sqsEndpoint: "http://127.0.0.1:1",
  dynamoEndpoint: "http://127.0.0.1:2",
};

const parent = {
  PATH: "/usr/bin",
  HOME: "/home/me",
  MARKET_ADMIN_TOKEN: "admin-secret-0123456789",
  MARKET_GATEWAY_MNEMONIC: "gateway secret words",
  MARKET_VALIDATOR_MNEMONIC: "validator secret words",
  GITHUB_TOKEN: "ghp_unrelated",
  NODE_OPTIONS: "--require ./evil.cjs",
  AWS_ACCESS_KEY_ID: "AKIAREAL",
  AWS_SECRET_ACCESS_KEY: "real-aws-secret",
  WORKER_BATCH_MAX: "16",
};

describe("worker environment", () => {
  it("carries no secret of the market and nothing outside the allow-list", () => {
    const env = workerEnv({ ...base, parent, emulatedOnly: true });
    const values = Object.values(env).join("\n");
    for (const secret of [
      "admin-secret-0123456789",
      "gateway secret words",
      "validator secret words",
      "ghp_unrelated",
      "real-aws-secret",
      "evil",
    ])
      expect(values).not.toContain(secret);
    expect(Object.keys(env).filter((k) => k.startsWith("MARKET_"))).toEqual([
      "MARKET_RESOURCE_PREFIX",
      "MARKET_LOG_LEVEL",
    ]);
    expect(env).toMatchObject({
      PATH: "/usr/bin",
      AWS_ACCESS_KEY_ID: "local",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1",
      WORKER_BATCH_MAX: "16",
      WORKER_ID: "worker-1",
      WORKER_EXIT_ON_STDIN_EOF: "true",
    });
  });

  it("passes the AWS credentials only when a real service is used", () => {
    const env = workerEnv({ ...base, sqsEndpoint: undefined, parent, emulatedOnly: false });
    expect(env.AWS_SECRET_ACCESS_KEY).toBe("real-aws-secret");
    expect(env.AWS_ENDPOINT_URL_SQS).toBeUndefined();
    expect(env.MARKET_ADMIN_TOKEN).toBeUndefined();
  });
});

describe("workerSettingsProblems", () => {
  it("names what a worker would refuse in the parent's WORKER_* settings, before any worker starts", () => {
    expect(workerSettingsProblems({ WORKER_BATCH_MAX: "16", MARKET_ADMIN_TOKEN: "x" })).toEqual([]);
    expect(
      workerSettingsProblems({
        WORKER_BATCH_RULES: JSON.stringify([{ runner: "silero-vad", batch: { maxBatchsize: 4 } }]),
        WORKER_ORT_THREADS: "many",
      }),
    ).toEqual([
      expect.stringMatching(/^batchRules\.0\.batch: .*maxBatchsize/),
      expect.stringMatching(/^intraOpThreads: /),
    ]);
    // A miner's secret handed to the workers is refused up front too, and never echoed.
    const refused = workerSettingsProblems({ WORKER_HOTKEY_URIS: '{"miner-1": "//secret seed"}' });
    expect(refused).toEqual([expect.stringMatching(/^WORKER_HOTKEY_URIS: no longer read/)]);
    expect(refused.join("\n")).not.toContain("secret seed");
    // The settings file is read as the worker reads it.
    expect(
      workerSettingsProblems({ WORKER_CONFIG_FILE: "/etc/w.json" }, undefined, () =>
        JSON.stringify({ batch: { maxBatchSize: 0 } }),
      ),
    ).toEqual([expect.stringMatching(/^batch\.maxBatchSize: /)]);
    // Settings the stack gives every worker itself replace the parent's, so those are never held against it.
    expect(
      workerSettingsProblems({
        WORKER_ID: "my worker",
        WORKER_RELOAD_MS: "0.5",
        WORKER_TRUSTED_SENDERS: "alice",
        WORKER_CONFIG: JSON.stringify({ workerId: "bad id!" }),
      }),
    ).toEqual([]);
  });
});
