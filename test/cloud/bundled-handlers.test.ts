/**
 * The deployed stack, run on this machine as close to `sst deploy` as it gets without AWS:
 * - the stack is evaluated from `sst.config.ts` + `infra/` (test/cloud/stack.ts) for a stage whose config file
 *   points at the devnet, and every handler is built from what infra declares for it (handler path, copyFiles) the
 *   way SST's Node builder builds it (sst-bundle.ts), into an empty folder, and run from there as Lambda runs it
 *   (lambda-host.ts) with exactly the environment infra declares: nothing is hand-written beside infra, so the two
 *   cannot drift. Only AWS's endpoints are added on top.
 * - secrets arrive as deployed: the functions read the SSM parameters named by MARKET_SECRET_PARAMETERS through
 *   @aws-sdk/client-ssm, and the worker's hotkeys are resolved from SSM the way the ECS agent resolves the task
 *   definition's `secrets`.
 * - every AWS call goes through aws-front.ts with the principal's own credentials and is checked against the IAM
 *   statements infra gives that principal (a missing grant is an AccessDenied, as on AWS), then served by fauxqs
 *   (SQS, S3), dynalite (DynamoDB) or the SSM endpoint holding infra's parameters.
 * - the chain is the devnet served over Substrate JSON-RPC (adapters/chain/devnet/rpc): the functions reach it with
 *   the subtensor adapter over WebSocket at the stage's `chainUrl`, as they would reach a Bittensor node.
 * - the GPU worker runs from the image's file layout (gpu-workers/Dockerfile) with the task definition's
 *   environment, and takes its experts from the model store the operator published to.
 * - the settler is fed by an event source mapping stand-in: SQS events received from the settle queue with the
 *   settler's own role, failures reported per item left for redelivery.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mnemonicGenerate } from "@polkadot/util-crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
  createSqsClient,
  emulatorClientOptions,
} from "../../adapters/aws/clients.ts";
import { startDevnetRpc } from "../../adapters/chain/devnet/rpc/index.ts";
import { KeyFile } from "../../adapters/identity/keyfile.ts";
import { identityReady, signerFromUri } from "../../adapters/identity/sr25519.ts";
import { silentLogger } from "../../adapters/log/logger.ts";
import { publishExperts, readDirectory } from "../../adapters/model-store/directory.ts";
import { S3ModelStore } from "../../adapters/model-store/s3.ts";
import { ensureQueues } from "../../adapters/queue/ensure.ts";
import { mediaDecoders } from "../../adapters/runtime/decoders.ts";
import { mlpToOnnx } from "../../adapters/runtime/onnx-writer.ts";
import { loadValidationSources } from "../../adapters/runtime/validation-sources.ts";
import { ensureTables } from "../../adapters/tables/ensure.ts";
import { DynamoLedger } from "../../adapters/tables/ledger.ts";
import { DynamoScoreStore } from "../../adapters/tables/scores.ts";
import { ensureExperts, expertsDir } from "../../cli/experts.ts";
import { readManifestModel } from "../../cli/experts-publish.ts";
import { run as miner } from "../../cli/miner.ts";
import { uploadModel } from "../../cli/miner-upload.ts";
import { loadWallet } from "../../cli/wallets.ts";
import { createMarketClient } from "../../client/client.ts";
import { parseConfig } from "../../core/config/schema.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { initMlp, roundToFloat32 } from "../../core/experts/train/mlp.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import type { FollowReport } from "../../functions/directory/follow.ts";
import { seedDigitRouter } from "../../functions/validator/seed-router.ts";
import { waitFor } from "../../gpu-workers/testing/jobs.ts";
import { LEDGER_TABLE, physicalName, QUEUES, SCORES_TABLE, SETTLE_QUEUE, TABLES } from "../../infra/definitions.ts";
import { type Emulators, startEmulators } from "../../stacks/ephemeral/emulators.ts";
import { sharedExperts } from "../../stacks/ephemeral/experts-cache.ts";
import { type ChainPart, startChain } from "../../stacks/parts/chain.ts";
import { type AwsFront, startAwsFront } from "./aws-front.ts";
import {
  functionUrlEvent,
  type LambdaHost,
  SCHEDULER_EVENT,
  serveFunctionUrl,
  startLambdaHost,
} from "./lambda-host.ts";
import { buildLikeSst } from "./sst-bundle.ts";
import {
  type Evaluated,
  evaluateStack,
  functionSpec,
  functionStatements,
  roleByArn,
  secretParameters,
  statementsOfRole,
  workerContainer,
} from "./stack.ts";
import { parseDockerfile, type RunningImage, readDockerfile, runImage, stageImage } from "./worker-image.ts";

const REPO = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const STAGE = "cloudtest";
/** The stage's price of a digit answer (core's default is 1000): what a query then costs proves it reached the API. */
const DIGIT_PRICE = 1500;

/** The Lambda functions infra declares, by their SST names. */
const FUNCTIONS = ["Api", "Validator", "HoldSweeper", "SettleSubscriber", "DirectoryFollower"] as const;
type FunctionName = (typeof FUNCTIONS)[number];

describe("the deployed stack, bundled as SST does and run as Lambda and ECS do", () => {
  const adminToken = `admin-${randomUUID()}`;
  // Fresh mnemonics, as an operator's: against a chain URL the functions refuse the demo keys anyone can derive.
  let gatewayMnemonic: string;
  let servingKeyMnemonic: string;
  let validatorMnemonic: string;
  const validator = () => signerFromUri(validatorMnemonic);
  let work: string;
  let emulators: Emulators;
  let chain: ChainPart;
  let rpc: { url: string; close(): Promise<void> };
  let stack: Evaluated;
  let front: AwsFront;
  let prefix: string;
  let bucket: string;
  let store: S3ModelStore;
  let manifests: ExpertManifest[];
  let secretValues: string[];
  let worker: RunningImage | undefined;
  let workerPort = 0;
  const hosts: LambdaHost[] = [];
  const bundles = new Map<FunctionName, Promise<{ dir: string; handler: string }>>();

  /** What Lambda and ECS give a principal: its role's credentials (its own key here) and the region; AWS is `front`. */
  const awsEnv = (principal: string): Record<string, string> => ({
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: principal,
    AWS_SECRET_ACCESS_KEY: "role-secret",
    AWS_SESSION_TOKEN: "role-session",
    AWS_ENDPOINT_URL_SQS: front.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: front.endpoint,
    AWS_ENDPOINT_URL_S3: front.endpoint,
    AWS_ENDPOINT_URL_SSM: front.endpoint,
  });
  const operator = () => emulatorClientOptions(emulators.sqsEndpoint);

  /** Built once per function, from infra's handler and copyFiles; nothing of the repository is there but those. */
  const bundle = (name: FunctionName) => {
    let built = bundles.get(name);
    if (!built) {
      built = (async () => {
        const spec = functionSpec(stack.graph, name);
        const dir = join(work, "functions", name);
        const out = await buildLikeSst({
          handler: spec.handler,
          repoRoot: REPO,
          outDir: dir,
          copyFiles: spec.copyFiles,
        });
        const top = (await readdir(dir)).sort();
        const copied = spec.copyFiles.map((c) => (c.to ?? c.from).split("/")[0] ?? "");
        expect(top).toEqual(["bundle.mjs", ...new Set(copied)].sort());
        return { dir, handler: `bundle.${out.exportName}` };
      })();
      bundles.set(name, built);
    }
    return built;
  };

  /**
   * A cold container of `name` with infra's environment (`override` only to point at an unreachable chain) and
   * infra's timeout (`timeoutMs` only to make the directory follower's minute-long invocations shorter).
   */
  const host = async (name: FunctionName, override: Record<string, string> = {}, timeoutMs?: number) => {
    const spec = functionSpec(stack.graph, name);
    expect(spec.runtime).toBe("nodejs22.x");
    const { dir, handler } = await bundle(name);
    const env = { ...awsEnv(name), ...spec.environment, ...override };
    // Secrets are never in a function's environment: only parameter names are.
    for (const value of secretValues) expect(JSON.stringify(env)).not.toContain(value);
    const h = await startLambdaHost({
      taskRoot: dir,
      handler,
      functionName: `intelligence-market-${STAGE}-${name}`,
      env,
      timeoutMs: timeoutMs ?? spec.timeoutMs,
    });
    hosts.push(h);
    return h;
  };

  beforeAll(async () => {
    await identityReady();
    gatewayMnemonic = mnemonicGenerate(12);
    validatorMnemonic = mnemonicGenerate(12);
    // The GPU workers' serving key (MarketWorkerServingKey): it signs every answer; its address is the stage's
    // `workerKeys`. No miner's hotkey secret exists anywhere in the deployment (issue 15).
    servingKeyMnemonic = mnemonicGenerate(12);
    work = await mkdtemp(join(tmpdir(), "market-cloud-"));
    emulators = await startEmulators();
    // The shared test experts (built once per machine, per build version: test/global-setup.ts).
    manifests = await ensureExperts(await sharedExperts(), () => {});

    // The chain: the demo subnet (this validator with a permit, every expert registered under its hotkey), served
    // over JSON-RPC with mainnet's metadata, as a Bittensor node would serve it.
    chain = await startChain({
      config: parseConfig({
        MARKET_BLOCK_MS: "100",
        MARKET_TEMPO: "20",
        MARKET_DEVNET_RPC_PORT: "0",
        MARKET_VALIDATOR_MNEMONIC: validatorMnemonic,
        MARKET_GATEWAY_MNEMONIC: gatewayMnemonic,
      }),
      dataDir: null,
      manifests,
      blocks: "timer",
      log: silentLogger,
    });
    if (!chain.devnet) throw new Error("the chain part runs a devnet");
    rpc = await startDevnetRpc({ devnet: chain.devnet, host: "127.0.0.1", port: 0 });

    // The stack for a stage whose config file (deploy/stages/<stage>.json) names this chain, subnet and validator.
    stack = await evaluateStack(STAGE, {
      netuid: chain.netuid,
      chainUrl: rpc.url,
      validatorHotkey: validator().address,
      workerKeys: [signerFromUri(servingKeyMnemonic).address],
      // Workers run paid jobs on the query facts the gateway signs, with no read of the request (issue 17).
      gatewayHotkey: signerFromUri(gatewayMnemonic).address,
      gpu: { enabled: true },
      prices: { digits: DIGIT_PRICE },
    });
    vi.unstubAllEnvs();
    const api = functionSpec(stack.graph, "Api").environment;
    prefix = api.MARKET_RESOURCE_PREFIX ?? "";
    bucket = api.MARKET_MODEL_BUCKET ?? "";
    expect(prefix).toBe(`intelligence-market-${STAGE}-`);
    // The API, the settler and the validator trust exactly the workers' serving key, from the stage config.
    for (const name of ["Api", "SettleSubscriber", "Validator"] as const)
      expect(functionSpec(stack.graph, name).environment.MARKET_WORKER_KEYS, name).toBe(
        signerFromUri(servingKeyMnemonic).address,
      );

    // What `sst deploy` creates: the tables, the queues with their dead-letter queues, the model bucket (same
    // physical names, from the same definitions).
    const sqs = createSqsClient(operator());
    const dynamo = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
    await ensureTables(dynamo, prefix, TABLES);
    await ensureQueues(sqs, prefix, QUEUES);
    const s3 = createS3Client(operator());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    sqs.destroy();
    // The build gate as the first digit router, as a market does at boot (stacks/market.ts): its stored losses of the
    // published experts on the 2,000 router digits spare the validator's first epoch asking each of them again
    // (16,000 jobs, most of that epoch's time; a newcomer's bootstrap through the queue stays covered by
    // test/e2e-router.test.ts).
    const sources = await loadValidationSources();
    const doc = createDynamoDocumentClient(dynamo);
    const seeded = await seedDigitRouter({
      scores: new DynamoScoreStore(doc, physicalName(prefix, SCORES_TABLE.name)),
      expertsDir: expertsDir(await sharedExperts()),
      registry: createTaskRegistry(mediaDecoders),
      sources,
      metagraph: async () => chain.chain.metagraph(chain.netuid),
      now: Date.now(),
    });
    expect(seeded).toBe("seeded");
    doc.destroy();
    dynamo.destroy();

    // The operator's step (`npm run market -- experts publish`), with the operator's own credentials.
    store = new S3ModelStore(s3, bucket);
    await publishExperts(store, manifests, readManifestModel);

    // `sst secret set` for each secret infra declares; the deploy copies each into its SSM parameter.
    const set: Record<string, string> = {
      MarketAdminToken: adminToken,
      MarketGatewayMnemonic: gatewayMnemonic,
      MarketValidatorMnemonic: validatorMnemonic,
      MarketWorkerServingKey: servingKeyMnemonic,
    };
    const parameters: Record<string, string> = {};
    for (const p of secretParameters(stack.graph)) {
      const value = set[p.secret];
      if (value === undefined) throw new Error(`infra declares secret ${p.secret}, which this test does not set`);
      parameters[p.name] = value;
    }
    secretValues = [adminToken, gatewayMnemonic, validatorMnemonic, servingKeyMnemonic];
    front = await startAwsFront({
      sqsAndS3: emulators.sqsEndpoint,
      dynamodb: emulators.dynamoEndpoint,
      parameters,
    });
    for (const name of FUNCTIONS) front.grant(name, functionStatements(stack.graph, name));
    const task = stack.graph.one("aws:ecs:TaskDefinition", "GpuWorkerTask");
    front.grant("GpuTaskRole", statementsOfRole(roleByArn(stack.graph, task.args.taskRoleArn)));
    front.grant("GpuTaskExecutionRole", statementsOfRole(roleByArn(stack.graph, task.args.executionRoleArn)));

    // The worker, from the image's layout, with the task definition's environment and its ECS secrets, resolved
    // as the ECS agent does: from SSM, with the task's execution role.
    const container = workerContainer(stack.graph);
    const ssm = new SSMClient({
      endpoint: front.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "GpuTaskExecutionRole", secretAccessKey: "x" },
    });
    const injected: Record<string, string> = {};
    for (const secret of container.secrets) {
      const name = `/${secret.valueFrom.split(":parameter/")[1] ?? ""}`;
      const out = await ssm.send(new GetParametersCommand({ Names: [name], WithDecryption: true }));
      const value = out.Parameters?.[0]?.Value;
      if (value === undefined) throw new Error(`the ECS agent could not read ${secret.valueFrom}`);
      injected[secret.name] = value;
    }
    // The ECS agent injects the serving key and nothing else: no miner's hotkey secret reaches the worker.
    expect(Object.keys(injected)).toEqual(["WORKER_SERVING_KEY_URI"]);
    expect(injected.WORKER_SERVING_KEY_URI).toBe(servingKeyMnemonic);
    expect(container.environment.map((e) => e.name)).not.toContain("WORKER_HOTKEY_URIS");
    ssm.destroy();
    const dockerfile = await readDockerfile(REPO);
    const layout = parseDockerfile(dockerfile);
    const app = join(work, "image", layout.workdir.replace(/^\//, ""));
    await stageImage(REPO, app, layout, dockerfile);
    expect(existsSync(join(app, "cli"))).toBe(false);
    expect(existsSync(join(app, "functions"))).toBe(false);
    worker = runImage(app, layout, {
      ...layout.env,
      ...Object.fromEntries(container.environment.map((e) => [e.name, e.value])),
      ...injected,
      ...awsEnv("GpuTaskRole"),
      // The task's /data volume, and a free status port instead of 9100 (other tests share this machine).
      MARKET_DATA_DIR: join(work, "volume"),
      WORKER_METRICS_PORT: "0",
      HOME: join(work, "home"),
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    });
    workerPort = await worker.port();
  }, 180_000);

  afterAll(async () => {
    for (const h of hosts) await h.stop();
    await worker?.stop();
    await rpc?.close();
    await chain?.stop();
    await front?.stop();
    await emulators?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${workerPort}/health`);
    return (await res.json()) as { status: string; experts: { id: string }[] };
  };

  it("the worker image serves the published experts from the bucket and follows a new directory", async () => {
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

    // The operator drops an expert from the directory: the running worker stops serving it, without a restart.
    const pid = worker?.child.pid;
    await publishExperts(
      store,
      manifests.filter((m) => m.id !== "noise"),
      readManifestModel,
    );
    await waitFor("the worker to drop noise", async () => !(await health()).experts.some((e) => e.id === "noise"));
    await publishExperts(store, manifests, readManifestModel);
    await waitFor("the worker to serve noise again", async () =>
      (await health()).experts.some((e) => e.id === "noise"),
    );
    expect(worker?.child.pid).toBe(pid);
    expect(worker?.child.exitCode).toBeNull();
  }, 120_000);

  it("the sweeper bundle releases an expired hold on a scheduler event", async () => {
    const sweeper = await host("HoldSweeper");
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
    expect((await ledger.getHold({ accountId: account, holdId }))?.status).toBe("released");
    expect((await ledger.getAccount(account))?.balance).toBe(1000);
    doc.destroy();
  }, 60_000);

  it("the API bundle sells a key and answers paid digit queries through the worker; the settler bundle captures an async one without a poll", async () => {
    const api = await host("Api");
    const settler = await host("SettleSubscriber");
    const source = startSettleEventSource(settler);
    try {
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
      const baseUrl = "https://abc123.lambda-url.us-east-1.on.aws";
      // The dashboard's Vite build travels in the bundle (infra/api.ts copyFiles) and the page renders from AWS's parts.
      const script = await lambdaFetch(`${baseUrl}/assets/dashboard.js`, { method: "GET" });
      expect(script.status, api.logs()).toBe(200);
      expect(script.headers.get("content-type")).toContain("javascript");
      const page = await lambdaFetch(`${baseUrl}/`, { method: "GET" });
      expect(page.status, api.logs()).toBe(200);
      expect(await page.text()).toContain('id="metagraph-table"');
      // The admin token the API read from its SSM parameter.
      const admin = createMarketClient({ baseUrl, adminToken, fetch: lambdaFetch });
      const created = await admin.createKey({ name: "cloud", credits: 50_000 });
      if (!created.ok)
        throw new Error(`createKey: ${created.status} ${JSON.stringify(created.problem)}\n${api.logs()}`);
      const client = createMarketClient({ baseUrl, apiKey: created.data.key, fetch: lambdaFetch });
      const pixels = new Array<number>(784).fill(0);
      for (let r = 4; r < 24; r++) pixels[r * 28 + 13] = 1;
      const digitHotkeys = new Set(manifests.filter((m) => m.task === "digits").map((m) => m.hotkey));

      // 1. A synchronous query: answered by two digit experts on the worker, with a receipt the gateway signed.
      const answer = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 20 });
      if (!answer.ok) throw new Error(`infer: ${answer.status} ${JSON.stringify(answer.problem)}\n${api.logs()}`);
      if (answer.data.status !== "succeeded") throw new Error(`infer did not succeed: ${JSON.stringify(answer.data)}`);
      const result = answer.data;
      expect((result.output as { probs: number[] }).probs).toHaveLength(10);
      expect(result.experts).toHaveLength(2);
      expect(result.cost).toBe(2 * DIGIT_PRICE);
      for (const e of result.experts) expect(digitHotkeys.has(e.hotkey)).toBe(true);
      // The worker has the stage's gateway address (WORKER_GATEWAY_ADDRESS): its answers are signed for it.
      expect(result.experts.map((e) => e.signedFor)).toEqual([0, 1].map(() => signerFromUri(gatewayMnemonic).address));
      const verdict = await client.verifyReceipt(result.receipt, result.output);
      expect(verdict.ok && verdict.data.valid).toBe(true);

      // 2. `Prefer: respond-async`: the client goes away. The workers' settle notices reach the settler through
      // the settle queue and it captures the charge; nobody polls the API meanwhile.
      const accepted = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 0 });
      if (!accepted.ok) throw new Error(`infer async: ${accepted.status} ${JSON.stringify(accepted.problem)}`);
      expect(accepted.status).toBe(202);
      const requestId = accepted.data.id;
      const doc = createDynamoDocumentClient(createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint)));
      const ledger = new DynamoLedger({ db: doc, table: physicalName(prefix, LEDGER_TABLE.name) });
      const captured = await waitFor(
        "the settler to capture the async query",
        async () => {
          const hold = await ledger.getHold({ accountId: created.data.accountId, holdId: requestId });
          return hold?.status === "captured" && hold;
        },
        30_000,
        100,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- settler ---\n${settler.logs().slice(-3000)}`);
      });
      expect(captured.captureAmount).toBe(2 * DIGIT_PRICE);
      expect(source.settled()).toBeGreaterThan(0);
      doc.destroy();
      // The client comes back later: the settled answer, with a receipt that verifies.
      const later = await client.job(requestId);
      if (!later.ok) throw new Error(`job: ${later.status} ${JSON.stringify(later.problem)}`);
      expect(later.data.status).toBe("succeeded");
      expect(later.data.experts?.every((e) => digitHotkeys.has(e.hotkey))).toBe(true);
      const laterVerdict = await client.verifyReceipt(later.data.receipt, later.data.output);
      expect(laterVerdict.ok && laterVerdict.data.valid).toBe(true);
      // Both queries are on the account: 2 answers each.
      const usage = await client.usage();
      expect(usage.ok && usage.data.spent).toBeGreaterThan(0);
    } finally {
      await source.stop();
    }
    expect(source.errors()).toEqual([]);
    expect(front.denials).toEqual([]);
  }, 180_000);

  it("the validator bundle, on scheduler events, scores the experts through the worker and sets weights on the chain over WebSocket", async () => {
    const v = await host("Validator");
    let last: { epoch: number; skipped?: string; status?: string } | undefined;
    // A run between two epochs has nothing to do (it says why); the schedule simply fires again.
    for (let attempt = 0; attempt < 4 && last?.status !== "accepted"; attempt++) {
      last = await v.invoke<{ epoch: number; skipped?: string; status?: string }>(SCHEDULER_EVENT, 300_000);
      if (last.status !== "accepted") await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(last?.status, v.logs().slice(-4000)).toBe("accepted");
    // The chain's own state (the devnet, not the function's report): the validator's row of weights.
    const metagraph = chain.devnet?.metagraph(chain.netuid);
    const vUid = metagraph?.hotkeys.indexOf(validator().address) ?? -1;
    expect(vUid).toBeGreaterThanOrEqual(0);
    const row = new Map(metagraph?.weights[vUid] ?? []);
    const uidOf = (id: string) => metagraph?.hotkeys.indexOf(manifests.find((m) => m.id === id)?.hotkey ?? "") ?? -1;
    expect(row.get(uidOf("spec04")) ?? 0).toBeGreaterThan(0);
    expect(row.get(uidOf("adversarial")) ?? 0).toBe(0);
    // The next tick in the same epoch does nothing.
    const again = await v.invoke<{ epoch: number; skipped?: string }>(SCHEDULER_EVENT, 60_000);
    if (again.epoch === last?.epoch) expect(again.skipped).toBe("weights already submitted this epoch");
    expect(front.denials).toEqual([]);
  }, 600_000);

  it("a fresh miner uploads through the API bundle and commits over RPC; the directory follower bundle publishes its model within 10 s, and drops it on retirement", async () => {
    const follower = await host("DirectoryFollower", {}, 20_000);
    const api = await host("Api");
    const functionUrl = await serveFunctionUrl(api, 90_000);
    const wallets = await mkdtemp(join(work, "wallets-"));
    // The miner's CLI as a miner runs it: the market's URL (the API bundle behind its function URL), the chain's RPC
    // endpoint over WebSocket. The presigned PUT goes to the S3 endpoint the API signed for: the IAM-checking front.
    const cli = async <T>(args: string[]): Promise<T> => {
      let out = "";
      let err = "";
      const code = await miner([...args, "--wallet", "cloud-miner", "--json"], {
        env: {
          MARKET_URL: functionUrl.url,
          MARKET_WALLET_DIR: wallets,
          MARKET_CHAIN_URL: rpc.url,
          MARKET_NETUID: String(chain.netuid),
        },
        out: (t) => {
          out += t;
        },
        err: (t) => {
          err += t;
        },
        stdin: async () => "",
      });
      if (code !== 0) throw new Error(`miner ${args.join(" ")}: ${err}\n--- api ---\n${api.logs().slice(-3000)}`);
      return JSON.parse(out) as T;
    };
    // The schedule: one invocation after another (reserved concurrency 1), each following until shortly before its
    // timeout (20 s here instead of infra's 70 s, so one test sees several invocations connect and close).
    const reports: FollowReport[] = [];
    let following = true;
    const schedule = (async () => {
      while (following) reports.push(await follower.invoke<FollowReport>(SCHEDULER_EVENT, 40_000));
    })();
    let scheduleError: unknown = null;
    schedule.catch((error: unknown) => {
      scheduleError = error;
    });
    const published = async () => (await readDirectory(store))?.experts ?? [];
    try {
      const wallet = await cli<{ hotkey: string }>(["wallet", "create"]);
      const registered = await cli<{ uid: number }>(["register", "--max-price", "0"]);
      const model = join(work, "cloud-miner.onnx");
      await writeFile(model, mlpToOnnx(roundToFloat32(initMlp([784, 16, 10], mulberry32(15)))));
      const committed = await cli<{ sha256: string; uid: number; block: number }>([
        "commit",
        "--task",
        "digits",
        "--model",
        model,
      ]);
      expect(committed.uid).toBe(registered.uid);
      // Stored by digest through the API's confirm, with the API's own role: the miner's PUT acted with the
      // authority of the API that presigned it, and the confirm wrote the model in one conditional PUT (no read of
      // models/, which the API may not do).
      expect(await store.has(committed.sha256)).toBe(true);
      const object = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
      expect(front.allowed).toContain(`Api s3:PutObject ${object(`uploads/${committed.sha256}.onnx`)}`);
      expect(front.allowed).toContain(`Api s3:PutObject ${object(`models/${committed.sha256}.onnx`)}`);
      // Issue 15: served within 10 s of the commitment. The follower, the only writer, publishes it (the workers and
      // the API re-read the directory every 2 s: infra/directory.ts has the whole budget).
      const entry = await waitFor(
        "the follower to publish the committed model",
        async () => (await published()).find((e) => e.hotkey === wallet.hotkey),
        10_000,
        100,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- follower ---\n${follower.logs().slice(-3000)}`);
      });
      expect(entry).toMatchObject({
        id: `miner-${registered.uid}`,
        task: "digits",
        model: { sha256: committed.sha256 },
      });
      // The operator's published experts (registered, nothing committed) stay, and the first committer is recorded.
      expect((await published()).map((e) => e.hotkey)).toContain(manifests.find((m) => m.id === "spec04")?.hotkey);
      const doc = await readDirectory(store);
      expect(doc?.firstCommitters).toContainEqual(
        expect.objectContaining({ sha256: committed.sha256, uid: registered.uid }),
      );

      // Other bytes than the ones presigned: the store refuses the PUT (BadDigest) and nothing is stored.
      const signer = (await loadWallet(wallets, "cloud-miner")).hotkey;
      const other = new Uint8Array(mlpToOnnx(roundToFloat32(initMlp([784, 16, 10], mulberry32(16)))));
      const tampering = (url: string, init: RequestInit) => {
        if (init.method !== "PUT") return fetch(url, init);
        const bytes = new Uint8Array(init.body as Uint8Array);
        bytes[100] = (bytes[100] ?? 0) ^ 1;
        return fetch(url, { ...init, body: bytes });
      };
      await expect(uploadModel(tampering, functionUrl.url, signer, "digits", other)).rejects.toThrow(
        /upload refused by the store: 400 .*BadDigest/,
      );
      expect(front.badDigests).toEqual([expect.stringMatching(/\/uploads\/[0-9a-f]{64}\.onnx$/)]);
      const otherSha = createHash("sha256").update(other).digest("hex");
      expect(await store.has(otherSha)).toBe(false);

      // A retirement: the follower drops the model on a following block.
      await cli(["retire"]);
      await waitFor(
        "the follower to drop the retired model",
        async () => !(await published()).some((e) => e.hotkey === wallet.hotkey),
        10_000,
        100,
      );
    } finally {
      following = false;
      await schedule.catch(() => {});
      await functionUrl.close();
    }
    if (scheduleError !== null) throw scheduleError;
    // Every invocation connected, followed the chain block by block, closed its connection and returned: no refresh
    // failed, nothing was left to reject after (an unhandled rejection would end the container and the next invoke).
    expect(reports.length).toBeGreaterThanOrEqual(1);
    for (const r of reports) expect(r).toMatchObject({ failures: 0, blocks: expect.any(Number) });
    expect(reports.every((r) => r.blocks > 0)).toBe(true);
    // The follower alone wrote the directory, and learnt the model's size from its HEAD.
    const writers = [...front.allowed].filter((a) =>
      a.endsWith(` s3:PutObject arn:aws:s3:::${bucket}/directory/experts.json`),
    );
    expect(writers.map((a) => a.split(" ")[0])).toEqual(["DirectoryFollower"]);
    // The miner's secrets reached no function.
    for (const f of ["coldkey", "hotkeys/default"]) {
      const secret = KeyFile.parse(JSON.parse(await readFile(join(wallets, "cloud-miner", f), "utf8"))).secretUri;
      expect(follower.logs()).not.toContain(secret);
      expect(api.logs()).not.toContain(secret);
    }
    expect(front.denials).toEqual([]);
  }, 180_000);

  it("the API, validator and directory follower bundles fail fast when the chain is unreachable, after reading their secrets", async () => {
    const unreachable = "ws://127.0.0.1:9";
    for (const name of ["Api", "Validator", "DirectoryFollower"] as const) {
      const h = await host(name, { MARKET_CHAIN_URL: unreachable });
      const event = name === "Api" ? functionUrlEvent({ method: "GET", path: "/v1/tasks" }) : SCHEDULER_EVENT;
      await expect(h.invoke(event, 30_000)).rejects.toThrow(/failed/);
      expect(h.logs()).toContain(`disconnected from ${unreachable}`);
      expect(h.logs()).not.toMatch(/Cannot find module|ENOENT|ConfigError|AccessDenied/);
      await h.stop();
    }
  }, 60_000);

  it("every principal made its calls within its grants, and the published directory is what the functions read", async () => {
    expect(front.denials).toEqual([]);
    // The check is real: what a role does not allow is refused as AWS refuses it.
    const as = (principal: string) => ({
      endpoint: front.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: principal, secretAccessKey: "x" },
    });
    const apiSsm = new SSMClient(as("Api"));
    const validatorParameter = secretParameters(stack.graph).find((p) => p.secret === "MarketValidatorMnemonic");
    await expect(
      apiSsm.send(new GetParametersCommand({ Names: [validatorParameter?.name ?? ""], WithDecryption: true })),
    ).rejects.toThrow(/not authorized to perform: ssm:GetParameters/);
    apiSsm.destroy();
    const workerDb = createDynamoDocumentClient(createDynamoClient({ ...as("GpuTaskRole"), maxAttempts: 1 }));
    const workerLedger = new DynamoLedger({ db: workerDb, table: physicalName(prefix, LEDGER_TABLE.name) });
    await expect(workerLedger.getAccount("anyone")).rejects.toThrow(/not authorized to perform: dynamodb:GetItem/);
    workerDb.destroy();
    expect(front.denials.map((d) => `${d.principal} ${d.action}`)).toEqual([
      "Api ssm:GetParameters",
      "GpuTaskRole dynamodb:GetItem",
    ]);
    // Each function read its own secrets from SSM, and only those (checked per call by the front).
    const read = [...front.allowed].filter((a) => a.includes(" ssm:GetParameters ")).map((a) => a.split(" ")[0]);
    expect(new Set(read)).toEqual(new Set(["Api", "Validator", "SettleSubscriber", "GpuTaskExecutionRole"]));
    const doc = await readDirectory(store);
    expect(doc?.experts.map((e) => e.id).sort()).toEqual(manifests.map((m) => m.id).sort());
    for (const e of doc?.experts ?? []) expect(e).not.toHaveProperty("hotkeyUri");
  });

  /**
   * Lambda's SQS event source mapping for the settler, with the settler's role: long-polls the settle queue,
   * invokes the function with up to 10 records, deletes the records it did not report as failures (the rest
   * become visible again after the visibility timeout), as `partialResponses: true` asks.
   */
  function startSettleEventSource(settler: LambdaHost) {
    const sqs = createSqsClient({
      endpoint: front.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "SettleSubscriber", secretAccessKey: "x" },
    });
    let running = true;
    let settled = 0;
    const errors: string[] = [];
    const loop = (async () => {
      // The mapping knows its queue by ARN; the URL is the operator's lookup, not a call of the function's role.
      const admin = createSqsClient(operator());
      const { QueueUrl } = await admin.send(
        new GetQueueUrlCommand({ QueueName: physicalName(prefix, SETTLE_QUEUE.name) }),
      );
      admin.destroy();
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["VisibilityTimeout"] }));
      while (running) {
        const got = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
          }),
        );
        const messages = got.Messages ?? [];
        if (messages.length === 0) continue;
        const event = {
          Records: messages.map((m) => ({
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle,
            body: m.Body,
            attributes: m.Attributes ?? {},
            messageAttributes: {},
            md5OfBody: m.MD5OfBody,
            eventSource: "aws:sqs",
            eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${physicalName(prefix, SETTLE_QUEUE.name)}`,
            awsRegion: "us-east-1",
          })),
        };
        const out = await settler.invoke<{ batchItemFailures: { itemIdentifier: string }[] }>(event, 60_000);
        const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
        const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
        settled += done.length;
        if (done.length > 0)
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
      }
    })().catch((error: unknown) => {
      errors.push(String(error));
    });
    return {
      settled: () => settled,
      errors: () => errors,
      async stop() {
        running = false;
        await loop;
        sqs.destroy();
      },
    };
  }
});
