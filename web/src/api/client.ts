/** The typed HTTP client: openapi-fetch over the generated schema. Every call either returns
 * the response body or throws an {@link ApiError}. The session is the `atelier_session`
 * cookie the API sets on first use; the browser sends it back by itself. */
import createClient from "openapi-fetch";
import type { Lang } from "../i18n";
import { ApiError, networkError } from "./errors";
import type { paths } from "./schema";
import type {
  ImageOut,
  ModelInfo,
  PresetDetail,
  PresetListing,
  ProvidersResponse,
  StylizeForm,
  Task,
  TaskCreated,
  TaskPage,
} from "./types";

let sessionGate: Promise<void> | null = null;

/** Resolves once the browser holds a session cookie. The first API request of a page load mints
 * it alone; requests made meanwhile wait. Sent in parallel, start-up requests would each mint a
 * session and the last cookie to arrive would win, so whatever one of the others made (a file
 * dropped on a page still loading) would belong to a session the browser no longer holds. */
const sessionHeld = (): Promise<void> => {
  sessionGate ??= globalThis.fetch("/api/v1/tasks?limit=1", { credentials: "same-origin" }).then(
    () => undefined,
    () => {
      sessionGate = null; // offline: the next request tries again (and reports its own error)
    },
  );
  return sessionGate;
};

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "same-origin",
  // late-bound, so tests (and polyfills) that replace fetch are honoured
  fetch: async (request) => {
    await sessionHeld();
    return globalThis.fetch(request);
  },
});

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export async function call<T>(request: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await request;
  } catch (cause) {
    throw networkError(cause);
  }
  if (!outcome.response.ok || outcome.error !== undefined) {
    throw ApiError.from(outcome.response, outcome.error);
  }
  return outcome.data as T;
}

export interface TaskFilters {
  status?: string[];
  kind?: string[];
}

export const fetchModels = async (): Promise<ModelInfo[]> =>
  ((await call(api.GET("/api/v1/models"))) as { models: ModelInfo[] }).models;

export const fetchProviders = async (): Promise<ProvidersResponse> =>
  (await call(api.GET("/api/v1/providers"))) as unknown as ProvidersResponse;

export const fetchPresets = (lang: Lang): Promise<PresetListing> =>
  call(api.GET("/api/v1/presets", { params: { query: { lang } } }));

export const fetchPreset = (kind: "styles" | "locations", id: string, lang: Lang): Promise<PresetDetail> =>
  call(
    api.GET("/api/v1/presets/{kind}/{preset_id}", {
      params: { path: { kind, preset_id: id }, query: { lang } },
    }),
  );

export const fetchTaskKinds = async (): Promise<string[]> => {
  const info = (await call(api.GET("/api/v1/system/info"))) as { task_kinds?: unknown };
  return Array.isArray(info.task_kinds) ? info.task_kinds.map(String) : [];
};

export const fetchTasks = (filters: TaskFilters, limit: number, cursor?: string | null): Promise<TaskPage> =>
  call(
    api.GET("/api/v1/tasks", {
      params: {
        query: {
          status: filters.status?.length ? filters.status : undefined,
          kind: filters.kind?.length ? filters.kind : undefined,
          limit,
          cursor: cursor ?? undefined,
        },
      },
    }),
  );

export const fetchTask = (taskId: string): Promise<Task> =>
  call(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: taskId } } }));

export const createTask = (kind: string, params: Record<string, unknown>): Promise<TaskCreated> =>
  call(api.POST("/api/v1/tasks", { body: { kind, params } }));

export const cancelTask = (taskId: string): Promise<Task> =>
  call(api.POST("/api/v1/tasks/{task_id}/cancel", { params: { path: { task_id: taskId } } }));

export const deleteTask = async (taskId: string): Promise<void> => {
  await call(api.DELETE("/api/v1/tasks/{task_id}", { params: { path: { task_id: taskId } } }));
};

/** `POST /api/v1/stylize`: the photo and the options as one multipart form. */
export const stylizeUpload = (form: Partial<StylizeForm> & { photo: Blob }): Promise<TaskCreated> =>
  call(
    api.POST("/api/v1/stylize", {
      body: form as StylizeForm,
      bodySerializer(body) {
        const data = new FormData();
        for (const [key, value] of Object.entries(body)) {
          if (value === undefined || value === null || value === "") continue;
          data.append(key, value instanceof Blob ? value : String(value));
        }
        return data;
      },
    }),
  );

/** Makes sure the browser holds a session cookie (any owner-scoped GET mints one). */
export const ensureSession = async (): Promise<void> => {
  await fetchTasks({}, 1);
};

export const imageUrl = (imageId: string): string => `/api/v1/images/${encodeURIComponent(imageId)}`;

export const thumbnailOf = (image: ImageOut): string => image.thumbnail_url || `${image.url}/thumbnail`;
