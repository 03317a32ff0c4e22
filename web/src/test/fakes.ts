/** Test doubles at the edges only: `fetch` answered by an in-memory route table, and a
 * WebSocket / EventSource the test drives. Everything between them is the real code. */
import { vi } from "vitest";
import type { ImageOut, ModelInfo, PresetListing, ProvidersResponse, Task, TaskEvent } from "../api/types";

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export interface Call {
  method: string;
  path: string;
  url: URL;
  body: unknown;
}

type Handler = (call: Call, params: Record<string, string>) => unknown;

/** Replaces fetch. Route keys are "METHOD /path/{param}"; a handler returns a Response or
 * a body to send as JSON. Unknown routes answer the API's 404 envelope. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const table = Object.entries({ ...defaultRoutes(), ...routes }).map(([key, handler]) => {
    const [method, pattern] = key.split(" ") as [string, string];
    const names: string[] = [];
    const regex = new RegExp(
      "^" + pattern.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), "([^/]+)")) + "$",
    );
    return { method, regex, names, handler };
  });
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url, "http://localhost:5173");
    const type = request.headers.get("content-type") ?? "";
    let body: unknown = undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      body = type.includes("application/json")
        ? await request.json()
        : await request.formData().catch(() => null);
    }
    const call = { method: request.method, path: url.pathname, url, body };
    calls.push(call);
    for (const route of table) {
      const match = route.method === request.method ? route.regex.exec(url.pathname) : null;
      if (!match) continue;
      const params = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]),
      );
      const out = await route.handler(call, params);
      return out instanceof Response ? out : json(out);
    }
    return json({ error: "not_found", message: "Not Found", details: null }, 404);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetch: fetchMock };
}

export const MODELS: ModelInfo[] = [
  {
    id: "procedural",
    provider: "procedural",
    kind: "procedural",
    capabilities: ["text_to_image"],
    description: "offline",
    max_width: 2048,
    max_height: 2048,
    max_images: 8,
    supports_seed: true,
    supports_negative_prompt: true,
    default_steps: 8,
  },
  {
    id: "classical",
    provider: "classical",
    kind: "classical",
    capabilities: ["image_to_image"],
    description: "filters",
    max_width: 2048,
    max_height: 2048,
    max_images: 4,
    supports_seed: true,
    supports_negative_prompt: true,
    default_steps: 8,
  },
];

export const PROVIDERS: ProvidersResponse = {
  window_hours: 24,
  providers: [
    {
      name: "procedural",
      configured: true,
      models: ["procedural"],
      health: "healthy",
      recent_success_rate: 1,
      calls: 3,
    },
  ],
  routes: { auto: { candidates: { procedural: 1 }, fallback: [] } },
};

const preset = (kind: "style" | "location", id: string, name: string) => ({
  id,
  kind,
  name,
  description: `${name} description`,
  tags: [],
  preview: { colour: "#336699", accent: "#ffcc00", thumbnail: "🎨" },
  params: { strength: 0.5, steps: 12, guidance: 3 },
});

export const PRESETS: PresetListing = {
  language: "en",
  styles: [preset("style", "watercolor", "Watercolour"), preset("style", "sketch", "Sketch")],
  locations: [preset("location", "west-lake", "West Lake")],
};

function defaultRoutes(): Record<string, Handler> {
  return {
    "GET /api/v1/models": () => ({ models: MODELS }),
    "GET /api/v1/providers": () => PROVIDERS,
    "GET /api/v1/presets": () => PRESETS,
    "GET /api/v1/system/info": () => ({ task_kinds: ["generate", "stylize"] }),
    "GET /api/v1/tasks": () => ({ items: [], next_cursor: null }),
  };
}

let counter = 0;

export function image(overrides: Partial<ImageOut> = {}): ImageOut {
  counter += 1;
  const id = overrides.image_id ?? `img-${counter}`;
  return {
    image_id: id,
    url: `/api/v1/images/${id}`,
    thumbnail_url: `/api/v1/images/${id}/thumbnail`,
    width: 256,
    height: 256,
    file_size: 1000,
    format: "png",
    content_type: "image/png",
    seed: 42,
    ...overrides,
  };
}

export function task(overrides: Partial<Task> = {}): Task {
  counter += 1;
  return {
    task_id: `task-${counter}`,
    kind: "generate",
    status: "pending",
    stage: null,
    stage_progress: { current: 0, total: 0 },
    progress: 0,
    queue_position: 0,
    estimated_time: 4,
    attempts: 0,
    error: null,
    params: {
      prompt: "a red fox in the snow",
      width: 256,
      height: 256,
      num_images: 1,
      steps: 8,
      scale: 0,
      seed: 42,
    },
    result: null,
    provider: "procedural",
    created_at: new Date().toISOString(),
    started_at: null,
    completed_at: null,
    updated_at: new Date().toISOString(),
    ...overrides,
  };
}

export function event(taskId: string, seq: number, overrides: Partial<TaskEvent> = {}): TaskEvent {
  return {
    task_id: taskId,
    seq,
    type: "progress",
    at: new Date().toISOString(),
    status: "processing",
    progress: 0,
    stage: "generating",
    stage_progress: { current: 0, total: 8 },
    attempts: 1,
    ...overrides,
  };
}

/** A WebSocket the test opens, feeds and drops. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.all.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  emit(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(): void {
    this.readyState = 3;
    this.onclose?.();
  }
}

/** An EventSource the test feeds with named events. */
export class FakeSource {
  static all: FakeSource[] = [];
  readyState = 0;
  closed = false;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((message: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    FakeSource.all.push(this);
  }

  addEventListener(type: string, listener: (message: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  emit(type: string, data: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) {
      listener(new MessageEvent(type, { data: JSON.stringify(data) }));
    }
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
}
