/** The shapes the UI works with. Most come from the generated schema; the few endpoints that
 * answer plain dictionaries (models, providers, task results, events) are described here. */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type TaskOut = Schemas["TaskOut"];
export type TaskCreated = Schemas["TaskCreated"];
export type TaskPage = Schemas["TaskPage"];
export type PresetSummary = Schemas["PresetSummary"];
export type PresetDetail = Schemas["PresetDetail"];
export type PresetListing = Schemas["PresetListing"];
export type StylizeForm = Schemas["Body_stylize_api_v1_stylize_post"];

export type TaskStatus =
  "pending" | "processing" | "retrying" | "completed" | "failed" | "cancelled" | "partial";

export const STATUSES: readonly TaskStatus[] = [
  "pending",
  "processing",
  "retrying",
  "completed",
  "failed",
  "cancelled",
  "partial",
];
export const TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "cancelled", "partial"]);
export const WAITING: ReadonlySet<string> = new Set(["pending", "retrying"]);

/** A task as the UI keeps it: the API's view plus the sequence number of the last live event
 * applied (absent when the state came from a plain GET). */
export type Task = TaskOut & { seq?: number };

export interface ImageOut {
  image_id: string;
  url: string;
  thumbnail_url: string;
  width: number;
  height: number;
  file_size: number;
  format: string;
  content_type: string;
  seed?: number | null;
}

/** `result` of a completed `generate` or `stylize` task. */
export interface TaskResult {
  images?: ImageOut[];
  provider?: string;
  model?: string;
  cache_hit?: boolean;
  /** Models tried and failed before the one that served the result. */
  fallbacks?: string[];
  prompt?: string;
  negative_prompt?: string;
  source_image_id?: string;
}

/** One live event (SSE `data:` or a WebSocket message): the task's state after a change. */
export interface TaskEvent {
  task_id: string;
  seq: number;
  type: string;
  at: string;
  status: string;
  progress: number;
  stage: string | null;
  stage_progress?: { current: number; total: number };
  attempts?: number;
  error?: { code: string; message: string | null };
  result?: Record<string, unknown>;
}

export interface ModelInfo {
  id: string;
  provider: string;
  kind: string;
  capabilities: string[];
  description: string;
  max_width: number;
  max_height: number;
  max_images: number;
  supports_seed: boolean;
  supports_negative_prompt: boolean;
  default_steps: number;
}

export type ProviderHealth = "healthy" | "degraded" | "down" | "idle";

export interface ProviderReport {
  name: string;
  configured: boolean;
  models: string[];
  health: ProviderHealth;
  recent_success_rate: number | null;
  calls: number;
}

export interface ProvidersResponse {
  window_hours: number;
  providers: ProviderReport[];
  routes: Record<string, { candidates: Record<string, number>; fallback: string[] }>;
}

export function resultOf(task: Pick<TaskOut, "result">): TaskResult {
  return (task.result ?? {}) as TaskResult;
}

export function imagesOf(task: Pick<TaskOut, "result">): ImageOut[] {
  const images = resultOf(task).images;
  return Array.isArray(images) ? images : [];
}
