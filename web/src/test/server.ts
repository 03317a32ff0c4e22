/** A tiny in-memory task API over {@link fakeApi}: tasks created by POST show up in lists. */
import type { Task } from "../api/types";
import { fakeApi, json, task as makeTask, type Call } from "./fakes";

export function taskServer(initial: Task[] = [], extra: Parameters<typeof fakeApi>[0] = {}) {
  const tasks = [...initial];
  const find = (id: string) => tasks.find((t) => t.task_id === id);
  const api = fakeApi({
    "GET /api/v1/tasks": (call: Call) => {
      const status = call.url.searchParams.getAll("status");
      const kind = call.url.searchParams.getAll("kind");
      const items = tasks.filter(
        (t) => (!status.length || status.includes(t.status)) && (!kind.length || kind.includes(t.kind)),
      );
      return { items, next_cursor: null };
    },
    "GET /api/v1/tasks/{id}": (_call, { id }) =>
      find(id!) ?? json({ error: "not_found", message: "task not found", details: null }, 404),
    "POST /api/v1/tasks": (call) => {
      const body = call.body as { kind: string; params: Record<string, unknown> };
      const created = makeTask({
        kind: body.kind,
        params: body.params,
        status: "pending",
        queue_position: 0,
      });
      tasks.unshift(created);
      return json(
        {
          task_id: created.task_id,
          status: "pending",
          created_at: created.created_at,
          queue_position: 0,
          estimated_time: 4,
        },
        201,
      );
    },
    "POST /api/v1/tasks/{id}/cancel": (_call, { id }) => {
      const t = find(id!);
      if (!t) return json({ error: "not_found", message: "task not found", details: null }, 404);
      Object.assign(t, {
        status: "cancelled",
        error: { code: "cancelled", message: "cancelled by the owner" },
      });
      return t;
    },
    "DELETE /api/v1/tasks/{id}": (_call, { id }) => {
      const i = tasks.findIndex((t) => t.task_id === id);
      if (i >= 0) tasks.splice(i, 1);
      return new Response(null, { status: 204 });
    },
    ...extra,
  });
  return { ...api, tasks };
}
