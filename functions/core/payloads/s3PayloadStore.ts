/**
 * The payload store on S3 (AWS). GetObject of a missing key is `NoSuchKey`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), mapped to
 * `payloadNotFound`; anything else (AccessDenied included) is rethrown, so the API's
 * error handler logs it and answers a plain 500. DeleteObjects takes at most 1,000 keys a
 * request and reports per-key failures in a 200 answer
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html), so keys go in
 * batches of 1,000 and a reported failure is thrown.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assertPayloadKey, type PayloadStore, payloadNotFound } from "./port";

const DELETE_BATCH = 1000;

export class S3PayloadStore implements PayloadStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix = "",
  ) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(key),
        Body: bytes,
        ContentType: "application/json",
      }),
    );
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }),
      );
      if (answer.Body === undefined) throw payloadNotFound(key);
      return await answer.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") {
        throw payloadNotFound(key);
      }
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((key) => ({ Key: this.keyOf(key) })), Quiet: true },
        }),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `S3 DeleteObjects failed for ${failed.length} key(s), first ${first?.Key}: ${first?.Code} ${first?.Message}`,
        );
      }
    }
  }

  /** The S3 object key of a payload key. */
  keyOf(key: string): string {
    assertPayloadKey(key);
    return `${this.prefix}${key}`;
  }
}
