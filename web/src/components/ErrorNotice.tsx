import { useEffect, useMemo, useState } from "react";
import { isApiError } from "../api/errors";
import { useI18n } from "../i18n";
import { describeError } from "./describe";

/** Seconds until `until` (epoch ms), ticking every second; 0 once passed or when null. */
export function useCountdown(until: number | null): number {
  const [, tick] = useState(0);
  useEffect(() => {
    if (until === null || until <= Date.now()) return undefined;
    const timer = setInterval(() => {
      tick((n) => n + 1);
      if (Date.now() >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - Date.now()) / 1000));
}

/** When a rate-limited request may be tried again (epoch ms), or null. */
export function useRetryAt(error: unknown): number | null {
  return useMemo(
    () => (isApiError(error) && error.retryAfter !== null ? Date.now() + error.retryAfter * 1000 : null),
    [error],
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  const retryAt = useRetryAt(error);
  const secondsLeft = useCountdown(retryAt);
  if (!error) return null;
  return (
    <div className="notice notice--error" role="alert">
      <p>{describeError(error, t, retryAt === null ? undefined : secondsLeft)}</p>
      {onRetry && (
        <button type="button" className="button button--small" onClick={onRetry} disabled={secondsLeft > 0}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}
