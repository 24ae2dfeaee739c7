import { z } from "zod";
import type { ModelStore } from "../../core/ports/model-store.ts";
import { createS3Client } from "../aws/clients.ts";
import { FolderModelStore } from "./folder.ts";
import { S3ModelStore } from "./s3.ts";

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
  const parsed = StoreEnv.safeParse(
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v?.trim() === "" ? undefined : v?.trim()])),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue?.path.join(".") ?? "model store"}: ${issue?.message ?? "invalid"}`);
  }
  const { MARKET_MODEL_BUCKET: bucket, MARKET_MODEL_STORE_DIR: dir, AWS_REGION: region } = parsed.data;
  if (bucket) return new S3ModelStore(createS3Client(region ? { region } : {}, env), bucket);
  if (dir) return new FolderModelStore(dir);
  return null;
}
