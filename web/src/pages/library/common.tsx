/** What the library's views share: an image's name and tags in the UI's language, sizes in
 * words, errors of the library API in words, and a task's live progress. */
import { isApiError } from "../../api/errors";
import { ErrorNotice } from "../../components/ErrorNotice";
import { describeError, describeTaskError, statusLabel } from "../../components/describe";
import { TaskProgress } from "../../components/TaskProgress";
import { useI18n, type Lang, type Translate } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { useTask } from "../../live/useTask";
import type { LibraryImage } from "./api";

/** A name people recognise: the title, the file's name, the link's last part, else the
 * description. */
export function imageName(image: LibraryImage, lang: Lang, t: Translate): string {
  if (image.title) return image.title;
  if (image.original_filename) return image.original_filename;
  if (image.source_url) {
    const last = image.source_url.split(/[?#]/)[0]!.split("/").filter(Boolean).pop();
    if (last) return decodeURIComponent(last);
  }
  return description(image, lang) || t("library.untitled");
}

export const description = (image: LibraryImage, lang: Lang): string =>
  (lang === "zh" ? image.description_zh : image.description_en) ||
  image.description_en ||
  image.description_zh;

/** The tags to show: the user's, then the analyser's in the UI's language (either language
 * when it gave none in this one), best first, each once. */
export function shownTags(image: LibraryImage, lang: Lang): { tag: string; user: boolean }[] {
  const user = image.tags.filter((tag) => tag.source === "user");
  const ai = image.tags.filter((tag) => tag.source !== "user").sort((a, b) => b.score - a.score);
  const mine = ai.filter((tag) => tag.lang === lang);
  const seen = new Set<string>();
  const out: { tag: string; user: boolean }[] = [];
  for (const [tags, isUser] of [
    [user, true],
    [mine.length ? mine : ai, false],
  ] as const) {
    for (const { tag } of tags) {
      const key = tag.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ tag, user: isUser });
    }
  }
  return out;
}

export function formatBytes(bytes: number, lang: Lang): string {
  const locale = lang === "zh" ? "zh-CN" : "en";
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: units[unit],
    unitDisplay: "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

const LIBRARY_ERRORS: Record<string, MessageKey> = {
  image_embedder_unavailable: "library.errors.noImageModel",
  not_embedded: "library.errors.notEmbedded",
  url_not_allowed: "library.errors.url",
  url_fetch_failed: "library.errors.url",
};

/** The library API's own errors in words; the others as everywhere else (ErrorNotice). A
 * rejected file of an import is named. */
export function LibraryError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  const key = isApiError(error) ? LIBRARY_ERRORS[error.code] : undefined;
  const details = isApiError(error) ? (error.details as { filename?: unknown } | null) : null;
  const file = details && typeof details.filename === "string" ? details.filename : null;
  if (!key && !file) return <ErrorNotice error={error} onRetry={onRetry} />;
  return (
    <div className="notice notice--error" role="alert">
      {file && <p>{t("library.errors.file", { name: file })}</p>}
      <p>{key ? t(key) : describeError(error, t)}</p>
    </div>
  );
}

/** A task's live progress (an import's batch, an image's `tag` task after an edit). */
export function LiveTask({ taskId, label }: { taskId: string; label: string }) {
  const { t } = useI18n();
  const task = useTask(taskId).data;
  if (!task) return null;
  const problem = describeTaskError(task, t);
  return (
    <div className="lib-task" data-task-id={taskId} data-status={task.status}>
      <p className="lib-task__label">
        <span>{label}</span>
        <span className={`badge badge--${task.status}`}>{statusLabel(task.status, t)}</span>
      </p>
      {task.status !== "failed" && task.status !== "cancelled" && <TaskProgress task={task} />}
      {problem && <p className="notice notice--error">{problem}</p>}
    </div>
  );
}

/** One word for where an image is in its analysis, from its `tag` task. */
export function TaskState({ taskId }: { taskId: string }) {
  const { t } = useI18n();
  const task = useTask(taskId).data;
  if (!task) return null;
  return <span className={`badge badge--${task.status}`}>{statusLabel(task.status, t)}</span>;
}
