/**
 * The model store: ONNX models keyed by sha256 and the expert directory (which uid serves which model for which
 * task), read at run time by the GPU workers and the validator. No principal of the stack may write it: models are
 * uploaded by the operator's own credentials (see the README's deploy section), so a compromised function cannot
 * swap the model a miner is paid for. Content addressing makes objects immutable; versioning keeps an overwrite or
 * a delete recoverable.
 */
export const modelStore = new sst.aws.Bucket("ModelStore", {
  versioning: true,
});
