import { describe, expect, it } from "vitest";
import { event, task } from "../test/fakes";
import { applyEvent, mergeTask } from "./state";

describe("applyEvent", () => {
  it("applies events in sequence order and ignores replays", () => {
    const start = task({ status: "pending" });
    const running = applyEvent(start, event(start.task_id, 2, { type: "started", progress: 0 }));
    const half = applyEvent(running, event(start.task_id, 3, { progress: 50 }));
    expect(half).toMatchObject({ status: "processing", progress: 50, seq: 3, queue_position: null });
    expect(half?.started_at).toBeTruthy();
    // a replayed older event changes nothing
    expect(applyEvent(half, event(start.task_id, 2, { progress: 10 }))).toBe(half);
  });

  it("keeps results and never lets progress go backwards", () => {
    const t = task({ status: "processing", progress: 60, seq: 5 });
    expect(applyEvent(t, event(t.task_id, 6, { progress: 40 }))?.progress).toBe(60);
    const done = applyEvent(
      t,
      event(t.task_id, 7, { type: "completed", status: "completed", progress: 100, result: { images: [] } }),
    );
    expect(done).toMatchObject({ status: "completed", progress: 100, result: { images: [] } });
    expect(done?.completed_at).toBeTruthy();
  });

  it("keeps a finished task finished", () => {
    const t = task({ status: "cancelled", seq: 4 });
    expect(applyEvent(t, event(t.task_id, 5, { status: "processing" }))?.status).toBe("cancelled");
  });

  it("carries the error of a failure", () => {
    const t = task({ status: "processing", seq: 2 });
    const failed = applyEvent(
      t,
      event(t.task_id, 3, {
        type: "failed",
        status: "failed",
        error: { code: "content_rejected", message: "no" },
      }),
    );
    expect(failed?.error).toEqual({ code: "content_rejected", message: "no" });
  });
});

describe("mergeTask", () => {
  it("takes the fetched snapshot unless the held state is further along", () => {
    const held = task({ status: "processing", progress: 70, seq: 9 });
    const stale = { ...held, progress: 30, seq: undefined };
    expect(mergeTask(held, stale).progress).toBe(70);
    const newer = { ...held, status: "completed", progress: 100, seq: undefined };
    expect(mergeTask(held, newer)).toMatchObject({ status: "completed", progress: 100, seq: 9 });
    expect(mergeTask(held, { ...held, status: "pending", progress: 0 }).status).toBe("processing");
    const finished = { ...held, status: "completed" };
    expect(mergeTask(finished, { ...held, status: "processing" }).status).toBe("completed");
    expect(mergeTask(undefined, held)).toBe(held);
  });
});
