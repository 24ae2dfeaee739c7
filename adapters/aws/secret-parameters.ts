import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";

/**
 * Secrets of a deployed function come from SSM Parameter Store, never from its environment: infra/ sets
 * MARKET_SECRET_PARAMETERS to a JSON object {setting: parameter name} (e.g. {"MARKET_ADMIN_TOKEN":
 * "/intelligence-market/production/MarketAdminToken"}) and grants ssm:GetParameters on exactly those parameters.
 * At cold start the values are read (decrypted) and laid over the environment before the settings are parsed.
 * Without the variable (npm start, tests) the environment is returned unchanged.
 */
export const SECRET_PARAMETERS_VARIABLE = "MARKET_SECRET_PARAMETERS";

/** Reads parameters by name; answers name -> decrypted value and throws for any it could not read. */
export type ParameterReader = (names: readonly string[]) => Promise<Record<string, string>>;

// GetParameters takes at most 10 names per call.
const MAX_NAMES = 10;

export function ssmParameterReader(client: Pick<SSMClient, "send"> = new SSMClient({})): ParameterReader {
  return async (names) => {
    const values: Record<string, string> = {};
    for (let i = 0; i < names.length; i += MAX_NAMES) {
      const batch = names.slice(i, i + MAX_NAMES);
      const output = await client.send(new GetParametersCommand({ Names: batch, WithDecryption: true }));
      for (const p of output.Parameters ?? [])
        if (p.Name !== undefined && p.Value !== undefined) values[p.Name] = p.Value;
      const missing = [...(output.InvalidParameters ?? []), ...batch.filter((n) => values[n] === undefined)];
      if (missing.length > 0) throw new Error(`SSM parameters not readable: ${[...new Set(missing)].join(", ")}`);
    }
    return values;
  };
}

function parseMapping(raw: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${SECRET_PARAMETERS_VARIABLE} is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`${SECRET_PARAMETERS_VARIABLE} must be a JSON object {setting: parameter name}`);
  const mapping: Record<string, string> = {};
  for (const [setting, name] of Object.entries(parsed)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(setting) || typeof name !== "string" || !name.startsWith("/"))
      throw new Error(`${SECRET_PARAMETERS_VARIABLE}: ${setting} must name a parameter path starting with /`);
    mapping[setting] = name;
  }
  return mapping;
}

/** The environment with each setting named in MARKET_SECRET_PARAMETERS set from its parameter. */
export async function withSecretParameters(
  env: Readonly<Record<string, string | undefined>>,
  read?: ParameterReader,
): Promise<Record<string, string | undefined>> {
  const raw = env[SECRET_PARAMETERS_VARIABLE];
  if (raw === undefined || raw === "") return { ...env };
  const mapping = parseMapping(raw);
  const names = [...new Set(Object.values(mapping))];
  // The SSM client is made only when there is something to read (the local stack never makes one).
  const values = names.length > 0 ? await (read ?? ssmParameterReader())(names) : {};
  const out: Record<string, string | undefined> = { ...env };
  for (const [setting, name] of Object.entries(mapping)) out[setting] = values[name];
  return out;
}
