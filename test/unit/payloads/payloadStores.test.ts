import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PayloadUnavailableError } from "../../../functions/core/errors";
import {
  isPayloadRef,
  isRefShaped,
  loadPayload,
  offloadPlan,
  type PayloadKind,
} from "../../../functions/core/payloads/claimCheck";
import { FileSystemPayloadStore } from "../../../functions/core/payloads/fileSystemPayloadStore";
import type { PayloadStore } from "../../../functions/core/payloads/port";
import { S3PayloadStore } from "../../../functions/core/payloads/s3PayloadStore";

/** The payload store's two adapters and the claim check on top of them. */

const BUCKET = "payloads-bucket";
const s3Mock = mockClient(S3Client);

describe("FileSystemPayloadStore on a real directory", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "payloads-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("gets back the bytes it put, byte for byte, and leaves no temporary file", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    const bytes = new Uint8Array(1024 * 1024).map((_, index) => index % 251);
    // Act
    await store.put("inputs/abc.json", bytes);
    const read = await store.get("inputs/abc.json");
    // Assess
    expect(Buffer.from(read).equals(Buffer.from(bytes))).toBe(true);
    expect(await readdir(join(root, "inputs"))).toEqual(["abc.json"]);
  });

  it("maps a missing file to PayloadUnavailableError and deletes idempotently", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    await store.put("results/x.json", new TextEncoder().encode("{}"));
    // Act
    await store.delete(["results/x.json", "results/never.json"]);
    // Assess
    await expect(store.get("results/x.json")).rejects.toBeInstanceOf(PayloadUnavailableError);
  });

  it("refuses a key that would leave its directory", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    // Act
    const put = store.put("../escape.json", new Uint8Array(1));
    // Assess
    await expect(put).rejects.toThrow(/invalid payload key/);
  });
});

describe("S3PayloadStore (aws-sdk-client-mock)", () => {
  beforeEach(() => s3Mock.reset());

  it("puts to the bucket under its prefix", async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3PayloadStore(new S3Client({ region: "eu-west-1" }), BUCKET, "p/");
    // Act
    await store.put("inputs/a.json", new TextEncoder().encode('{"a":1}'));
    // Assess
    const calls = s3Mock.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({ Bucket: BUCKET, Key: "p/inputs/a.json" });
  });

  it("gets the object's bytes", async () => {
    // Prepare
    // The SDK's streaming body, reduced to the one method the adapter reads.
    const body = { transformToByteArray: async () => new TextEncoder().encode('{"text":"hello"}') };
    s3Mock.on(GetObjectCommand).resolves({ Body: body as never });
    const store = new S3PayloadStore(new S3Client({ region: "eu-west-1" }), BUCKET);
    // Act
    const bytes = await store.get("inputs/a.json");
    // Assess
    expect(new TextDecoder().decode(bytes)).toBe('{"text":"hello"}');
  });

  it("maps NoSuchKey to PayloadUnavailableError", async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
    const store = new S3PayloadStore(new S3Client({ region: "eu-west-1" }), BUCKET);
    // Act
    const read = store.get("inputs/gone.json");
    // Assess
    await expect(read).rejects.toBeInstanceOf(PayloadUnavailableError);
  });

  it("rethrows AccessDenied as is, for the error handler to hide behind a 500", async () => {
    // Prepare
    const denied = new S3ServiceException({
      name: "AccessDenied",
      $fault: "client",
      message: "Access Denied",
      $metadata: { httpStatusCode: 403 },
    });
    s3Mock.on(GetObjectCommand).rejects(denied);
    const store = new S3PayloadStore(new S3Client({ region: "eu-west-1" }), BUCKET);
    // Act
    const read = store.get("inputs/a.json");
    // Assess
    await expect(read).rejects.toMatchObject({ name: "AccessDenied" });
    await expect(read).rejects.not.toBeInstanceOf(PayloadUnavailableError);
  });

  it("deletes in batches of 1,000 and throws on a reported per-key failure", async () => {
    // Prepare
    s3Mock
      .on(DeleteObjectsCommand)
      .resolvesOnce({})
      .resolvesOnce({ Errors: [{ Key: "k", Code: "AccessDenied", Message: "Access Denied" }] });
    const store = new S3PayloadStore(new S3Client({ region: "eu-west-1" }), BUCKET);
    const keys = Array.from({ length: 1001 }, (_, index) => `chunks/${index}.json`);
    // Act
    const deleted = store.delete(keys);
    // Assess
    await expect(deleted).rejects.toThrow(/AccessDenied/);
    const calls = s3Mock.commandCalls(DeleteObjectsCommand);
    expect(calls.map((call) => call.args[0].input.Delete?.Objects?.length)).toEqual([1000, 1]);
  });
});

/** What the claim check's callers do: plan, then write the bytes under the reference. */
async function offload(
  store: PayloadStore,
  kind: PayloadKind,
  value: unknown,
  inlineBytes: number,
): Promise<unknown> {
  const plan = offloadPlan(kind, value, inlineBytes);
  if (!plan) return value;
  await store.put(plan.ref.$ref, plan.bytes);
  return plan.ref;
}

describe("claim check", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "claim-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keeps a small value inline and offloads a big one, loading it back whole", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    const small = { text: "short" };
    const big = { text: "é".repeat(600_000) };
    // Act
    const smallRow = await offload(store, "input", small, 32 * 1024);
    const bigRow = await offload(store, "input", big, 32 * 1024);
    // Assess
    expect(smallRow).toEqual(small);
    expect(isPayloadRef(bigRow)).toBe(true);
    expect(JSON.stringify(bigRow).length).toBeLessThan(200);
    expect(await loadPayload(store, bigRow)).toEqual(big);
  });

  it("offloads a reference-shaped value of any size, so a row's reference is always real", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    const forged = { $ref: "inputs/00000000-0000-4000-8000-000000000000.json", bytes: 2 };
    // Act
    const row = await offload(store, "input", forged, 32 * 1024);
    // Assess
    expect(isRefShaped(forged)).toBe(true);
    expect(isRefShaped({ $ref: "x", other: 1 })).toBe(false);
    expect(row).not.toEqual(forged);
    expect(await loadPayload(store, row)).toEqual(forged);
  });

  it("gives two equal values two objects, so deleting one task's payload keeps the other's", async () => {
    // Act
    const first = offloadPlan("input", { text: "x".repeat(100) }, 10);
    const second = offloadPlan("input", { text: "x".repeat(100) }, 10);
    // Assess
    expect(first?.ref.$ref).not.toBe(second?.ref.$ref);
    expect(first?.ref.sha256).toBe(second?.ref.sha256);
  });

  it("refuses an object that does not match its reference's hash", async () => {
    // Prepare
    const store = new FileSystemPayloadStore(root);
    const ref = await offload(store, "result", { a: "x".repeat(100) }, 10);
    if (!isPayloadRef(ref)) throw new Error("expected a reference");
    await store.put(ref.$ref, new TextEncoder().encode(JSON.stringify({ a: "y".repeat(100) })));
    // Act
    const load = loadPayload(store, ref);
    // Assess
    await expect(load).rejects.toThrow(/does not match its reference/);
    await expect(load).rejects.toBeInstanceOf(PayloadUnavailableError);
  });
});
