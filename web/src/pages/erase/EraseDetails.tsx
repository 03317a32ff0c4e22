import type { ImageOut, Task } from "../../api/types";
import { stageLabel } from "../../components/describe";
import { useI18n } from "../../i18n";

export const ERASE_STAGES = [
  "validate",
  "text_detection",
  "subject_segmentation",
  "mask",
  "erasing",
  "background_redraw",
  "quality_check",
  "store",
] as const;

interface EraseResult {
  image?: ImageOut;
  text_mask?: ImageOut | null;
  subject_mask?: ImageOut | null;
  report?: {
    total_seconds?: number;
    quality?: { lines_erased?: number; lines_still_read?: number };
  };
}

/** What an erase task adds to its card: the stages, the masks, a report line, a download. */
export function EraseDetails({ task }: { task: Task }) {
  const { t, duration } = useI18n();
  const result = (task.result ?? {}) as EraseResult;
  const done = task.status === "completed";
  const current = ERASE_STAGES.indexOf(task.stage as (typeof ERASE_STAGES)[number]);
  const quality = result.report?.quality;
  const image = result.image;
  return (
    <div className="erase">
      {!done && task.status !== "pending" && (
        <ol className="erase__stages" aria-label={t("erase.stages")}>
          {ERASE_STAGES.map((stage, i) => {
            const state = i < current ? "done" : i === current ? "now" : "next";
            return (
              <li
                key={stage}
                className={`erase__stage erase__stage--${state}`}
                aria-current={state === "now" ? "step" : undefined}
              >
                {stageLabel({ status: "processing", stage }, t)}
                <span className="sr-only">
                  {" "}
                  (
                  {t(
                    state === "done"
                      ? "erase.stageDone"
                      : state === "now"
                        ? "erase.stageNow"
                        : "erase.stageNext",
                  )}
                  )
                </span>
              </li>
            );
          })}
        </ol>
      )}
      {done && quality && (
        <p className="task__note">
          {t("erase.report", { erased: quality.lines_erased ?? 0, left: quality.lines_still_read ?? 0 })}
          {result.report?.total_seconds != null &&
            ` · ${t("erase.took", { time: duration(result.report.total_seconds) })}`}
        </p>
      )}
      {done && (result.text_mask || result.subject_mask) && (
        <figure className="erase__masks">
          <figcaption>{t("erase.masks")}</figcaption>
          <ul>
            {result.text_mask && (
              <li>
                <img src={result.text_mask.url} alt={t("erase.textMask")} loading="lazy" />
                <span aria-hidden="true">{t("erase.textMask")}</span>
              </li>
            )}
            {result.subject_mask && (
              <li>
                <img src={result.subject_mask.url} alt={t("erase.subjectMask")} loading="lazy" />
                <span aria-hidden="true">{t("erase.subjectMask")}</span>
              </li>
            )}
          </ul>
        </figure>
      )}
      {done && image && (
        <a
          className="button button--primary"
          href={image.url}
          download={`atelier-${image.image_id}.${image.format || "png"}`}
        >
          {t("erase.download")}
        </a>
      )}
    </div>
  );
}
