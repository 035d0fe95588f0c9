// MLflow model registry URIs, the two forms the server follows: `models:/<name>@<alias>` (moves when the alias does)
// and `models:/<name>/<version>` (one fixed version). Parsed once at the boundary with a message naming the forms.
// see: mlflow/store/artifact/utils/models.py (_parse_model_uri), mlflow/utils/validation.py (_validate_model_alias_name).
// Not here: resolving a URI on a server (model-registry.ts).

export type ModelUri =
  | { readonly kind: 'alias'; readonly name: string; readonly alias: string }
  | { readonly kind: 'version'; readonly name: string; readonly version: string };

/** MLflow's alias rule: word characters and '-', at most 255, and not a reserved name ('latest', v<digits>). */
const ALIAS = /^[\w-]{1,255}$/;
const FORMS = 'models:/<name>@<alias> (e.g. models:/doodle-digits@champion) or models:/<name>/<version> (e.g. models:/doodle-digits/3)';

export function parseModelUri(text: string): ModelUri {
  const fail = (why: string): never => {
    throw new Error(`model URI ${JSON.stringify(text)} ${why}: use ${FORMS}`);
  };
  const m = /^models:\/(.*)$/.exec(text.trim());
  if (m === null) return fail('is not a models:/ URI');
  const rest = m[1]!;
  if (rest.startsWith('/')) return fail('names a registry host (models://…): only the tracking server of MLFLOW_TRACKING_URI is supported');
  const at = /^([^/@]+)@(.*)$/.exec(rest);
  if (at !== null) {
    const alias = at[2]!;
    if (!ALIAS.test(alias) || alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
      return fail(`has alias "${alias}", which MLflow does not allow (letters, digits, '_' and '-'; not "latest" or v<number>)`);
    }
    return { kind: 'alias', name: at[1]!.trim(), alias };
  }
  const slash = /^([^/@]+)\/(\d+)$/.exec(rest);
  if (slash !== null && Number(slash[2]) >= 1) return { kind: 'version', name: slash[1]!.trim(), version: String(Number(slash[2])) };
  return fail('has neither an alias nor a version number');
}

/** The URI as text again (canonical). */
export function formatModelUri(uri: ModelUri): string {
  return uri.kind === 'alias' ? `models:/${uri.name}@${uri.alias}` : `models:/${uri.name}/${uri.version}`;
}
