import { createHash } from "node:crypto";
import { z } from "zod";
import { signEpistulaBytes } from "../core/epistula/epistula.ts";
import { epistulaToHeaders } from "../core/epistula/headers.ts";
import type { Signer } from "../core/ports/signer.ts";

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

const Uploaded = z.object({ sha256: z.string(), size: z.number(), uid: z.number() });
const Offer = z.object({
  upload: z.object({ url: z.string().url(), method: z.literal("PUT"), headers: z.record(z.string(), z.string()) }),
  confirm: z.string().startsWith("/v1/models/uploads/"),
});

export function problemText(status: number, body: unknown): string {
  const p = body as { code?: string; detail?: string } | null;
  return `${status} ${p?.code ?? ""}: ${p?.detail ?? JSON.stringify(body)}`.trim();
}

/**
 * Puts a model into the market's store. Asks for a presigned upload first (the cloud API, which cannot take a
 * model's bytes through Lambda): PUT to the URL, then a signed confirm. Where the API offers no upload route (404:
 * a local market, whose store is a folder), it sends the bytes to POST /v1/models itself.
 */
export async function uploadModel(
  fetch: Fetch,
  api: string,
  hotkey: Signer,
  task: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<z.infer<typeof Uploaded>> {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const asked = await signedJson(fetch, `${api}/v1/models/uploads`, hotkey, { task, sha256, size: bytes.length });
  if (asked.status === 404) return direct(fetch, api, hotkey, task, bytes);
  const offer = Offer.parse(await answer(asked, 201, "upload refused"));
  const put = await fetch(offer.upload.url, { method: "PUT", headers: offer.upload.headers, body: bytes });
  if (!put.ok) throw new Error(`upload refused by the store: ${put.status} ${(await put.text()).slice(0, 300)}`);
  const confirmed = await signedJson(fetch, `${api}${offer.confirm}`, hotkey, { task, sha256 });
  return Uploaded.parse(await answer(confirmed, 201, "upload refused"));
}

async function direct(fetch: Fetch, api: string, hotkey: Signer, task: string, bytes: Uint8Array<ArrayBuffer>) {
  const res = await fetch(`${api}/v1/models?task=${encodeURIComponent(task)}`, {
    method: "POST",
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
      ...epistulaToHeaders(signEpistulaBytes(hotkey, bytes, "")),
    },
    body: bytes,
  });
  return Uploaded.parse(await answer(res, 201, "upload refused"));
}

function signedJson(fetch: Fetch, url: string, hotkey: Signer, body: unknown) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...epistulaToHeaders(signEpistulaBytes(hotkey, bytes, "")) },
    body: bytes,
  });
}

async function answer(res: Response, status: number, what: string): Promise<unknown> {
  const body: unknown = await res.json().catch(() => null);
  if (res.status !== status) throw new Error(`${what}: ${problemText(res.status, body)}`);
  return body;
}
