/** Errors and task outcomes in words people understand, in the UI's language. */
import { isApiError, NETWORK_ERROR } from "../api/errors";
import { resultOf, type Task } from "../api/types";
import { isMessageKey, type MessageKey } from "../i18n/en";
import type { Translate } from "../i18n";

const REQUEST_ERRORS: Record<string, MessageKey> = {
  [NETWORK_ERROR]: "errors.network",
  validation_error: "errors.validation_error",
  payload_too_large: "errors.payload_too_large",
  unsupported_media_type: "errors.unsupported_media_type",
  not_found: "errors.not_found",
  conflict: "errors.conflict",
  unauthorized: "errors.unauthorized",
  internal_error: "errors.internal_error",
  service_unavailable: "errors.service_unavailable",
  manga_not_ready: "errors.manga_not_ready",
  version_not_ready: "errors.version_not_ready",
  page_not_ready: "errors.page_not_ready",
  panel_not_found: "errors.panel_not_found",
  version_not_found: "errors.version_not_found",
};

/** A failed request, e.g. "Too many requests. You can try again in 12 s." `secondsLeft` is
 * the live countdown of a rate limit (defaults to the server's `retry_after`). */
export function describeError(error: unknown, t: Translate, secondsLeft?: number): string {
  if (!isApiError(error)) return t("errors.unknown", { message: String(error) });
  if (error.code === "rate_limit_exceeded") {
    const seconds = Math.ceil(secondsLeft ?? error.retryAfter ?? 0);
    return seconds > 0 ? t("errors.rate_limit_exceeded", { seconds }) : t("errors.rate_limit_over");
  }
  const key = REQUEST_ERRORS[error.code];
  const message =
    error.code === "validation_error" ? validationMessage(error.message, error.details) : error.message;
  return key ? t(key, { message }) : t("errors.unknown", { message });
}

function validationMessage(message: string, details: unknown): string {
  if (Array.isArray(details) && details.length > 0) {
    return details
      .map((item: { loc?: unknown[]; msg?: string }) => {
        const field = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
        return field ? `${field}: ${item.msg ?? ""}` : (item.msg ?? "");
      })
      .join("; ");
  }
  return message;
}

const TASK_ERRORS: Record<string, MessageKey> = {
  content_rejected: "taskError.content_rejected",
  provider_rate_limited: "taskError.provider_rate_limited",
  quota_exhausted: "taskError.quota_exhausted",
  provider_auth_failed: "taskError.not_configured",
  provider_not_configured: "taskError.not_configured",
  invalid_request: "taskError.invalid",
  validation_error: "taskError.invalid",
  worker_lost: "taskError.worker_lost",
  cancelled: "taskError.cancelled",
  internal_error: "taskError.internal_error",
};

const EXPLAINED = new Set(["failed", "retrying", "cancelled", "partial"]);

/** Why a task failed, was cancelled or is retrying; null when there is nothing to say (a
 * running task may still carry the error of an earlier attempt). */
export function describeTaskError(task: Pick<Task, "status" | "error">, t: Translate): string | null {
  const error = task.error;
  if (!error || !EXPLAINED.has(task.status)) return null;
  const message = error.message ?? error.code;
  if (task.status === "retrying") return t("taskError.retrying", { message });
  const key = TASK_ERRORS[error.code];
  if (key) return t(key, { message });
  if (error.code.startsWith("provider_")) return t("taskError.provider", { message });
  return t("taskError.unknown", { message });
}

/** "seedream was unavailable, so procedural made this instead." when a fallback served it. */
export function describeFallback(task: Pick<Task, "result" | "provider">, t: Translate): string | null {
  const result = resultOf(task);
  const failed = (result.fallbacks ?? []).filter(Boolean);
  if (failed.length === 0) return null;
  const provider = result.model ?? result.provider ?? task.provider ?? "?";
  return t("task.fallback", { failed: failed.join(", "), provider });
}

export function statusLabel(status: string, t: Translate): string {
  const key = `status.${status}`;
  return isMessageKey(key) ? t(key) : status;
}

export function kindLabel(kind: string, t: Translate): string {
  const key = `kind.${kind}`;
  return isMessageKey(key) ? t(key) : kind;
}

export function stageLabel(task: Pick<Task, "status" | "stage">, t: Translate): string {
  if (task.status === "pending" || task.status === "retrying") return t("stage.waiting");
  const key = `stage.${task.stage ?? ""}`;
  if (isMessageKey(key)) return t(key);
  return task.stage ?? statusLabel(task.status, t);
}

/** A one-line title for a task: its prompt, or what a stylize task asked for (preset ids
 * shown by their names when `names` knows them). */
export function taskTitle(
  task: Pick<Task, "kind" | "params">,
  t: Translate,
  names: ReadonlyMap<string, string> = new Map(),
): string {
  const params = task.params as Record<string, unknown>;
  if (typeof params.prompt === "string" && params.prompt) return params.prompt;
  const parts = [params.style, params.location, params.text]
    .filter((part): part is string => typeof part === "string" && part.length > 0)
    .map((part) => names.get(part) ?? part);
  if (parts.length > 0) return parts.join(" · ");
  if (task.kind === "erase") return t("erase.photo");
  return task.kind === "stylize" ? t("task.photo") : t("task.untitled");
}
