/** The last event sequence number seen per task, kept in localStorage so that a reloaded or
 * reopened page resumes each task's stream where it stopped (the `after`/`Last-Event-ID` of
 * the API) instead of replaying it from the start. Writes are batched. */
const KEY = "atelier.seq";
const LIMIT = 200;

export class SeqStore {
  private seqs: Map<string, number>;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly storage: Storage | null = safeStorage()) {
    this.seqs = new Map(read(storage));
  }

  get(taskId: string): number {
    return this.seqs.get(taskId) ?? 0;
  }

  set(taskId: string, seq: number): void {
    if (seq <= this.get(taskId)) return;
    this.seqs.delete(taskId);
    this.seqs.set(taskId, seq); // newest last, so the oldest are dropped first
    this.schedule();
  }

  forget(taskId: string): void {
    if (this.seqs.delete(taskId)) this.schedule();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.storage) return;
    const entries = [...this.seqs].slice(-LIMIT);
    try {
      this.storage.setItem(KEY, JSON.stringify(Object.fromEntries(entries)));
    } catch {
      // quota or privacy mode: resuming falls back to a full replay, nothing is lost
    }
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), 500);
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

function read(storage: Storage | null): [string, number][] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(KEY) ?? "{}");
    if (typeof parsed !== "object" || parsed === null) return [];
    return Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number");
  } catch {
    return [];
  }
}
