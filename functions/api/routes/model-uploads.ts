import { createHash } from "node:crypto";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { verifyEpistulaBytes } from "../../../core/epistula/epistula.ts";
import { epistulaFromHeaders } from "../../../core/epistula/headers.ts";
import { formatSpecText } from "../../../core/experts/contract-text.ts";
import { UploadTooLargeError } from "../../../core/ports/model-uploads.ts";
import type { ApiDeps, MinerDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError } from "../errors.ts";

/** Where the API cannot take a model's bytes itself (Lambda: 6 MB payloads), the miner PUTs them to a presigned URL. */
export const MODEL_UPLOADS_PATH = "/v1/models/uploads";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256");
const UploadRequest = z.object({ task: z.string().min(1).max(64), sha256: Sha256, size: z.number().int().positive() });
const ConfirmRequest = z.object({ task: z.string().min(1).max(64), sha256: Sha256 });

/**
 * `POST /v1/models/uploads` {task, sha256, size} (Epistula-signed by a registered hotkey): a presigned PUT bound to
 * that digest, size and hotkey, under the unconfirmed `uploads/` prefix. `POST /v1/models/uploads/{sha256}/confirm`
 * {task, sha256} (signed by the same hotkey): reads the upload, checks digest, size and the task's tensor contract
 * (graph only; the worker loads it before serving), stores it by sha256 in the ModelStore and drops the upload.
 * A refused confirm changes nothing: the model store is written only after every check passed.
 */
export function registerModelUploadRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, miners: MinerDeps): void {
  const uploads = miners.uploads;
  if (uploads === undefined) return;

  app.post(MODEL_UPLOADS_PATH, async (c) => {
    const { body, hotkey, uid } = await signedJson(c, deps, miners, UploadRequest);
    contractOf(miners, body.task);
    if (body.size > miners.maxModelBytes) {
      throw new ApiError("payload_too_large", `the model exceeds ${miners.maxModelBytes} bytes`);
    }
    const put = await uploads.presign(body.sha256, body.size, hotkey);
    deps.logger.info("model upload presigned", { task: body.task, sha256: body.sha256, size: body.size, hotkey, uid });
    return c.json({ ...body, upload: put, confirm: `${MODEL_UPLOADS_PATH}/${body.sha256}/confirm` }, 201);
  });

  app.post(`${MODEL_UPLOADS_PATH}/:sha256/confirm`, async (c) => {
    const { body, hotkey, uid } = await signedJson(c, deps, miners, ConfirmRequest);
    if (body.sha256 !== c.req.param("sha256")) {
      throw new ApiError("invalid_request", "the signed sha256 differs from the one in the path");
    }
    const contract = contractOf(miners, body.task);
    const pending = await uploads.read(body.sha256, miners.maxModelBytes).catch((error: unknown) => {
      if (error instanceof UploadTooLargeError) {
        throw new ApiError("payload_too_large", `the model exceeds ${miners.maxModelBytes} bytes`);
      }
      throw error;
    });
    if (pending === null || pending.owner !== hotkey) {
      throw new ApiError(
        "not_found",
        `no upload of ${body.sha256} by ${hotkey} waits: ask ${MODEL_UPLOADS_PATH} first`,
      );
    }
    const actual = createHash("sha256").update(pending.bytes).digest("hex");
    if (actual !== body.sha256) {
      throw new ApiError("invalid_request", `the uploaded bytes hash to ${actual}, not ${body.sha256}: upload again`);
    }
    const check = await miners.checkModel(pending.bytes, contract);
    if (!check.ok) {
      throw new ApiError(
        "model_contract",
        `${check.detail}. Task ${body.task} expects ${formatSpecText(contract)}`.slice(0, 900),
      );
    }
    const sha256 = await miners.store.put(pending.bytes);
    await uploads.discard(sha256);
    const size = pending.bytes.length;
    deps.logger.info("model upload confirmed", { task: body.task, sha256, size, hotkey, uid });
    return c.json({ task: body.task, sha256, size, hotkey, uid }, 201);
  });
}

function contractOf(miners: MinerDeps, task: string) {
  const contract = miners.contractOf(task);
  if (contract === undefined) throw new ApiError("invalid_request", `task ${task} takes no model uploads`);
  return contract;
}

/** The body parsed with `schema`, signed (Epistula, default 8 s window) by a hotkey registered on the subnet. */
async function signedJson<T>(c: Context<ApiEnv>, deps: ApiDeps, miners: MinerDeps, schema: z.ZodType<T>) {
  const sig = epistulaFromHeaders((name) => c.req.header(name));
  if (sig === null) throw new ApiError("unauthorized", "sign the request with your hotkey (Epistula v2 headers)");
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const verdict = verifyEpistulaBytes(deps.verifier, bytes, sig, { now: deps.clock.now() });
  if (!verdict.ok) throw new ApiError("bad_signature", `the request's signature does not verify (${verdict.reason})`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ApiError("invalid_request", "the body is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError("invalid_request", parsed.error.issues[0]?.message ?? "invalid body");
  const uid = await miners.uidOf(sig.signedBy);
  if (uid === null) {
    throw new ApiError("not_registered", `hotkey ${sig.signedBy} is not registered on the subnet: register first`);
  }
  return { body: parsed.data, hotkey: sig.signedBy, uid };
}
