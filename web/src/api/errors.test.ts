import { describe, expect, it } from "vitest";
import { describeError, describeFallback, describeTaskError } from "../components/describe";
import { translator } from "../i18n";
import { json } from "../test/fakes";
import { call } from "./client";
import { ApiError, NETWORK_ERROR } from "./errors";

const en = translator("en");
const zh = translator("zh");

describe("ApiError", () => {
  it("reads the envelope and the retry_after of a 429", () => {
    const response = json(
      { error: "rate_limit_exceeded", message: "slow down", details: { retry_after: 12 }, retry_after: 12 },
      429,
      { "Retry-After": "12" },
    );
    const error = ApiError.from(response, {
      error: "rate_limit_exceeded",
      message: "slow down",
      retry_after: 12,
    });
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(12);
  });

  it("falls back to the Retry-After header and to the status when the body is not an envelope", () => {
    const error = ApiError.from(
      new Response("<html>", { status: 503, headers: { "Retry-After": "7" } }),
      "<html>",
    );
    expect(error.code).toBe("internal_error");
    expect(error.retryAfter).toBe(7);
  });

  it("turns a failed request into network_error and a failed response into ApiError", async () => {
    const network = await call(Promise.reject(new TypeError("Failed to fetch"))).catch((e: unknown) => e);
    expect(network).toMatchObject({ code: NETWORK_ERROR, status: 0 });
    const response = json({ error: "not_found", message: "task not found", details: null }, 404);
    const missing = await call(
      Promise.resolve({ error: { error: "not_found", message: "task not found" }, response }),
    ).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ code: "not_found", message: "task not found" });
  });
});

describe("messages people understand", () => {
  it("gives the wait of a rate limit, counting down, in both languages", () => {
    const error = new ApiError(429, "rate_limit_exceeded", "too many", null, 30);
    expect(describeError(error, en)).toBe("Too many requests. You can try again in 30 s.");
    expect(describeError(error, en, 4)).toBe("Too many requests. You can try again in 4 s.");
    expect(describeError(error, en, 0)).toBe("Too many requests a moment ago. You can try again now.");
    expect(describeError(error, zh, 4)).toBe("请求太频繁，请 4 秒后再试。");
  });

  it("names the fields of a validation error", () => {
    const error = new ApiError(422, "validation_error", "the request is not valid", [
      { loc: ["body", "params", "width"], msg: "Input should be less than or equal to 4096" },
    ]);
    expect(describeError(error, en)).toBe(
      "Some values were not accepted: params.width: Input should be less than or equal to 4096",
    );
  });

  it("says the server cannot be reached for network errors", () => {
    expect(describeError(new ApiError(0, NETWORK_ERROR, "Failed to fetch"), en)).toMatch(
      /Cannot reach the server/,
    );
  });

  it("explains task failures by their code", () => {
    const failed = (code: string, message = "upstream said no") => ({
      status: "failed",
      error: { code, message },
    });
    expect(describeTaskError(failed("content_rejected"), en)).toMatch(/content rules/);
    expect(describeTaskError(failed("provider_timeout"), en)).toMatch(/did not answer \(upstream said no\)/);
    expect(describeTaskError(failed("provider_not_configured"), en)).toMatch(/not set up on the server/);
    expect(
      describeTaskError({ status: "retrying", error: { code: "provider_timeout", message: "slow" } }, en),
    ).toMatch(/retrying by itself/);
    expect(describeTaskError({ status: "completed", error: null }, en)).toBeNull();
    expect(
      describeTaskError({ status: "processing", error: { code: "provider_timeout", message: "old" } }, en),
    ).toBeNull();
    expect(describeTaskError(failed("something_new", "odd"), en)).toBe("Failed: odd");
  });

  it("says when a fallback provider made the result", () => {
    const result = { images: [], provider: "procedural", model: "procedural", fallbacks: ["seedream"] };
    expect(describeFallback({ result, provider: "procedural" }, en)).toBe(
      "seedream was unavailable, so procedural made this instead.",
    );
    expect(describeFallback({ result: { ...result, fallbacks: [] }, provider: "procedural" }, en)).toBeNull();
  });
});
