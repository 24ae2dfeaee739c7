/**
 * An error that retrying cannot fix (malformed message, unknown expert, input of the wrong shape, bad signature,
 * unknown job): the message goes to the dead-letter queue at once, with `code` and the message as its reason.
 */
export class UnrecoverableJobError extends Error {
  override readonly name = "UnrecoverableJobError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Short code for metrics and dead-letter reasons of an error that may pass on retry. */
export function retryableCode(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== "Error" ? error.name : "";
    return name || "error";
  }
  return "unknown";
}

export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The model failed on a batch; `batchSize` tells the handler whether re-running an item alone can isolate a poison input. */
export class ModelRunError extends Error {
  override readonly name = "ModelRunError";
  constructor(
    override readonly cause: unknown,
    readonly batchSize: number,
  ) {
    super(`model failed on a batch of ${batchSize}: ${describe(cause)}`);
  }
}

/** The job names an expert this worker does not serve (yet): retried, since a reload or another worker may serve it. */
export class ExpertNotServedError extends Error {
  override readonly name = "ExpertNotServedError";
  constructor(readonly hotkey: string) {
    super(`no expert with hotkey ${hotkey} here`);
  }
}

/**
 * A notice that was to carry answers nobody stored could not be sent, nor could the answers then be written: their
 * jobs must not be acknowledged (the job handler retries them).
 */
export class AnswersNotStoredError extends Error {
  constructor(cause: unknown) {
    super("answers neither carried by a notice nor stored", { cause });
    this.name = "AnswersNotStoredError";
  }
}
