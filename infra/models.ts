/**
 * The model store: ONNX models keyed by sha256 and the expert directory (which uid serves which model for which
 * task), read at run time by the GPU workers and the validator. Miners upload through the API: a presigned PUT under
 * `uploads/`, then the API's confirm checks it and copies it to `models/<sha256>.onnx` (infra/iam.ts modelUploads).
 * Readers verify each model's digest, so no writer can swap the model a miner is paid for. Content addressing makes
 * objects immutable; versioning keeps an overwrite or a delete recoverable.
 */
export const modelStore = new sst.aws.Bucket("ModelStore", {
  versioning: true,
});

/** Unconfirmed uploads (and their old versions) go after a day: a miner who never confirms leaves nothing behind. */
export const UPLOADS_EXPIRY_DAYS = 1;
new aws.s3.BucketLifecycleConfigurationV2("ModelStoreUploadsExpiry", {
  bucket: modelStore.name,
  rules: [
    {
      id: "expire-unconfirmed-uploads",
      status: "Enabled",
      filter: { prefix: "uploads/" },
      expiration: { days: UPLOADS_EXPIRY_DAYS },
      noncurrentVersionExpiration: { noncurrentDays: UPLOADS_EXPIRY_DAYS },
      abortIncompleteMultipartUpload: { daysAfterInitiation: UPLOADS_EXPIRY_DAYS },
    },
  ],
});
