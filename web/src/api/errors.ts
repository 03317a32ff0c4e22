/** The API's error envelope, `{"error": code, "message", "details"}` (docs/api.md), as a
 * JavaScript error; a request that never reached the server is `network_error`. */

export interface ErrorEnvelope {
  error: string;
  message?: string;
  details?: unknown;
  retry_after?: number;
}

export const NETWORK_ERROR = "network_error";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds to wait before trying again (429), from the body or the Retry-After header. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = null,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** Builds the error from a failed response and its parsed body (any shape). */
  static from(response: Response, body: unknown): ApiError {
    const envelope = isEnvelope(body) ? body : null;
    const code = envelope?.error ?? (response.status >= 500 ? "internal_error" : "http_error");
    const message = envelope?.message ?? (response.statusText || `HTTP ${response.status}`);
    return new ApiError(
      response.status,
      code,
      message,
      envelope?.details ?? null,
      retryAfterOf(envelope, response.headers),
    );
  }
}

export function networkError(cause: unknown): ApiError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(0, NETWORK_ERROR, message);
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  return typeof body === "object" && body !== null && typeof (body as ErrorEnvelope).error === "string";
}

function retryAfterOf(envelope: ErrorEnvelope | null, headers: Headers): number | null {
  const details = envelope?.details as { retry_after?: unknown } | null | undefined;
  const candidates: unknown[] = [envelope?.retry_after, details?.retry_after, headers.get("Retry-After")];
  for (const value of candidates) {
    const seconds = typeof value === "string" ? Number(value) : value;
    if (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0) return seconds;
  }
  return null;
}
