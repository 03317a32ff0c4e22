import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TaskEvent } from "../api/types";
import { event, FakeSocket, FakeSource } from "../test/fakes";
import { SeqStore } from "./seqs";
import { LiveTasks } from "./transport";

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

function live(options: Partial<ConstructorParameters<typeof LiveTasks>[0]> = {}) {
  return new LiveTasks({
    origin: "http://studio.test",
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    createSource: (url) => new FakeSource(url) as unknown as EventSource,
    seqs: new SeqStore(null),
    ...options,
  });
}

beforeEach(() => {
  FakeSocket.all = [];
  FakeSource.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("LiveTasks over the WebSocket", () => {
  it("subscribes every watched task from its last seen event and delivers its events", () => {
    const seqs = new SeqStore(null);
    seqs.set("t1", 4);
    const transport = live({ seqs });
    const got: TaskEvent[] = [];
    transport.watch("t1", { onEvent: (e) => got.push(e) });
    transport.watch("t2", { onEvent: (e) => got.push(e) });
    expect(FakeSocket.all).toHaveLength(1);
    const socket = FakeSocket.latest();
    expect(socket.url).toBe("ws://studio.test/api/v1/ws");
    socket.open();
    expect(socket.sent).toEqual([{ action: "subscribe", task_ids: ["t1", "t2"], after: { t1: 4, t2: 0 } }]);
    socket.emit(event("t1", 5, { progress: 40 }));
    socket.emit({ type: "ping" });
    socket.emit(event("t2", 1, { type: "created", status: "pending" }));
    expect(got.map((e) => [e.task_id, e.seq])).toEqual([
      ["t1", 5],
      ["t2", 1],
    ]);
    expect(seqs.get("t1")).toBe(5);
  });

  it("reconnects after a drop and resumes after the last event seen", () => {
    const transport = live();
    transport.watch("t1", { onEvent: () => undefined });
    const first = FakeSocket.latest();
    first.open();
    first.emit(event("t1", 7, { progress: 70 }));
    first.drop();
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(600);
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent).toEqual([{ action: "subscribe", task_ids: ["t1"], after: { t1: 7 } }]);
  });

  it("tells the watcher when the server does not know the task", () => {
    const transport = live();
    const onGone = vi.fn();
    transport.watch("t9", { onEvent: () => undefined, onGone });
    FakeSocket.latest().open();
    FakeSocket.latest().emit({ type: "error", error: "not_found", task_id: "t9" });
    expect(onGone).toHaveBeenCalledOnce();
  });

  it("unsubscribes a task nobody watches and closes the idle socket later", () => {
    const transport = live({ idleCloseMs: 1000 });
    const stop = transport.watch("t1", { onEvent: () => undefined });
    const socket = FakeSocket.latest();
    socket.open();
    stop();
    expect(socket.sent.at(-1)).toEqual({ action: "unsubscribe", task_ids: ["t1"] });
    expect(socket.readyState).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(socket.readyState).toBe(3);
  });

  it("falls back to Server-Sent Events when the socket never opens", async () => {
    const ensureSession = vi.fn(() => Promise.resolve());
    const seqs = new SeqStore(null);
    seqs.set("t1", 3);
    const transport = live({ seqs, ensureSession, maxSocketFailures: 2 });
    const got: number[] = [];
    transport.watch("t1", { onEvent: (e) => got.push(e.seq) });
    FakeSocket.latest().drop(); // refused before opening
    await vi.runAllTimersAsync();
    expect(ensureSession).toHaveBeenCalled();
    FakeSocket.latest().drop();
    expect(transport.transport).toBe("sse");
    const source = FakeSource.all.at(-1)!;
    expect(source.url).toBe("http://studio.test/api/v1/tasks/t1/stream?after=3");
    source.emit("progress", event("t1", 4, { progress: 50 }));
    source.emit("completed", event("t1", 5, { type: "completed", status: "completed", progress: 100 }));
    expect(got).toEqual([4, 5]);
    expect(source.closed).toBe(true);
  });
});

it("waits out an outage on the socket instead of falling back", async () => {
  const transport = live({ maxSocketFailures: 2, ensureSession: () => Promise.resolve() });
  transport.watch("t1", { onEvent: () => undefined });
  FakeSocket.latest().open();
  FakeSocket.latest().drop(); // the server restarts…
  for (let i = 0; i < 4; i++) {
    await vi.runOnlyPendingTimersAsync();
    FakeSocket.latest().drop(); // …and refuses connections for a while
  }
  await vi.runOnlyPendingTimersAsync();
  expect(transport.transport).toBe("ws");
  expect(FakeSource.all).toHaveLength(0);
  FakeSocket.latest().open();
  expect(FakeSocket.latest().sent).toEqual([{ action: "subscribe", task_ids: ["t1"], after: { t1: 0 } }]);
});

describe("SeqStore", () => {
  it("keeps the last position per task across instances, and forgets finished ones", () => {
    const storage = memoryStorage();
    const a = new SeqStore(storage);
    a.set("t1", 3);
    a.set("t1", 2); // never backwards
    a.set("t2", 8);
    a.forget("t2");
    a.flush();
    const b = new SeqStore(storage);
    expect(b.get("t1")).toBe(3);
    expect(b.get("t2")).toBe(0);
  });
});
