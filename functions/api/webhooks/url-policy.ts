import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Which webhook URLs the market will call. In the cloud only `https:` to public addresses: a callback must not
 * turn the API into a proxy into its own network (SSRF: loopback, private ranges, link-local cloud metadata...).
 * The devnet and the local stack (`allowLocal`) also accept `http:` and loopback/private hosts, for test receivers.
 */
export interface WebhookUrlPolicy {
  readonly allowLocal: boolean;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The URL as it will be called, or why it is refused. Checked when a query names it. */
export function checkWebhookUrl(
  raw: string,
  policy: WebhookUrlPolicy,
): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not an absolute URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  if (url.protocol !== "https:" && !(policy.allowLocal && url.protocol === "http:")) {
    return { ok: false, reason: policy.allowLocal ? "must be http(s)" : "must be https" };
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!policy.allowLocal) {
    if (isIP(host) !== 0 && isPrivateAddress(host)) return { ok: false, reason: "private or loopback address" };
    if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal") || !host.includes(".")) {
      return { ok: false, reason: "not a public host name" };
    }
  }
  url.hash = "";
  return { ok: true, url: url.toString() };
}

/**
 * At send time, the host's addresses: every one must be public (a name may point at a private address later, DNS
 * rebinding). Resolving here and letting fetch resolve again leaves a narrow race; the request also refuses to
 * follow redirects, which would otherwise bypass this check.
 */
export async function resolvesPublic(url: string, policy: WebhookUrlPolicy): Promise<boolean> {
  if (policy.allowLocal) return true;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0) return !isPrivateAddress(host);
  try {
    const addresses = await lookup(host, { all: true, verbatim: true });
    return addresses.length > 0 && addresses.every((a) => !isPrivateAddress(a.address));
  } catch {
    return false;
  }
}
