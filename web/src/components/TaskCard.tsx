import { useId, useState, type ReactNode } from "react";
import { imageUrl } from "../api/client";
import { isApiError } from "../api/errors";
import { useCancelTask, useDeleteTask, usePresetNames } from "../api/queries";
import { imagesOf, resultOf, type Task } from "../api/types";
import { useI18n } from "../i18n";
import { isActive } from "../live/state";
import { useTask } from "../live/useTask";
import { BeforeAfter } from "./BeforeAfter";
import { describeFallback, describeTaskError, kindLabel, statusLabel, taskTitle } from "./describe";
import { ErrorNotice } from "./ErrorNotice";
import { ImageViewer } from "./ImageViewer";
import { ResultsGrid } from "./ResultsGrid";
import { TaskProgress } from "./TaskProgress";

const NOTICE: Record<string, string> = { retrying: "notice--warn", cancelled: "notice--quiet" };

interface Props {
  taskId: string;
  initial?: Task;
  /** Heading level of the card's title, to fit the page's outline. */
  level?: 2 | 3;
  /** Extra buttons for a finished task (e.g. "Again"). */
  actions?: (task: Task) => ReactNode;
  onUseSeed?: (task: Task, seed: number) => void;
  /** What a kind adds under the progress (e.g. an erase's stages and masks). */
  details?: (task: Task) => ReactNode;
}

/** One task: status, live progress, what went wrong in plain words, results, and the
 * actions that make sense now (cancel while it runs, delete at any time). */
export function TaskCard({ taskId, initial, level = 3, actions, onUseSeed, details }: Props) {
  const { t, ago } = useI18n();
  const query = useTask(taskId, initial);
  const names = usePresetNames();
  const cancel = useCancelTask();
  const remove = useDeleteTask();
  const [confirming, setConfirming] = useState(false);
  const [viewing, setViewing] = useState<number | null>(null);
  const titleId = useId();
  const Heading = level === 2 ? "h2" : "h3";

  const task = query.data;
  if (!task) {
    const gone = isApiError(query.error) && query.error.status === 404;
    return (
      <article className="task task--placeholder" aria-busy={!query.error}>
        {query.error && !gone ? (
          <ErrorNotice error={query.error} />
        ) : (
          <p>{gone ? t("errors.not_found") : t("common.loading")}</p>
        )}
      </article>
    );
  }

  const result = resultOf(task);
  const images = imagesOf(task);
  const title = taskTitle(task, t, names);
  const problem = describeTaskError(task, t);
  const fallback = describeFallback(task, t);
  const active = isActive(task);
  const first = images[0];
  const source = result.source_image_id;

  return (
    <article
      className={`task task--${task.status}`}
      aria-labelledby={titleId}
      data-task-id={task.task_id}
      data-status={task.status}
    >
      <header className="task__head">
        <span className={`badge badge--${task.status}`}>{statusLabel(task.status, t)}</span>
        <Heading id={titleId} className="task__title">
          {title}
        </Heading>
        <p className="task__meta">
          <span>{kindLabel(task.kind, t)}</span>
          <time dateTime={task.created_at} title={new Date(task.created_at).toLocaleString()}>
            {ago(task.created_at)}
          </time>
          {task.attempts > 1 && <span>{t("task.attempt", { n: task.attempts })}</span>}
          {task.status === "completed" && result.model && (
            <span>{t("task.madeBy", { model: result.model, provider: result.provider ?? "" })}</span>
          )}
        </p>
      </header>

      {task.status !== "failed" && task.status !== "cancelled" && <TaskProgress task={task} />}
      {problem && <p className={`notice ${NOTICE[task.status] ?? "notice--error"}`}>{problem}</p>}
      {fallback && <p className="notice notice--info">{fallback}</p>}
      {result.cache_hit && <p className="task__note">{t("task.cached")}</p>}

      {details?.(task)}
      {(task.kind === "stylize" || task.kind === "erase") && source && first && (
        <BeforeAfter before={imageUrl(source)} after={first.url} width={first.width} height={first.height} />
      )}
      {images.length > 0 && <ResultsGrid images={images} onOpen={setViewing} />}

      <footer className="task__actions">
        {active && (
          <button
            type="button"
            className="button"
            onClick={() => cancel.mutate(task.task_id)}
            disabled={cancel.isPending}
          >
            {t("common.cancel")}
          </button>
        )}
        {!active && actions?.(task)}
        {confirming ? (
          <span className="confirm" role="group" aria-label={t("task.deleteAsk")}>
            <span className="confirm__ask">{t("task.deleteAsk")}</span>
            <button
              type="button"
              className="button button--danger"
              onClick={() => remove.mutate(task.task_id)}
              disabled={remove.isPending}
            >
              {t("common.confirmDelete")}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              {t("common.keep")}
            </button>
          </span>
        ) : (
          <button type="button" className="button button--ghost" onClick={() => setConfirming(true)}>
            {t("common.delete")}
          </button>
        )}
      </footer>
      <ErrorNotice error={cancel.error ?? remove.error} />

      <ImageViewer
        images={images}
        index={viewing}
        onIndex={setViewing}
        title={title}
        onUseSeed={onUseSeed ? (seed) => onUseSeed(task, seed) : undefined}
      />
    </article>
  );
}
