/** Live task events for any number of tasks over one connection.
 *
 * The WebSocket (`/api/v1/ws`) carries every watched task: each subscription names the last
 * sequence number already seen, so the server replays what was missed, then follows live.
 * A dropped socket reconnects with backoff and subscribes again from where each task
 * stopped. When the socket never opens at all (a proxy without WebSocket support; a server
 * restart, once a socket worked, is waited out instead), the transport falls back to one
 * Server-Sent Events stream per task (`/api/v1/tasks/{id}/stream?after=…`), which the
 * browser resumes with `Last-Event-ID`.
 */
import { TERMINAL, type TaskEvent } from "../api/types";
import { SeqStore } from "./seqs";

export interface Watcher {
  onEvent(event: TaskEvent): void;
  /** The server does not know the task (deleted, or another owner's). */
  onGone?(): void;
  /** The stream broke and is being reopened; a caller may refetch the task meanwhile. */
  onInterrupted?(): void;
}

export interface LiveOptions {
  origin?: string;
  createSocket?: (url: string) => WebSocket;
  createSource?: (url: string) => EventSource;
  /** Called before retrying a socket that never opened (it needs the session cookie). */
  ensureSession?: () => Promise<void>;
  seqs?: SeqStore;
  /** Consecutive socket attempts that never open before falling back to SSE. */
  maxSocketFailures?: number;
  /** How long an idle socket (nothing watched) stays open, ms. */
  idleCloseMs?: number;
}

export const EVENT_TYPES = ["created", "started", "progress", "retrying", "completed", "failed", "cancelled"];
const OPEN = 1;
const CLOSED = 2;

export class LiveTasks {
  readonly seqs: SeqStore;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly sources = new Map<string, EventSource>();
  private socket: WebSocket | null = null;
  private failures = 0;
  /** A socket opened once: later failures are outages to wait out, not a missing feature. */
  private socketWorked = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private mode: "ws" | "sse";

  constructor(private readonly options: LiveOptions = {}) {
    this.seqs = options.seqs ?? new SeqStore();
    const socketsAvailable = Boolean(options.createSocket) || typeof WebSocket !== "undefined";
    this.mode = socketsAvailable ? "ws" : "sse";
    // the last positions survive a reload or a closed tab
    globalThis.addEventListener?.("pagehide", () => this.seqs.flush());
  }

  get transport(): "ws" | "sse" {
    return this.mode;
  }

  /** Follows a task until the returned function is called. */
  watch(taskId: string, watcher: Watcher): () => void {
    let set = this.watchers.get(taskId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.watchers.set(taskId, set);
    }
    set.add(watcher);
    if (first) this.open(taskId);
    return () => {
      const current = this.watchers.get(taskId);
      if (!current?.delete(watcher) || current.size > 0) return;
      this.watchers.delete(taskId);
      this.close(taskId);
    };
  }

  /** Closes everything (tests; page teardown). */
  dispose(): void {
    this.watchers.clear();
    for (const source of this.sources.values()) source.close();
    this.sources.clear();
    this.clearTimers();
    this.socket?.close();
    this.socket = null;
    this.seqs.flush();
  }

  private get origin(): string {
    return this.options.origin ?? globalThis.location?.origin ?? "";
  }

  private open(taskId: string): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.mode === "sse") {
      this.openSource(taskId);
    } else if (this.socket?.readyState === OPEN) {
      this.subscribe([taskId]);
    } else {
      this.connect();
    }
  }

  private close(taskId: string): void {
    if (this.mode === "sse") {
      this.sources.get(taskId)?.close();
      this.sources.delete(taskId);
      return;
    }
    if (this.socket?.readyState === OPEN) this.send({ action: "unsubscribe", task_ids: [taskId] });
    if (this.watchers.size === 0 && !this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.watchers.size > 0) return;
        this.clearTimers();
        const socket = this.socket;
        this.socket = null;
        socket?.close();
      }, this.options.idleCloseMs ?? 5000);
    }
  }

  // -- WebSocket ---------------------------------------------------------------------------
  private connect(): void {
    if (this.socket || this.retryTimer) return;
    const url = this.origin.replace(/^http/, "ws") + "/api/v1/ws";
    let socket: WebSocket;
    try {
      socket = this.options.createSocket ? this.options.createSocket(url) : new WebSocket(url);
    } catch {
      this.socketFailed();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.socketWorked = true;
      this.failures = 0;
      this.subscribe([...this.watchers.keys()]);
    };
    socket.onmessage = (message: MessageEvent) => this.receive(message.data);
    socket.onclose = () => {
      if (this.socket !== socket) return; // closed on purpose
      this.socket = null;
      if (this.watchers.size === 0) return;
      if (opened) this.reconnectLater();
      else this.socketFailed();
    };
  }

  private subscribe(taskIds: string[]): void {
    if (taskIds.length === 0) return;
    const after = Object.fromEntries(taskIds.map((id) => [id, this.seqs.get(id)]));
    this.send({ action: "subscribe", task_ids: taskIds, after });
  }

  private send(message: unknown): void {
    this.socket?.send(JSON.stringify(message));
  }

  private socketFailed(): void {
    this.failures += 1;
    if (!this.socketWorked && this.failures >= (this.options.maxSocketFailures ?? 3)) {
      this.mode = "sse";
      for (const taskId of this.watchers.keys()) this.openSource(taskId);
      return;
    }
    const ready = this.options.ensureSession?.() ?? Promise.resolve();
    void ready.catch(() => undefined).finally(() => this.reconnectLater());
  }

  private reconnectLater(): void {
    if (this.retryTimer || this.watchers.size === 0) return;
    const delay = Math.min(10_000, 500 * 2 ** this.failures);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.watchers.size > 0 && this.mode === "ws") this.connect();
    }, delay);
  }

  private receive(raw: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const m = message as Partial<TaskEvent> & { error?: unknown };
    if (m.type === "error" && typeof m.task_id === "string") {
      this.seqs.forget(m.task_id);
      for (const watcher of [...(this.watchers.get(m.task_id) ?? [])]) watcher.onGone?.();
      return;
    }
    if (typeof m.task_id === "string" && typeof m.seq === "number") this.deliver(m as TaskEvent);
  }

  private deliver(event: TaskEvent): void {
    this.seqs.set(event.task_id, event.seq);
    for (const watcher of [...(this.watchers.get(event.task_id) ?? [])]) watcher.onEvent(event);
    if (TERMINAL.has(event.status)) this.seqs.forget(event.task_id);
  }

  // -- Server-Sent Events -------------------------------------------------------------------
  private openSource(taskId: string): void {
    if (this.sources.has(taskId)) return;
    const path = `/api/v1/tasks/${encodeURIComponent(taskId)}/stream?after=${this.seqs.get(taskId)}`;
    const url = this.origin + path;
    const source = this.options.createSource
      ? this.options.createSource(url)
      : new EventSource(url, { withCredentials: true });
    this.sources.set(taskId, source);
    const onMessage = (message: MessageEvent) => {
      let event: TaskEvent;
      try {
        event = JSON.parse(String(message.data)) as TaskEvent;
      } catch {
        return;
      }
      if (TERMINAL.has(event.status)) {
        source.close(); // the server ends the stream; do not let the browser reopen it
        this.sources.delete(taskId);
      }
      this.deliver(event);
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, onMessage as EventListener);
    source.onerror = () => {
      for (const watcher of [...(this.watchers.get(taskId) ?? [])]) watcher.onInterrupted?.();
      if (source.readyState !== CLOSED) return; // the browser reconnects with Last-Event-ID
      this.sources.delete(taskId);
      setTimeout(() => {
        if (this.watchers.has(taskId) && this.mode === "sse") this.openSource(taskId);
      }, 3000);
    };
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.retryTimer = null;
    this.idleTimer = null;
  }
}
