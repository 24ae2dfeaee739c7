import { signerFromUri } from "../adapters/identity/sr25519.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { Signer } from "../core/ports/signer.ts";

export type SignerLookup = (manifest: ExpertManifest) => Signer | { readonly error: string };

/**
 * Finds the secret of an expert's hotkey: the worker's `hotkeyUris` by expert id or ss58 first, then the
 * manifest's own `hotkeyUri` (demo subnet only). The derived address must be the manifest's hotkey, otherwise the
 * worker would sign answers the gateway rejects. Needs `identityReady()` to have resolved. Errors never carry the secret.
 */
export function hotkeySigners(hotkeyUris: Readonly<Record<string, string>>): SignerLookup {
  return (manifest) => {
    const uri = hotkeyUris[manifest.id] ?? hotkeyUris[manifest.hotkey] ?? manifest.hotkeyUri;
    if (uri === undefined) return { error: `no hotkey secret for expert ${manifest.id}` };
    let signer: Signer;
    try {
      signer = signerFromUri(uri);
    } catch {
      return { error: `hotkey secret of expert ${manifest.id} is not a valid secret URI` };
    }
    if (signer.address !== manifest.hotkey) {
      return {
        error: `hotkey secret of expert ${manifest.id} derives ${signer.address}, manifest says ${manifest.hotkey}`,
      };
    }
    return signer;
  };
}
