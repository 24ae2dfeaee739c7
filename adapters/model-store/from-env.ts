import { z } from "zod";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { ModelUploads } from "../../core/ports/model-uploads.ts";
import { createS3Client } from "../aws/clients.ts";
import { FolderModelStore } from "./folder.ts";
import { S3ModelStore } from "./s3.ts";
import { S3ModelUploads } from "./s3-uploads.ts";

// S3 bucket naming rules (the part a typo would break); the folder is any non-empty path.
const StoreEnv = z.object({
  MARKET_MODEL_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "not an S3 bucket name")
    .optional(),
  MARKET_MODEL_STORE_DIR: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
});

/**
 * The model store the environment names: the S3 bucket MARKET_MODEL_BUCKET (the cloud; endpoint, region and
 * credentials from the standard AWS settings), else the folder MARKET_MODEL_STORE_DIR, else null.
 */
export function modelStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ModelStore | null {
  const { bucket, dir, region } = storeEnv(env);
  if (bucket) return new S3ModelStore(createS3Client(region ? { region } : {}, env), bucket);
  if (dir) return new FolderModelStore(dir);
  return null;
}

/**
 * Presigned model uploads beside the S3 model store (the cloud API: Lambda cannot take a model's bytes), or null
 * where the store is a folder (the API then takes the bytes itself, POST /v1/models).
 */
export function modelUploadsFromEnv(env: NodeJS.ProcessEnv = process.env): ModelUploads | null {
  const { bucket, region } = storeEnv(env);
  return bucket ? new S3ModelUploads(createS3Client(region ? { region } : {}, env), bucket) : null;
}

function storeEnv(env: NodeJS.ProcessEnv) {
  const parsed = StoreEnv.safeParse(
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v?.trim() === "" ? undefined : v?.trim()])),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join(".") ?? "model store"}: ${issue?.message ?? "invalid"}`);
  }
  const { MARKET_MODEL_BUCKET: bucket, MARKET_MODEL_STORE_DIR: dir, AWS_REGION: region } = parsed.data;
  return { bucket, dir, region };
}
