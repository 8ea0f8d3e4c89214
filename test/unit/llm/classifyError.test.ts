import { describe, expect, it } from "vitest";
import { TaskCancelledError, TaskExecutionError } from "../../../functions/core/errors";
import { type CallContext, classifyLlmError } from "../../../functions/core/llm/classifyError";

const call: CallContext = {
  host: "http://10.0.0.5:11434",
  timeoutMs: 120_000,
  model: "llama3.2",
  abortedBy: null,
};

/** Shaped like ollama-js's ResponseError, which the package does not export. */
function responseError(status: number, message: string) {
  return Object.assign(new Error(message), { name: "ResponseError", status_code: status });
}

function socketError(code: string, message: string) {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

describe("classifyLlmError", () => {
  it.each([
    ["ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:11434", "unreachable at"],
    ["ENOTFOUND", "getaddrinfo ENOTFOUND ollama.internal", "unreachable at"],
    ["UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error", "unreachable at"],
    ["ECONNRESET", "read ECONNRESET", "connection failed to"],
    ["UND_ERR_SOCKET", "other side closed", "connection failed to"],
  ])("makes %s retryable and names the host", (code, message, verb) => {
    const error = classifyLlmError(socketError(code, message), call);
    expect(error).toBeInstanceOf(TaskExecutionError);
    expect(error).toMatchObject({
      retryable: true,
      message: `Ollama ${verb} http://10.0.0.5:11434: ${message}`,
    });
  });

  it("reads the code of an AggregateError (several addresses tried)", () => {
    const aggregate = Object.assign(
      new AggregateError([new Error("connect ECONNREFUSED ::1:11434")], ""),
      { code: "ECONNREFUSED" },
    );
    const error = classifyLlmError(new TypeError("fetch failed", { cause: aggregate }), call);
    expect(error.message).toBe(
      "Ollama unreachable at http://10.0.0.5:11434: connect ECONNREFUSED ::1:11434",
    );
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
  ])("makes a %i answer retryable: %s", (status, retryable) => {
    const error = classifyLlmError(responseError(status, "nope"), call);
    expect(error).toMatchObject({
      retryable,
      message: `Ollama at ${call.host} answered ${status}: nope`,
    });
  });

  it("words a missing model for the task's error", () => {
    const error = classifyLlmError(
      responseError(404, 'model "llama3.2" not found, try pulling it first'),
      call,
    );
    expect(error).toMatchObject({
      retryable: false,
      message: 'model "llama3.2" is not available on the LLM server',
    });
  });

  it("decides by who aborted, whatever fetch threw", () => {
    const thrown = new DOMException("This operation was aborted", "AbortError");
    expect(classifyLlmError(thrown, { ...call, abortedBy: "caller" })).toBeInstanceOf(
      TaskCancelledError,
    );
    expect(classifyLlmError(thrown, { ...call, abortedBy: "timeout" })).toMatchObject({
      retryable: true,
      message: "Ollama call timed out after 120000 ms",
    });
  });

  it("treats a broken answer (stream error, bad body) as retryable", () => {
    const error = classifyLlmError(
      new Error("Did not receive done or success response in stream."),
      call,
    );
    expect(error).toMatchObject({
      retryable: true,
      message: `Ollama call to ${call.host} failed: Did not receive done or success response in stream.`,
    });
  });
});
