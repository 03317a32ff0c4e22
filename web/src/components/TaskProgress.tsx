import { WAITING, type Task } from "../api/types";
import { useI18n } from "../i18n";
import { stageLabel } from "./describe";

/** Seconds left: the server's estimate while queued; while running, extrapolated from the
 * progress made since the task started. */
export function remainingSeconds(task: Task, now = Date.now()): number | null {
  if (WAITING.has(task.status)) return task.estimated_time ?? null;
  if (task.status !== "processing") return null;
  if (task.started_at && task.progress >= 3) {
    const elapsed = (now - Date.parse(task.started_at)) / 1000;
    if (elapsed > 0) return (elapsed * (100 - task.progress)) / task.progress;
  }
  return task.estimated_time ?? null;
}

export function TaskProgress({ task }: { task: Task }) {
  const { t, duration } = useI18n();
  const percent = Math.max(0, Math.min(100, Math.round(task.progress)));
  const stage = stageLabel(task, t);
  const details: string[] = [];
  if (WAITING.has(task.status) && task.queue_position != null) {
    details.push(
      task.queue_position > 0 ? t("progress.queue", { n: task.queue_position }) : t("progress.queueNext"),
    );
  }
  const total = task.stage_progress?.total ?? 0;
  if (task.status === "processing" && total > 0) {
    details.push(t("progress.step", { current: task.stage_progress.current, total }));
  }
  const left = remainingSeconds(task);
  if (left !== null && left > 0) details.push(t("progress.eta", { time: duration(left) }));
  if (task.status === "completed" && task.started_at && task.completed_at) {
    const took = (Date.parse(task.completed_at) - Date.parse(task.started_at)) / 1000;
    if (took >= 0) details.push(t("progress.doneIn", { time: duration(took) }));
  }
  return (
    <div className="progress">
      <div
        className="progress__bar"
        role="progressbar"
        aria-label={t("progress.label")}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={`${percent}% · ${stage}`}
      >
        <span className="progress__fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="progress__meta">
        {task.status !== "completed" && <span className="progress__stage">{stage}</span>}
        <span className="progress__percent">{percent}%</span>
        {details.map((detail) => (
          <span key={detail}>{detail}</span>
        ))}
      </p>
    </div>
  );
}
