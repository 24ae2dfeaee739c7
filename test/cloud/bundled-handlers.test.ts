/**
 * The deployed handlers, built exactly as SST's Node builder builds them (test/cloud/sst-bundle.ts) into empty
 * folders with only their copyFiles, and run from there as Lambda runs them (test/cloud/lambda-host.ts), with only
 * the environment infra declares for them (test/cloud/handler-contract.ts) plus the emulators' endpoints: fauxqs
 * (SQS and S3: the model store bucket) and dynalite. The GPU worker runs from the image's file layout
 * (gpu-workers/Dockerfile) with its task definition's environment, and takes its experts from the bucket.
 *
 * The API and the validator talk to the chain with the subtensor adapter over WebSocket (MARKET_CHAIN_URL), so
 * their parts need the devnet served over JSON-RPC: `startDevnetRpc` (adapters/chain/devnet/rpc/, issue 14). Until
 * that module is on this branch those two tests are reported as skipped with "[needs startDevnetRpc]" in their
 * names and a warning; nothing in them is faked.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
  createSqsClient,
  emulatorClientOptions,
} from "../../adapters/aws/clients.ts";
import { SECRET_LINKS } from "../../adapters/aws/sst-link.ts";
import { identityReady, signerFromUri } from "../../adapters/identity/sr25519.ts";
import { silentLogger } from "../../adapters/log/logger.ts";
import { publishExperts, readDirectory } from "../../adapters/model-store/directory.ts";
import { S3ModelStore } from "../../adapters/model-store/s3.ts";
import { ensureQueues } from "../../adapters/queue/ensure.ts";
import { SqsJobQueue } from "../../adapters/queue/sqs.ts";
import { ensureTables } from "../../adapters/tables/ensure.ts";
import { DynamoJobStore } from "../../adapters/tables/jobs.ts";
import { DynamoLedger } from "../../adapters/tables/ledger.ts";
import { ensureExperts } from "../../cli/experts.ts";
import { readManifestModel } from "../../cli/experts-publish.ts";
import { createMarketClient } from "../../client/client.ts";
import { parseConfig } from "../../core/config/schema.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { makeJob, waitFor } from "../../gpu-workers/testing/jobs.ts";
import {
  JOBS_DLQ,
  JOBS_QUEUE,
  JOBS_TABLE,
  LEDGER_TABLE,
  physicalName,
  QUEUES,
  TABLES,
} from "../../infra/definitions.ts";
import { type Emulators, startEmulators } from "../../stacks/ephemeral/emulators.ts";
import { type ChainPart, DEMO_GATEWAY_URI, DEMO_VALIDATOR_URI, startChain } from "../../stacks/parts/chain.ts";
import { API, type HandlerContract, SWEEPER, VALIDATOR, WORKER_TASK } from "./handler-contract.ts";
import { functionUrlEvent, type LambdaHost, SCHEDULER_EVENT, startLambdaHost } from "./lambda-host.ts";
import { buildLikeSst, writeSstLinks } from "./sst-bundle.ts";
import { parseDockerfile, type RunningImage, readDockerfile, runImage, stageImage } from "./worker-image.ts";

const REPO = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/** issue 14's JSON-RPC server for the devnet, when it is on this branch. */
type StartDevnetRpc = (options: {
  devnet: unknown;
  host?: string;
  port?: number;
}) => Promise<{ url: string; close(): Promise<void> }>;
async function loadDevnetRpc(): Promise<StartDevnetRpc | null> {
  for (const file of ["index.ts", "server.ts", "rpc.ts"]) {
    const path = join(REPO, "adapters", "chain", "devnet", "rpc", file);
    if (!existsSync(path)) continue;
    const mod = (await import(path)) as { startDevnetRpc?: unknown };
    if (typeof mod.startDevnetRpc === "function") return mod.startDevnetRpc as StartDevnetRpc;
  }
  return null;
}
const startDevnetRpc = await loadDevnetRpc();
if (!startDevnetRpc)
  console.warn(
    "bundled-handlers: adapters/chain/devnet/rpc (startDevnetRpc, issue 14) is not on this branch: the API and " +
      "validator runs are SKIPPED, not passed. The integrator wires them by merging issue 14.",
  );
const needsRpc = startDevnetRpc ? "" : " [needs startDevnetRpc: SKIPPED until issue 14 lands]";

const LINK_OF: Record<string, string> = Object.fromEntries(Object.entries(SECRET_LINKS).map(([l, n]) => [n, l]));

/**
 * Only the declared names reach the function: settings as environment, secrets as SST-linked sst.Secrets in the
 * bundle's encrypted resource.enc (never a plain variable). A missing declared value is a test bug.
 */
function declared(
  contract: HandlerContract,
  values: Record<string, string>,
): { env: Record<string, string>; links: Record<string, unknown> } {
  const env: Record<string, string> = {};
  const links: Record<string, unknown> = {};
  for (const name of [...contract.env, ...contract.secrets]) {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${name}`);
    if (!contract.secrets.includes(name)) env[name] = value;
    else {
      const link = LINK_OF[name];
      if (!link) throw new Error(`secret ${name} has no sst.Secret link name (adapters/aws/sst-link.ts)`);
      links[link] = { type: "sst.sst.Secret", value };
    }
  }
  return { env, links };
}

describe("deployed handlers, bundled as SST does and run as Lambda does", () => {
  const prefix = `cloud${Math.random().toString(36).slice(2, 7)}-`;
  const bucket = `market-test-models-${Math.random().toString(36).slice(2, 8)}`;
  const adminToken = `admin-${randomUUID()}`;
  let work: string;
  let emulators: Emulators;
  let awsEnv: Record<string, string>;
  let store: S3ModelStore;
  let manifests: ExpertManifest[];
  let worker: RunningImage | undefined;
  let workerPort = 0;
  const hosts: LambdaHost[] = [];
  const gateway = () => signerFromUri(DEMO_GATEWAY_URI);
  const validator = () => signerFromUri(DEMO_VALIDATOR_URI);

  const bundle = async (name: string, contract: HandlerContract) => {
    const dir = join(work, "functions", name);
    const built = await buildLikeSst({
      handler: contract.handler,
      repoRoot: REPO,
      outDir: dir,
      copyFiles: contract.copyFiles,
    });
    // Nothing of the repository is there but the bundle and its copyFiles.
    const top = (await readdir(dir)).sort();
    expect(top).toEqual(["bundle.mjs", ...new Set(contract.copyFiles.map((c) => c.to.split("/")[0] ?? ""))].sort());
    return { dir, handler: `bundle.${built.exportName}` };
  };
  const host = async (name: string, contract: HandlerContract, values: Record<string, string>) => {
    const { dir, handler } = await bundle(name, contract);
    const { env, links } = declared(contract, values);
    const linkEnv = await writeSstLinks(dir, links);
    const fullEnv = {
      ...awsEnv,
      ...env,
      SST_RESOURCE_App: JSON.stringify({ name: "intelligence-market", stage: "test" }),
      ...linkEnv,
    };
    for (const secret of contract.secrets) expect(Object.values(fullEnv)).not.toContain(values[secret]);
    const h = await startLambdaHost({
      taskRoot: dir,
      handler,
      functionName: `intelligence-market-test-${name}`,
      env: fullEnv,
    });
    hosts.push(h);
    return h;
  };

  beforeAll(async () => {
    await identityReady();
    work = await mkdtemp(join(tmpdir(), "market-cloud-"));
    emulators = await startEmulators();
    const sqsOptions = emulatorClientOptions(emulators.sqsEndpoint);
    const sqs = createSqsClient(sqsOptions);
    const dynamo = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    // What `sst deploy` creates: the tables, the queues with their dead-letter queue, the model bucket.
    await ensureTables(dynamo, prefix, TABLES);
    await ensureQueues(sqs, prefix, QUEUES);
    const s3 = createS3Client(sqsOptions);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    sqs.destroy();
    dynamo.destroy();
    // The variables Lambda and ECS give every function/task: region and the role's credentials; the emulators'
    // endpoints stand in for AWS's through the standard SDK variables.
    awsEnv = {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_SESSION_TOKEN: "local",
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      AWS_ENDPOINT_URL_S3: emulators.sqsEndpoint,
    };

    // The operator's step: upload the experts' models and publish the directory (`npm run market -- experts publish`).
    const cache = join(tmpdir(), "market-test-experts");
    await mkdir(cache, { recursive: true });
    manifests = await ensureExperts(cache, () => {});
    store = new S3ModelStore(s3, bucket);
    await publishExperts(store, manifests, readManifestModel);

    // The worker, from the image's layout, with the task definition's environment.
    const dockerfile = await readDockerfile(REPO);
    const layout = parseDockerfile(dockerfile);
    const app = join(work, "image", layout.workdir.replace(/^\//, ""));
    await stageImage(REPO, app, layout, dockerfile);
    expect(existsSync(join(app, "cli"))).toBe(false);
    expect(existsSync(join(app, "functions"))).toBe(false);
    const volume = join(work, "volume");
    const taskEnv: Record<string, string> = {
      MARKET_RESOURCE_PREFIX: prefix,
      MARKET_MODEL_BUCKET: bucket,
      WORKER_TRUSTED_SENDERS: [gateway().address, validator().address].join(","),
      WORKER_GATEWAY_ADDRESS: gateway().address,
      AWS_REGION: "us-east-1",
      MARKET_LOG_LEVEL: "info",
      // The ECS secret (SSM SecureString): the demo hotkeys' secret URIs, by expert id.
      WORKER_HOTKEY_URIS: JSON.stringify(
        Object.fromEntries(manifests.flatMap((m) => (m.hotkeyUri ? [[m.id, m.hotkeyUri]] : []))),
      ),
    };
    for (const name of [...WORKER_TASK.env, ...WORKER_TASK.secrets]) expect(taskEnv[name], name).toBeDefined();
    worker = runImage(app, layout, {
      ...layout.env,
      ...taskEnv,
      ...awsEnv,
      // The task's /data volume, and a free status port (other tests share this machine).
      MARKET_DATA_DIR: volume,
      WORKER_METRICS_PORT: "0",
      HOME: join(work, "home"),
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    });
    workerPort = await worker.port();
  }, 180_000);

  afterAll(async () => {
    for (const h of hosts) await h.stop();
    await worker?.stop();
    await emulators?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${workerPort}/health`);
    return (await res.json()) as { status: string; experts: { id: string }[] };
  };

  it("the worker image serves the published experts from the bucket, answers a job, and follows a new directory", async () => {
    const digitIds = manifests.filter((m) => m.task === "digits").map((m) => m.id);
    const h = await waitFor(
      "the worker to serve every digit expert",
      async () => {
        const now = await health();
        return digitIds.every((id) => now.experts.some((e) => e.id === id)) && now;
      },
      60_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${worker?.logs().slice(-4000)}`);
    });
    expect(h.status).toBe("ok");
    // Models came from the bucket into the volume's cache, by digest.
    const cached = await readdir(join(work, "volume", "model-cache"));
    const spec04 = manifests.find((m) => m.id === "spec04");
    expect(cached).toContain(`${spec04?.model.sha256}.onnx`);

    // A job as the gateway enqueues it, answered and signed by the expert's hotkey.
    const sqs = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    const doc = createDynamoDocumentClient(createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint)));
    const queue = new SqsJobQueue({
      sqs,
      queueName: physicalName(prefix, JOBS_QUEUE.name),
      deadLetterQueueName: physicalName(prefix, JOBS_DLQ.name),
    });
    const jobs = new DynamoJobStore({ doc, tableName: physicalName(prefix, JOBS_TABLE.name) });
    const pixels = new Array<number>(784).fill(0);
    for (let r = 4; r < 24; r++) {
      pixels[r * 28 + 13] = 1;
      pixels[r * 28 + 14] = 1;
    }
    const job = makeJob({
      jobId: `job-${randomUUID()}`,
      hotkey: spec04?.hotkey ?? "",
      input: pixels,
      sender: gateway(),
    });
    expect(await jobs.create(job.record)).toBe(true);
    await queue.send(job.body);
    const done = await waitFor(
      "the job's answer",
      async () => {
        const r = await jobs.get(job.record.jobId);
        return r?.status === "succeeded" && r;
      },
      30_000,
      100,
    );
    expect(done.answer?.signature.signedBy).toBe(spec04?.hotkey);

    // The operator drops an expert from the directory: the running worker stops serving it, without a restart.
    const pid = worker?.child.pid;
    await publishExperts(
      store,
      manifests.filter((m) => m.id !== "noise"),
      readManifestModel,
    );
    await waitFor(
      "the worker to drop noise",
      async () => !(await health()).experts.some((e) => e.id === "noise"),
      20_000,
      250,
    );
    await publishExperts(store, manifests, readManifestModel);
    await waitFor(
      "the worker to serve noise again",
      async () => (await health()).experts.some((e) => e.id === "noise"),
      20_000,
      250,
    );
    expect(worker?.child.pid).toBe(pid);
    expect(worker?.child.exitCode).toBeNull();
    sqs.destroy();
    doc.destroy();
  }, 120_000);

  it("the sweeper bundle releases an expired hold on a scheduler event", async () => {
    const sweeper = await host("sweeper", SWEEPER, {
      MARKET_RESOURCE_PREFIX: prefix,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });
    const doc = createDynamoDocumentClient(createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint)));
    const ledger = new DynamoLedger({ db: doc, table: physicalName(prefix, LEDGER_TABLE.name) });
    const at = Date.now();
    const account = `acct-${randomUUID()}`;
    await ledger.openAccount(account, "sweep test", at);
    await ledger.credit({ accountId: account, entryId: `credit-${account}`, amount: 1000, at });
    const holdId = `hold-${randomUUID()}`;
    await ledger.hold({ holdId, accountId: account, amount: 300, deadline: at - 60_000, at: at - 120_000 });
    expect((await ledger.getAccount(account))?.balance).toBe(700);

    const report = await sweeper.invoke<Record<string, number>>(SCHEDULER_EVENT);
    expect(report.released).toBeGreaterThanOrEqual(1);
    expect((await ledger.getHold(holdId))?.status).toBe("released");
    expect((await ledger.getAccount(account))?.balance).toBe(1000);
    doc.destroy();
  }, 60_000);

  it("the validator's hidden data loads from its copyFiles, its hotkey secret from the bundle's SST link", async () => {
    const probe = await host(
      "validator-data",
      { ...VALIDATOR, handler: "test/cloud/fixtures/validator-data-probe.handler" },
      {
        MARKET_RESOURCE_PREFIX: prefix,
        MARKET_CHAIN_URL: "ws://127.0.0.1:9",
        MARKET_NETUID: "1",
        MARKET_MODEL_BUCKET: bucket,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        MARKET_VALIDATOR_MNEMONIC: DEMO_VALIDATOR_URI,
      },
    );
    const out = await probe.invoke<Record<string, unknown>>(SCHEDULER_EVENT);
    expect(out).toEqual({
      validatorInEnvironment: false,
      validatorAddress: validator().address,
      digits: 10_000,
      hidden: expect.any(Number),
      speechItems: 4,
      digitItems: 4,
    });
    expect(out.hidden).toBeGreaterThan(0);
  }, 60_000);

  it("the API and validator bundles initialise up to the chain, and fail fast when MARKET_CHAIN_URL is unreachable", async () => {
    // Everything before the chain runs for real here (settings, linked secrets, model store, sr25519 wasm, task
    // registry): the only failure allowed is the WebSocket to a closed port. The runs with a chain are below.
    const unreachable = "ws://127.0.0.1:9";
    const base = {
      MARKET_RESOURCE_PREFIX: prefix,
      MARKET_CHAIN_URL: unreachable,
      MARKET_NETUID: "1",
      MARKET_MODEL_BUCKET: bucket,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    const api = await host("api-unreachable", API, {
      ...base,
      MARKET_VALIDATOR_HOTKEY: validator().address,
      MARKET_WAIT_SECONDS: "25",
      MARKET_MAX_WAIT_SECONDS: "30",
      MARKET_ADMIN_TOKEN: adminToken,
      MARKET_GATEWAY_MNEMONIC: DEMO_GATEWAY_URI,
    });
    const v = await host("validator-unreachable", VALIDATOR, {
      ...base,
      MARKET_VALIDATOR_MNEMONIC: DEMO_VALIDATOR_URI,
    });
    for (const [h, event] of [
      [api, functionUrlEvent({ method: "GET", path: "/v1/tasks" })],
      [v, SCHEDULER_EVENT],
    ] as const) {
      await expect(h.invoke(event, 30_000)).rejects.toThrow(/failed/);
      expect(h.logs()).toContain(`disconnected from ${unreachable}`);
      expect(h.logs()).not.toMatch(/Cannot find module|ENOENT|ConfigError/);
      await h.stop();
    }
  }, 60_000);

  describe("with the devnet over JSON-RPC", () => {
    let chain: ChainPart | undefined;
    let rpc: { url: string; close(): Promise<void> } | undefined;
    const chainValues = () => ({
      MARKET_RESOURCE_PREFIX: prefix,
      MARKET_CHAIN_URL: rpc?.url ?? "",
      MARKET_NETUID: String(chain?.netuid ?? 1),
      MARKET_MODEL_BUCKET: bucket,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });

    beforeAll(async () => {
      if (!startDevnetRpc) return;
      // The demo subnet: the validator (with a permit) and every expert registered under its demo hotkey.
      chain = await startChain({
        config: parseConfig({ MARKET_BLOCK_MS: "100", MARKET_TEMPO: "20" }),
        dataDir: null,
        manifests,
        blocks: "timer",
        log: silentLogger,
      });
      rpc = await startDevnetRpc({ devnet: chain.devnet, host: "127.0.0.1", port: 0 });
    }, 60_000);

    afterAll(async () => {
      await rpc?.close();
      await chain?.stop();
    });

    it.skipIf(!startDevnetRpc)(
      `the API bundle creates a key with the admin token and answers a paid digit query through the worker${needsRpc}`,
      async () => {
        const api = await host("api", API, {
          ...chainValues(),
          MARKET_VALIDATOR_HOTKEY: validator().address,
          MARKET_WAIT_SECONDS: "25",
          MARKET_MAX_WAIT_SECONDS: "30",
          MARKET_ADMIN_TOKEN: adminToken,
          MARKET_GATEWAY_MNEMONIC: DEMO_GATEWAY_URI,
        });
        // The typed client, its requests delivered as function-URL events (payload 2.0).
        const lambdaFetch = async (input: string, init: RequestInit): Promise<Response> => {
          const url = new URL(input);
          const headers: Record<string, string> = {};
          new Headers(init.headers).forEach((value, name) => {
            headers[name] = value;
          });
          const event = functionUrlEvent({
            method: init.method ?? "GET",
            path: url.pathname,
            query: url.search.replace(/^\?/, ""),
            headers,
            ...(typeof init.body === "string" ? { body: JSON.parse(init.body) as unknown } : {}),
          });
          const out = await api.invoke<{
            statusCode: number;
            headers?: Record<string, string>;
            body?: string;
            isBase64Encoded?: boolean;
          }>(event, 90_000);
          const body = out.isBase64Encoded ? Buffer.from(out.body ?? "", "base64") : (out.body ?? "");
          return new Response(out.statusCode === 204 ? null : body, { status: out.statusCode, headers: out.headers });
        };
        const admin = createMarketClient({
          baseUrl: "https://abc123.lambda-url.us-east-1.on.aws",
          adminToken,
          fetch: lambdaFetch,
        });
        const created = await admin.createKey({ name: "cloud", credits: 50_000 });
        if (!created.ok)
          throw new Error(`createKey: ${created.status} ${JSON.stringify(created.problem)}\n${api.logs()}`);
        const client = createMarketClient({
          baseUrl: "https://abc123.lambda-url.us-east-1.on.aws",
          apiKey: created.data.key,
          fetch: lambdaFetch,
        });
        const pixels = new Array<number>(784).fill(0);
        for (let r = 4; r < 24; r++) pixels[r * 28 + 13] = 1;
        const answer = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 20 });
        if (!answer.ok) throw new Error(`infer: ${answer.status} ${JSON.stringify(answer.problem)}\n${api.logs()}`);
        expect(answer.status).toBe(200);
        if (!("receipt" in answer.data))
          throw new Error(`infer answered 202, not the answer: ${JSON.stringify(answer.data)}`);
        const result = answer.data;
        expect((result.output as { probs: number[] }).probs).toHaveLength(10);
        expect(result.experts).toHaveLength(2);
        const digitHotkeys = new Set(manifests.filter((m) => m.task === "digits").map((m) => m.hotkey));
        for (const e of result.experts) expect(digitHotkeys.has(e.hotkey)).toBe(true);
        // The gateway's receipt (signed with the linked gateway secret) verifies. (Capture is the settler's once the
        // settle queue lands: functions/settler/lambda.handler would then be bundled and fed here too.)
        const verdict = await client.verifyReceipt(result.receipt, result.output);
        expect(verdict.ok && verdict.data.valid).toBe(true);
      },
      180_000,
    );

    it.skipIf(!startDevnetRpc)(
      `the validator bundle, on scheduler events, scores the experts through the worker and sets weights${needsRpc}`,
      async () => {
        const v = await host("validator", VALIDATOR, {
          ...chainValues(),
          MARKET_VALIDATOR_MNEMONIC: DEMO_VALIDATOR_URI,
        });
        let last: { epoch: number; skipped?: string; status?: string } | undefined;
        // A run between two epochs has nothing to do (it says why); the schedule simply fires again.
        for (let attempt = 0; attempt < 4 && last?.status !== "accepted"; attempt++) {
          const run: { epoch: number; skipped?: string; status?: string } = await v.invoke(SCHEDULER_EVENT, 300_000);
          last = run;
          if (run.status !== "accepted") await new Promise((r) => setTimeout(r, 2_000));
        }
        expect(last?.status, v.logs().slice(-4000)).toBe("accepted");
        const metagraph = await chain?.chain.metagraph(chain.netuid);
        const vUid = metagraph?.hotkeys.indexOf(validator().address) ?? -1;
        const row = new Map(metagraph?.weights[vUid] ?? []);
        const uidOf = (id: string) =>
          metagraph?.hotkeys.indexOf(manifests.find((m) => m.id === id)?.hotkey ?? "") ?? -1;
        expect(row.get(uidOf("spec04")) ?? 0).toBeGreaterThan(0);
        expect(row.get(uidOf("adversarial")) ?? 0).toBe(0);
      },
      600_000,
    );
  });

  it("the published directory is what the functions read (no expert file is bundled)", async () => {
    const doc = await readDirectory(store);
    expect(doc?.experts.map((e) => e.id).sort()).toEqual(manifests.map((m) => m.id).sort());
    for (const e of doc?.experts ?? []) expect(e).not.toHaveProperty("hotkeyUri");
  });
});
