import type { ApiKeyRecord } from "../../core/keys/schema.ts";

/** Per-request values set by the middleware (Hono `c.var`). */
export interface ApiEnv {
  Variables: {
    requestId: string;
    key: ApiKeyRecord;
  };
}
