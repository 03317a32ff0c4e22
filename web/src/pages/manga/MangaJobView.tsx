import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";
import { isApiError } from "../../api/errors";
import { TERMINAL, type TaskEvent } from "../../api/types";
import { describeTaskError, statusLabel } from "../../components/describe";
import { ErrorNotice } from "../../components/ErrorNotice";
import { TaskProgress } from "../../components/TaskProgress";
import { useI18n } from "../../i18n";
import { useLive } from "../../live/context";
import { useTask } from "../../live/useTask";
import {
  EXPORT_FORMATS,
  exportUrl,
  mangaKey,
  useMangaJob,
  useRecompose,
  useRegenerate,
  useSelectVersion,
  type MangaJob,
  type MangaPanel,
  type PanelVersion,
  type ScriptPanel,
} from "./api";

const FORMAT_NAMES: Record<string, string> = { png: "PNG", webp: "WebP", pdf: "PDF", cbz: "CBZ" };

/** Follows the job's panel tasks (children of the job, same owner): progress is patched
 * into the cached view, every other event refetches it. */
function useFollowPanels(jobId: string, job: MangaJob | undefined) {
  const live = useLive();
  const qc = useQueryClient();
  const active = (job?.panels ?? [])
    .flatMap((panel) => panel.versions)
    .filter((version) => !TERMINAL.has(version.status))
    .map((version) => version.task_id)
    .join(" ");
  useEffect(() => {
    if (!active) return undefined;
    const refetch = () => void qc.invalidateQueries({ queryKey: mangaKey(jobId) });
    const patch = (event: TaskEvent) =>
      qc.setQueryData<MangaJob>(mangaKey(jobId), (held) =>
        held
          ? {
              ...held,
              panels: held.panels.map((panel) => ({
                ...panel,
                versions: panel.versions.map((v) =>
                  v.task_id === event.task_id
                    ? {
                        ...v,
                        status: event.status,
                        progress: Math.max(v.progress, event.progress ?? 0),
                        stage: event.stage ?? v.stage,
                        stage_progress: event.stage_progress ?? v.stage_progress,
                      }
                    : v,
                ),
              })),
            }
          : held,
      );
    const stops = active.split(" ").map((taskId) =>
      live.watch(taskId, {
        onEvent(event) {
          if (event.type === "progress") patch(event);
          else refetch();
        },
        onGone: refetch,
        onInterrupted: refetch,
      }),
    );
    return () => stops.forEach((stop) => stop());
  }, [active, jobId, live, qc]);
}

export function MangaJobView({ jobId }: { jobId: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const query = useMangaJob(jobId);
  const parent = useTask(jobId).data;
  const job = query.data;
  useFollowPanels(jobId, job);

  // every event of the job (stage, k/N panels, the end) refreshes its view
  const seq = parent?.seq;
  useEffect(() => {
    if (seq !== undefined) void qc.invalidateQueries({ queryKey: mangaKey(jobId) });
  }, [seq, jobId, qc]);

  const titleId = useId();
  if (!job) {
    const gone = isApiError(query.error) && query.error.status === 404;
    if (query.error && !gone) return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
    return <p role="status">{gone ? t("errors.not_found") : t("common.loading")}</p>;
  }

  // the live task runs ahead of the view between refetches
  const status = parent && TERMINAL.has(parent.status) ? parent.status : job.status;
  const finished = TERMINAL.has(status) && TERMINAL.has(job.status);
  const problem = parent ? describeTaskError(parent, t) : null;
  const script = new Map((job.script?.panels ?? []).map((p) => [p.panel_number, p]));

  return (
    <article className="manga" aria-labelledby={titleId} data-task-id={job.task_id} data-status={status}>
      <header className="task__head">
        <span className={`badge badge--${status}`}>{statusLabel(status, t)}</span>
        <h3 id={titleId} className="task__title">
          {job.title || t("manga.untitled")}
        </h3>
        {job.panels.length > 0 && (
          <p className="task__meta">
            <span>{t("manga.panelCount", { n: job.panels.length })}</span>
            {job.model && <span>{job.model}</span>}
            {job.base_seed != null && <span>{t("viewer.seed", { seed: job.base_seed })}</span>}
          </p>
        )}
      </header>
      {parent && status !== "failed" && status !== "cancelled" && <TaskProgress task={parent} />}
      {status === "processing" && job.stage === "panel_processing" && job.stage_progress.total > 0 && (
        <p className="task__note" role="status">
          {t("manga.panelsDrawn", { current: job.stage_progress.current, total: job.stage_progress.total })}
        </p>
      )}
      {problem && status !== "partial" && <p className="notice notice--error">{problem}</p>}
      {job.failures.length > 0 && (
        <div className="notice notice--warn" role="alert">
          <p>{t("manga.partial")}</p>
          <ul>
            {job.failures.map((failure) => (
              <li key={failure.panel_number}>
                {t("manga.failedPanel", {
                  n: failure.panel_number,
                  message: failure.message || failure.code,
                })}
              </li>
            ))}
          </ul>
        </div>
      )}

      {job.panels.length === 0 ? (
        !finished && <p className="empty">{t("manga.writing")}</p>
      ) : (
        <ol className="manga__panels" aria-label={t("manga.panelList")}>
          {job.panels.map((panel) => (
            <li key={panel.panel_number}>
              <PanelCard
                jobId={job.task_id}
                panel={panel}
                script={script.get(panel.panel_number)}
                editable={finished}
              />
            </li>
          ))}
        </ol>
      )}

      {finished && <PagePreview job={job} />}
    </article>
  );
}

function shownVersion(panel: MangaPanel): PanelVersion | undefined {
  return panel.versions.find((v) => v.version === panel.selected_version) ?? panel.versions.at(-1);
}

function PanelCard({
  jobId,
  panel,
  script,
  editable,
}: {
  jobId: string;
  panel: MangaPanel;
  script: ScriptPanel | undefined;
  editable: boolean;
}) {
  const { t } = useI18n();
  const ids = useId();
  const select = useSelectVersion(jobId);
  const regenerate = useRegenerate(jobId);
  const [text, setText] = useState("");
  const n = panel.panel_number;
  const shown = shownVersion(panel);
  const latest = panel.versions.at(-1);
  const drawing = panel.versions.some((v) => !TERMINAL.has(v.status));
  const image = shown?.image ?? [...panel.versions].reverse().find((v) => v.image)?.image;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    regenerate.mutate({ panel: n, text: text.trim() || undefined }, { onSuccess: () => setText("") });
  };

  return (
    <article className="mpanel" aria-labelledby={`${ids}-title`} data-panel={n}>
      <header className="mpanel__head">
        <h4 id={`${ids}-title`}>{t("manga.panel", { n })}</h4>
        {latest && <span className={`badge badge--${latest.status}`}>{statusLabel(latest.status, t)}</span>}
      </header>
      <div className="mpanel__image">
        {image ? (
          <img
            src={image.url}
            alt={t("manga.panelImage", { n, v: shown?.image ? shown.version : 0 })}
            width={image.width}
            height={image.height}
          />
        ) : (
          <span className="mpanel__blank" aria-hidden="true" />
        )}
      </div>
      {latest && !TERMINAL.has(latest.status) && (
        <div
          className="progress__bar"
          role="progressbar"
          aria-label={t("manga.panelProgress", { n })}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(latest.progress)}
        >
          <span className="progress__fill" style={{ width: `${Math.round(latest.progress)}%` }} />
        </div>
      )}
      {latest?.status === "failed" && latest.error && (
        <p className="notice notice--error">
          {t("manga.versionFailed", {
            v: latest.version,
            message: latest.error.message ?? latest.error.code,
          })}
        </p>
      )}
      {script && <p className="mpanel__scene">{script.caption || script.scene_description}</p>}

      {panel.versions.length > 1 && (
        <fieldset className="mpanel__versions">
          <legend>{t("manga.versions", { n })}</legend>
          {panel.versions.map((v) => (
            <label key={v.version} className="inline">
              <input
                type="radio"
                name={`${ids}-version`}
                value={v.version}
                checked={panel.selected_version === v.version}
                disabled={v.status !== "completed" || !editable || select.isPending}
                onChange={() => select.mutate({ panel: n, version: v.version })}
              />
              {t("manga.version", { v: v.version })}
              {v.status !== "completed" && ` (${statusLabel(v.status, t)})`}
            </label>
          ))}
        </fieldset>
      )}
      <ErrorNotice error={select.error} />

      {editable && (
        <details className="mpanel__again">
          <summary>{t("manga.again")}</summary>
          <form className="form" onSubmit={submit}>
            <div className="field">
              <label htmlFor={`${ids}-text`}>{t("manga.newScene")}</label>
              <textarea
                id={`${ids}-text`}
                rows={3}
                maxLength={1200}
                value={text}
                placeholder={script?.scene_description ?? ""}
                onChange={(e) => setText(e.target.value)}
              />
              <p className="hint">{t("manga.newSceneHint")}</p>
            </div>
            <button type="submit" className="button" disabled={regenerate.isPending || drawing}>
              {t("manga.drawAgain", { n })}
            </button>
            <ErrorNotice error={regenerate.error} />
          </form>
        </details>
      )}
    </article>
  );
}

function PagePreview({ job }: { job: MangaJob }) {
  const { t } = useI18n();
  const recompose = useRecompose(job.task_id);
  const page = job.page;
  return (
    <section className="manga__page" aria-labelledby={`page-${job.task_id}`}>
      <h4 id={`page-${job.task_id}`}>{t("manga.page")}</h4>
      {page ? (
        <img
          className="manga__page-image"
          src={page.image.url}
          alt={t("manga.pageImage", { title: job.title || t("manga.untitled") })}
          width={page.image.width}
          height={page.image.height}
        />
      ) : (
        <p className="empty">{t("manga.noPage")}</p>
      )}
      {page?.stale && <p className="notice notice--info">{t("manga.stale")}</p>}
      {(!page || page.stale) && (
        <button
          type="button"
          className="button button--primary"
          onClick={() => recompose.mutate()}
          disabled={recompose.isPending}
        >
          {recompose.isPending ? t("manga.composing") : t("manga.recompose")}
        </button>
      )}
      <ErrorNotice error={recompose.error} />
      {page && (
        <div className="manga__exports" role="group" aria-label={t("manga.download")}>
          <span>{t("manga.download")}</span>
          {EXPORT_FORMATS.filter(
            (format) => format in job.exports || Object.keys(job.exports).length === 0,
          ).map((format) => (
            <a
              key={format}
              className="button button--small"
              href={exportUrl(job.task_id, format)}
              download
              aria-label={t("manga.downloadAs", { format: FORMAT_NAMES[format] ?? format })}
            >
              {FORMAT_NAMES[format]}
            </a>
          ))}
        </div>
      )}
    </section>
  );
}
