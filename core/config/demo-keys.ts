/**
 * Keys anyone can derive: Substrate's public development phrase, every URI that starts with a derivation path
 * (`//Alice`, `//market-demo//gateway`: the keyring derives those from that same public phrase), and the demo
 * subnet's own identities. Fine on the embedded devnet, which holds nothing of value; against a real chain a
 * receipt or weight signed with one proves nothing, so boot refuses them.
 */
export const SUBSTRATE_DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

export function isDemoSecretUri(uri: string): boolean {
  const text = uri.trim().replace(/\s+/g, " ");
  if (text.startsWith("/")) return true;
  if (text.toLowerCase().startsWith(SUBSTRATE_DEV_PHRASE)) return true;
  return text.includes("market-demo");
}
