/** Server state through TanStack Query: one hook per resource, keys in one place. Tasks are
 * kept one cache entry per task (`["task", id]`), which lists seed and live events update,
 * so every view of a task shows the same state. */
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { useMemo } from "react";
import { useI18n, type Lang } from "../i18n";
import { mergeTask } from "../live/state";
import {
  cancelTask,
  imageUrl,
  createTask,
  deleteTask,
  fetchModels,
  fetchPreset,
  fetchPresets,
  fetchProviders,
  fetchTask,
  fetchTaskKinds,
  fetchTasks,
  stylizeUpload,
  type TaskFilters,
} from "./client";
import type { ImageOut, StylizeForm, Task, TaskCreated, TaskPage } from "./types";
import { imagesOf, resultOf } from "./types";

export const keys = {
  models: ["models"] as const,
  providers: ["providers"] as const,
  kinds: ["task-kinds"] as const,
  presets: (lang: Lang) => ["presets", lang] as const,
  preset: (kind: "styles" | "locations", id: string, lang: Lang) => ["preset", kind, id, lang] as const,
  tasks: ["tasks"] as const,
  taskList: (filters: TaskFilters, size: number) => ["tasks", filters, size] as const,
  task: (id: string) => ["task", id] as const,
  library: ["library"] as const,
};

const MINUTE = 60_000;

export const useModels = () =>
  useQuery({ queryKey: keys.models, queryFn: fetchModels, staleTime: 5 * MINUTE });

export const useProviders = () =>
  useQuery({ queryKey: keys.providers, queryFn: fetchProviders, staleTime: MINUTE });

export const useTaskKinds = () =>
  useQuery({ queryKey: keys.kinds, queryFn: fetchTaskKinds, staleTime: 10 * MINUTE });

export function usePresets() {
  const { lang } = useI18n();
  return useQuery({ queryKey: keys.presets(lang), queryFn: () => fetchPresets(lang), staleTime: 5 * MINUTE });
}

/** Preset id → name in the UI's language (for titles of stylize tasks). */
export function usePresetNames(): ReadonlyMap<string, string> {
  const listing = usePresets().data;
  return useMemo(
    () => new Map([...(listing?.styles ?? []), ...(listing?.locations ?? [])].map((p) => [p.id, p.name])),
    [listing],
  );
}

export function presetDetail(qc: QueryClient, kind: "styles" | "locations", id: string, lang: Lang) {
  return qc.fetchQuery({
    queryKey: keys.preset(kind, id, lang),
    queryFn: () => fetchPreset(kind, id, lang),
    staleTime: 5 * MINUTE,
  });
}

/** Puts fetched tasks into their own cache entries, keeping any state further along. */
export function seedTasks(qc: QueryClient, tasks: Task[]): void {
  for (const task of tasks) {
    qc.setQueryData<Task>(keys.task(task.task_id), (held) => mergeTask(held, task));
  }
}

export function useTaskList(filters: TaskFilters, size = 20) {
  const qc = useQueryClient();
  return useInfiniteQuery({
    queryKey: keys.taskList(filters, size),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => {
      const page = await fetchTasks(filters, size, pageParam);
      seedTasks(qc, page.items);
      return page;
    },
    getNextPageParam: (last: TaskPage) => last.next_cursor,
  });
}

/** The caller's images: the results of completed tasks and the photos they started from
 * (an uploaded photo's size is not known here: 0). Newest first. */
export function useLibrary() {
  return useQuery({
    queryKey: keys.library,
    queryFn: async (): Promise<ImageOut[]> => {
      const page = await fetchTasks({ status: ["completed"] }, 50);
      const seen = new Map<string, ImageOut>();
      for (const task of page.items) {
        for (const image of imagesOf(task)) seen.set(image.image_id, image);
        const source = resultOf(task).source_image_id;
        if (source && !seen.has(source)) seen.set(source, uploaded(source));
      }
      return [...seen.values()];
    },
    staleTime: 30_000,
  });
}

function uploaded(imageId: string): ImageOut {
  const url = imageUrl(imageId);
  return {
    image_id: imageId,
    url,
    thumbnail_url: `${url}/thumbnail`,
    width: 0,
    height: 0,
    file_size: 0,
    format: "",
    content_type: "",
  };
}

function matches(filters: TaskFilters, task: Task): boolean {
  return (
    (!filters.kind?.length || filters.kind.includes(task.kind)) &&
    (!filters.status?.length || filters.status.includes(task.status))
  );
}

/** Shows a new task at the top of every loaded list it belongs to, before lists refetch. */
function prependTask(qc: QueryClient, task: Task): void {
  for (const [key] of qc.getQueriesData<InfiniteData<TaskPage>>({ queryKey: keys.tasks })) {
    const filters = (key[1] ?? {}) as TaskFilters;
    if (!matches(filters, task)) continue;
    qc.setQueryData<InfiniteData<TaskPage>>(key, (data) => {
      const [first, ...rest] = data?.pages ?? [];
      if (!data || !first || first.items.some((item) => item.task_id === task.task_id)) return data;
      return { ...data, pages: [{ ...first, items: [task, ...first.items] }, ...rest] };
    });
  }
}

async function afterCreate(qc: QueryClient, created: TaskCreated): Promise<Task> {
  const task = await fetchTask(created.task_id);
  seedTasks(qc, [task]);
  prependTask(qc, qc.getQueryData<Task>(keys.task(task.task_id)) ?? task);
  void qc.invalidateQueries({ queryKey: keys.tasks });
  return task;
}

export function useCreateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ kind, params }: { kind: string; params: Record<string, unknown> }) =>
      afterCreate(qc, await createTask(kind, params)),
  });
}

export type StylizeRequest =
  | { photo: Blob; options: Omit<Partial<StylizeForm>, "photo"> }
  | { imageId: string; options: Omit<Partial<StylizeForm>, "photo"> };

export function useStylize() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (request: StylizeRequest) => {
      const created =
        "photo" in request
          ? await stylizeUpload({ ...request.options, photo: request.photo })
          : await createTask("stylize", dropEmpty({ ...request.options, image_id: request.imageId }));
      void qc.invalidateQueries({ queryKey: keys.library });
      return afterCreate(qc, created);
    },
  });
}

export function useCancelTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: cancelTask,
    onSuccess: (task) => seedTasks(qc, [task]),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.tasks }),
  });
}

export function useDeleteTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (taskId: string) => {
      await deleteTask(taskId);
      return taskId;
    },
    onSuccess: (taskId) => {
      qc.setQueriesData<InfiniteData<TaskPage>>({ queryKey: keys.tasks }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.filter((item) => item.task_id !== taskId),
              })),
            }
          : data,
      );
      qc.removeQueries({ queryKey: keys.task(taskId) });
      void qc.invalidateQueries({ queryKey: keys.tasks });
      void qc.invalidateQueries({ queryKey: keys.library });
    },
  });
}

export function dropEmpty(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined && value !== null && value !== ""),
  );
}
