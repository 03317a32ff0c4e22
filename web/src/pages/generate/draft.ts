/** The Generate form's state, and how it maps to and from a `generate` task's params. */
export interface Draft {
  prompt: string;
  negative: string;
  /** A model id or route; "" is the server's default. */
  model: string;
  /** A style preset id; "" for none. */
  preset: string;
  size: string;
  count: number;
  steps: number;
  guidance: number;
  /** "" draws a new random seed. */
  seed: string;
}

export const SIZES = [
  "512x512",
  "768x512",
  "512x768",
  "768x768",
  "1024x1024",
  "1024x576",
  "576x1024",
  "1536x1536",
  "2048x2048",
  "256x256",
];
export const MAX_SEED = 2 ** 32 - 1;

export const emptyDraft: Draft = {
  prompt: "",
  negative: "",
  model: "",
  preset: "",
  size: "512x512",
  count: 1,
  steps: 8,
  guidance: 0,
  seed: "",
};

export function parseSize(size: string): [number, number] {
  const [w, h] = size.split("x").map(Number);
  return [w || 512, h || 512];
}

/** The task params; a preset's prompt fragments are appended when given. */
export function toParams(draft: Draft, preset?: { prompt: string; negative_prompt: string }) {
  const [width, height] = parseSize(draft.size);
  const join = (a: string, b: string | undefined) => [a.trim(), b?.trim()].filter(Boolean).join(", ");
  const params: Record<string, unknown> = {
    prompt: join(draft.prompt, preset?.prompt),
    negative_prompt: join(draft.negative, preset?.negative_prompt),
    width,
    height,
    num_images: draft.count,
    steps: draft.steps,
    scale: draft.guidance,
  };
  if (draft.model) params.model = draft.model;
  if (draft.seed.trim() !== "") params.seed = Number(draft.seed);
  return params;
}

/** The form filled from a task's params (for "edit settings" and "use seed"). */
export function fromParams(params: Record<string, unknown>, seed?: number | null): Draft {
  const str = (value: unknown, fallback = "") => (typeof value === "string" ? value : fallback);
  const num = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
  const width = num(params.width, 512);
  const height = num(params.height, 512);
  const chosenSeed = seed ?? (typeof params.seed === "number" ? params.seed : null);
  return {
    prompt: str(params.prompt),
    negative: str(params.negative_prompt),
    model: str(params.model),
    preset: "",
    size: `${width}x${height}`,
    count: num(params.num_images, 1),
    steps: num(params.steps, 8),
    guidance: num(params.scale, 0),
    seed: chosenSeed === null ? "" : String(chosenSeed),
  };
}

/** The same request with a fresh random seed ("again with the same settings"). */
export function againParams(params: Record<string, unknown>): Record<string, unknown> {
  const { seed: _seed, ...rest } = params;
  return rest;
}
