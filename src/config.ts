// The only reader of process.env. Each setting is parsed and validated here, once.

export interface Environment {
  /** MLFLOW_TRACKING_URI: unset → ./mlruns (file store); http(s):// → an MLflow tracking server. */
  readonly mlflowTrackingUri: string | undefined;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  return Object.freeze({ mlflowTrackingUri: uri === '' ? undefined : uri });
}
