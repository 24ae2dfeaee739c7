import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiEnv } from "../env.ts";
import { ApiError, codeOfProblemSlug, ERROR_CODES, ERROR_TABLE, type ErrorCode, problemTypePath } from "../errors.ts";

/** What a problem `type` URL answers: the code's meaning, for people (HTML) and programs (JSON). */
const ProblemType = z
  .object({ type: z.string(), code: z.string(), status: z.number().int(), title: z.string() })
  .openapi("ProblemType");

const problemType = createRoute({
  method: "get",
  path: "/problems/{code}",
  tags: ["errors"],
  summary: "What a problem type means (the `type` of every error body); HTML unless Accept asks for JSON",
  request: {
    params: z.object({
      code: z
        .string()
        .max(64)
        .openapi({ param: { name: "code", in: "path" }, example: "insufficient-credits" }),
    }),
  },
  responses: {
    200: {
      description: "The problem type",
      content: { "application/json": { schema: ProblemType }, "text/html": { schema: z.string() } },
    },
    404: { description: "No such problem type" },
  },
});

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);

export function registerProblemRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(problemType, (c) => {
    const code = codeOfProblemSlug(c.req.valid("param").code);
    if (!code) throw new ApiError("not_found", "no such problem type");
    const entry = ERROR_TABLE[code];
    const body = { type: problemTypePath(code), code, status: entry.status, title: entry.title };
    if ((c.req.header("accept") ?? "").includes("json")) return c.json(body, 200);
    return c.html(page(code), 200);
  });
}

function page(code: ErrorCode): string {
  const e = ERROR_TABLE[code];
  const others = ERROR_CODES.map((c) => `<li><a href="${problemTypePath(c)}">${c}</a></li>`).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${code}</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto">
<h1>${escapeHtml(e.title)}</h1><p>HTTP ${e.status}, code <code>${code}</code>. The body's <code>detail</code> says
what happened to this request; <code>requestId</code> identifies it in the logs.</p>
<h2>Other problem types</h2><ul>${others}</ul><p><a href="/docs">API documentation</a></p></body></html>`;
}
