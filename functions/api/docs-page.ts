/**
 * A self-contained docs page (no CDN: the machine may have no network). It fetches /openapi.json and lists every
 * route with its summary, parameters, request and response schemas.
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inference API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.m{font-weight:700;text-transform:uppercase;display:inline-block;width:4.5rem} .get{color:#0a7}.post{color:#06c}.delete{color:#c33}
code{background:#f4f4f4;padding:0 .25rem;border-radius:3px} details pre{background:#f8f8f8;padding:.5rem;overflow:auto;font-size:12px}
.tag{color:#888;font-size:12px}
</style></head><body>
<h1 id="title">Inference API</h1><p id="desc"></p><div id="ops">Loading /openapi.json…</div>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c]));
fetch("openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("desc").textContent = doc.info.description || "";
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const auth = (op.security || []).map((s) => Object.keys(s).join(",")).join(" ");
      const body = op.requestBody ? "<details><summary>request body</summary><pre>" + esc(JSON.stringify(op.requestBody.content, null, 2)) + "</pre></details>" : "";
      const resp = "<details><summary>responses: " + Object.keys(op.responses || {}).join(", ") + "</summary><pre>" + esc(JSON.stringify(op.responses, null, 2)) + "</pre></details>";
      out.push('<div class="op"><span class="m ' + esc(method) + '">' + esc(method) + "</span><code>" + esc(path) + "</code> " +
        (auth ? '<span class="tag">auth: ' + esc(auth) + "</span>" : "") + "<div>" + esc(op.summary || "") + "</div>" + body + resp + "</div>");
    }
  }
  document.getElementById("ops").innerHTML = out.join("");
}).catch((e) => { document.getElementById("ops").textContent = "could not load openapi.json: " + e; });
</script></body></html>`;
}
