import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { verifyEpistulaBytes } from "../../../core/epistula/epistula.ts";
import { epistulaFromHeaders } from "../../../core/epistula/headers.ts";
import { formatSpecText } from "../../../core/experts/contract-text.ts";
import type { ApiDeps, MinerDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { registerModelUploadRoutes } from "./model-uploads.ts";

/** Upload route path; exempt from the API's JSON body limit (it has its own, MARKET_MODEL_MAX_BYTES). */
export const MODELS_PATH = "/v1/models";

/**
 * An upload is signed when it starts; a large model may take a while to arrive, so the window is wider than
 * Epistula's 8 s. A replay is harmless: the store is content-addressed and the upload changes nothing else.
 */
const UPLOAD_MAX_AGE_MS = 120_000;

const TaskQuery = z.object({ task: z.string().min(1).max(64) });
const HotkeyParam = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{40,60}$/);

/**
 * `POST /v1/models?task=T` (application/octet-stream, Epistula-signed by a registered hotkey): the model's bytes,
 * checked against the task's tensor contract in a throw-away process (load only) and stored by sha256. The order
 * puts the cheap refusals first: task, declared size (before reading a byte of the body), headers, registration;
 * then the body (bounded while read), its signature, and the contract.
 * `GET /v1/miners/{hotkey}`: a miner's public status (uid, committed and served model, scores, weight, emission).
 */
export function registerMinerRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps): void {
  const miners = deps.miners;
  if (miners === undefined) return;
  app.post(
    MODELS_PATH,
    async (c, next) => {
      const query = TaskQuery.safeParse({ task: c.req.query("task") });
      if (!query.success) throw new ApiError("invalid_request", "the task query parameter is required (?task=digits)");
      const contract = miners.contractOf(query.data.task);
      if (contract === undefined)
        throw new ApiError("invalid_request", `task ${query.data.task} takes no model uploads`);
      const declared = c.req.header("content-length");
      if (declared === undefined || !/^\d{1,12}$/.test(declared)) {
        throw new ApiError("invalid_request", "send the model with a Content-Length header");
      }
      if (Number(declared) > miners.maxModelBytes) {
        throw new ApiError("payload_too_large", `the model exceeds ${miners.maxModelBytes} bytes`);
      }
      if (Number(declared) === 0) throw new ApiError("invalid_request", "the body is empty: send the .onnx file");
      await next();
    },
    bodyLimit({
      maxSize: miners.maxModelBytes,
      onError: () => {
        throw new ApiError("payload_too_large", `the model exceeds ${miners.maxModelBytes} bytes`);
      },
    }),
    async (c) => {
      const task = c.req.query("task") ?? "";
      const contract = miners.contractOf(task);
      if (contract === undefined) throw new ApiError("invalid_request", `task ${task} takes no model uploads`);
      const sig = epistulaFromHeaders((name) => c.req.header(name));
      if (sig === null) {
        throw new ApiError("unauthorized", "sign the upload with your hotkey (Epistula v2 headers)");
      }
      const uid = await miners.uidOf(sig.signedBy);
      if (uid === null) {
        throw new ApiError("not_registered", `hotkey ${sig.signedBy} is not registered on the subnet: register first`);
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      // Where no HTTP parser holds the body to its declared length (an in-process request, a proxy), check again.
      if (bytes.length > miners.maxModelBytes) {
        throw new ApiError("payload_too_large", `the model exceeds ${miners.maxModelBytes} bytes`);
      }
      if (bytes.length !== Number(c.req.header("content-length"))) {
        throw new ApiError("invalid_request", "the body's length differs from its Content-Length");
      }
      const verdict = verifyEpistulaBytes(deps.verifier, bytes, sig, {
        now: deps.clock.now(),
        maxAgeMs: UPLOAD_MAX_AGE_MS,
      });
      if (!verdict.ok)
        throw new ApiError("bad_signature", `the upload's signature does not verify (${verdict.reason})`);
      const check = await miners.checkModel(bytes, contract);
      if (!check.ok) {
        throw new ApiError(
          "model_contract",
          `${check.detail}. Task ${task} expects ${formatSpecText(contract)}`.slice(0, 900),
        );
      }
      const sha256 = await miners.store.put(bytes);
      deps.logger.info("model uploaded", { task, sha256, size: bytes.length, hotkey: sig.signedBy, uid });
      return c.json({ task, sha256, size: bytes.length, hotkey: sig.signedBy, uid }, 201);
    },
  );

  registerModelUploadRoutes(app, deps, miners);

  app.get("/v1/miners/:hotkey", async (c) => {
    const hotkey = HotkeyParam.safeParse(c.req.param("hotkey"));
    if (!hotkey.success) throw new ApiError("invalid_request", "not an ss58 address");
    const status = await minerStatus(miners, hotkey.data);
    if (status === null) throw new ApiError("not_found", `hotkey ${hotkey.data} is not registered on the subnet`);
    return c.json(status, 200);
  });
}

async function minerStatus(miners: MinerDeps, hotkey: string) {
  return miners.status(hotkey);
}
