/** How live events and fetched snapshots combine into the task the UI shows. Pure functions:
 * events apply in sequence order, and a late or replayed message never moves a task back. */
import { TERMINAL, type Task, type TaskEvent } from "../api/types";

/** The task after `event`; ignored when it is not newer than what was applied already. */
export function applyEvent(task: Task | undefined, event: TaskEvent): Task | undefined {
  if (!task) return task;
  if (event.seq <= (task.seq ?? 0)) return task;
  if (TERMINAL.has(task.status) && !TERMINAL.has(event.status)) return { ...task, seq: event.seq };
  const waiting = event.status === "pending" || event.status === "retrying";
  return {
    ...task,
    seq: event.seq,
    status: event.status,
    progress: Math.max(task.progress, event.progress ?? 0),
    stage: event.stage ?? task.stage,
    stage_progress: event.stage_progress ?? task.stage_progress,
    attempts: event.attempts ?? task.attempts,
    error: event.error ?? (event.status === "completed" ? null : task.error),
    result: event.result ?? task.result,
    queue_position: waiting ? task.queue_position : null,
    started_at: task.started_at ?? (event.type === "started" ? event.at : null),
    completed_at: TERMINAL.has(event.status) ? (task.completed_at ?? event.at) : task.completed_at,
    updated_at: event.at,
  };
}

/** Combines a fetched snapshot with what the UI holds: the snapshot wins unless the held
 * state is further along (a finished task stays finished, progress never shrinks). */
export function mergeTask(held: Task | undefined, fetched: Task): Task {
  if (!held) return fetched;
  if (TERMINAL.has(held.status) && !TERMINAL.has(fetched.status)) return held;
  // a task never goes back to the queue once started: that snapshot is older than our state
  if (fetched.status === "pending" && held.status !== "pending") return held;
  if (!TERMINAL.has(fetched.status) && fetched.progress < held.progress) {
    return { ...fetched, progress: held.progress, stage: held.stage, seq: held.seq };
  }
  return { ...fetched, seq: Math.max(held.seq ?? 0, fetched.seq ?? 0) || undefined };
}

export const isActive = (task: Pick<Task, "status">): boolean => !TERMINAL.has(task.status);
