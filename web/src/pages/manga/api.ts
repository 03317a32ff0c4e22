/** The manga API (`/api/v1/manga`), typed from the generated schema. Kept with the page so
 * it loads with the page's chunk, not with the first load. */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, call } from "../../api/client";
import { isApiError } from "../../api/errors";
import { keys } from "../../api/queries";
import type { components } from "../../api/schema";
import type { TaskCreated } from "../../api/types";

type Schemas = components["schemas"];
export type MangaJob = Schemas["MangaJobOut"];
export type MangaPanel = Schemas["PanelOut"];
export type PanelVersion = Schemas["PanelVersionOut"];
export type MangaCreate = Schemas["MangaCreate"];
export type ScriptPanel = Schemas["Panel"];

export const EXPORT_FORMATS = ["png", "webp", "pdf", "cbz"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const mangaKey = (id: string) => ["manga", id] as const;

const path = (id: string) => ({ params: { path: { task_id: id } } });
const panelPath = (id: string, n: number) => ({ params: { path: { task_id: id, panel_number: n } } });

export const fetchManga = (id: string): Promise<MangaJob> =>
  call(api.GET("/api/v1/manga/{task_id}", path(id)));

/** The page as a file: same origin, so the browser downloads it with the session cookie. */
export const exportUrl = (id: string, format: ExportFormat): string =>
  `/api/v1/manga/${encodeURIComponent(id)}/export?format=${format}`;

export function useMangaJob(id: string) {
  return useQuery({
    queryKey: mangaKey(id),
    queryFn: () => fetchManga(id),
    retry: (count, error) => !(isApiError(error) && error.status === 404) && count < 2,
  });
}

export function useCreateManga() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: MangaCreate): Promise<TaskCreated> => call(api.POST("/api/v1/manga", { body })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.tasks }),
  });
}

/** Puts a new or changed version into the job's cached view. */
export function patchVersion(qc: QueryClient, id: string, panel: number, version: PanelVersion): void {
  qc.setQueryData<MangaJob>(mangaKey(id), (job) =>
    job
      ? {
          ...job,
          panels: job.panels.map((p) =>
            p.panel_number !== panel
              ? p
              : {
                  ...p,
                  versions: p.versions.some((v) => v.version === version.version)
                    ? p.versions.map((v) => (v.version === version.version ? version : v))
                    : [...p.versions, version],
                },
          ),
        }
      : job,
  );
}

export function useRegenerate(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ panel, text }: { panel: number; text?: string }) =>
      call(
        api.POST("/api/v1/manga/{task_id}/panels/{panel_number}/versions", {
          ...panelPath(id, panel),
          body: text ? { text } : {},
        }),
      ),
    onSuccess: (version, { panel }) => patchVersion(qc, id, panel, version),
  });
}

export function useSelectVersion(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ panel, version }: { panel: number; version: number }) =>
      call(
        api.PUT("/api/v1/manga/{task_id}/panels/{panel_number}", {
          ...panelPath(id, panel),
          body: { version },
        }),
      ),
    onSuccess: (job) => qc.setQueryData(mangaKey(id), job),
  });
}

export function useRecompose(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST("/api/v1/manga/{task_id}/page", path(id))),
    onSuccess: (job) => qc.setQueryData(mangaKey(id), job),
  });
}
