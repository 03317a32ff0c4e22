/** The library API (`/api/v1/library`, `/api/v1/shared`), typed from the generated schema.
 * Kept with the page so it loads with the page's chunk, not with the first load. Every key
 * starts with `["library"]`, which a finished task invalidates (`useTask`), so the gallery
 * shows new tags and descriptions as soon as a `tag` task ends. */
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { api, call } from "../../api/client";
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type LibraryImage = Schemas["LibraryImageOut"];
export type LibraryImageDetail = Schemas["LibraryImageDetail"];
export type ImagePage = Schemas["ImagePage"];
export type ImportOut = Schemas["ImportOut"];
export type ImportItem = Schemas["ImportItem"];
export type NearDuplicate = Schemas["NearDuplicate"];
export type SearchOut = Schemas["SearchOut"];
export type SearchHit = Schemas["SearchHitOut"];
export type Collection = Schemas["CollectionOut"];
export type SharedOut = Schemas["SharedOut"];
export type PatchOut = Schemas["PatchOut"];

/** What the gallery, search and similar images are narrowed to (as kept in the address). */
export interface LibraryFilters {
  tags: string[];
  collection: string;
  /** `YYYY-MM-DD`, local days, both included */
  from: string;
  to: string;
  minWidth: string;
  minHeight: string;
}

export const NO_FILTERS: LibraryFilters = {
  tags: [],
  collection: "",
  from: "",
  to: "",
  minWidth: "",
  minHeight: "",
};

export const PAGE_SIZE = 24;
export const SEARCH_SIZE = 60;

export const libKeys = {
  all: ["library"] as const,
  images: (filters: LibraryFilters) => ["library", "images", filters] as const,
  image: (id: string) => ["library", "image", id] as const,
  search: (q: string, filters: LibraryFilters) => ["library", "search", q, filters] as const,
  similar: (id: string, filters: LibraryFilters) => ["library", "similar", id, filters] as const,
  collections: ["library", "collections"] as const,
  shared: (token: string) => ["library-shared", token] as const,
  /** Near duplicates an import reported (the image view does not list them). */
  near: (id: string) => ["library-near", id] as const,
};

/** Splits "cat, 猫，sofa" into tags. */
export const splitTags = (text: string): string[] => [
  ...new Set(
    text
      .split(/[,，]/)
      .map((tag) => tag.trim())
      .filter(Boolean),
  ),
];

const positive = (value: string): number | undefined => {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 1 ? Math.floor(n) : undefined;
};

/** A local day as an instant: its start, or (`next`) the start of the day after. */
const dayStart = (day: string, next = false): string | undefined => {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + (next ? 1 : 0)).toISOString();
};

/** The filters as the API's query parameters. */
export function filterQuery(filters: LibraryFilters) {
  return {
    tags: filters.tags.length ? filters.tags : undefined,
    collection: filters.collection || undefined,
    created_from: filters.from ? dayStart(filters.from) : undefined,
    created_to: filters.to ? dayStart(filters.to, true) : undefined,
    min_width: positive(filters.minWidth),
    min_height: positive(filters.minHeight),
  };
}

const imagePath = (id: string) => ({ params: { path: { image_id: id } } });
const collectionPath = (id: string) => ({ params: { path: { collection_id: id } } });

// -- images ------------------------------------------------------------------------------------
export function useGallery(filters: LibraryFilters, enabled = true) {
  return useInfiniteQuery({
    queryKey: libKeys.images(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }): Promise<ImagePage> =>
      call(
        api.GET("/api/v1/library/images", {
          params: {
            query: { ...filterQuery(filters), limit: PAGE_SIZE, cursor: pageParam ?? undefined },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
    enabled,
  });
}

export function useSearch(q: string, filters: LibraryFilters, enabled = true) {
  return useQuery({
    queryKey: libKeys.search(q, filters),
    queryFn: (): Promise<SearchOut> =>
      call(
        api.GET("/api/v1/library/search", {
          params: { query: { ...filterQuery(filters), q, k: SEARCH_SIZE } },
        }),
      ),
    enabled,
  });
}

export function useSimilar(id: string, filters: LibraryFilters, enabled = true) {
  return useQuery({
    queryKey: libKeys.similar(id, filters),
    queryFn: (): Promise<SearchOut> =>
      call(
        api.GET("/api/v1/library/images/{image_id}/similar", {
          params: { path: { image_id: id }, query: { ...filterQuery(filters), k: SEARCH_SIZE } },
        }),
      ),
    enabled,
  });
}

/** `POST /library/search/image`: images like an example file (needs a CLIP model). */
export function useExampleSearch() {
  return useMutation({
    mutationFn: ({ file, filters }: { file: File; filters: LibraryFilters }): Promise<SearchOut> =>
      call(
        api.POST("/api/v1/library/search/image", {
          params: { query: { ...filterQuery(filters), k: SEARCH_SIZE } },
          body: { file },
          bodySerializer(body) {
            const data = new FormData();
            if (body?.file) data.append("file", body.file);
            return data;
          },
        }),
      ),
  });
}

/** The image as any loaded list shows it, to paint the details at once. */
export function cachedImage(qc: QueryClient, id: string): LibraryImage | undefined {
  for (const [, data] of qc.getQueriesData<unknown>({ queryKey: libKeys.all })) {
    const found = imagesIn(data).find((image) => image.image_id === id);
    if (found) return found;
  }
  return undefined;
}

function imagesIn(data: unknown): LibraryImage[] {
  if (!data || typeof data !== "object") return [];
  const pages = (data as InfiniteData<ImagePage>).pages;
  if (Array.isArray(pages)) return pages.flatMap((page) => page.items);
  const items = (data as { items?: unknown }).items;
  if (Array.isArray(items)) {
    return items.map((item) => ("image" in item ? (item as SearchHit).image : (item as LibraryImage)));
  }
  if ("image_id" in data) return [data as LibraryImage];
  return [];
}

export function useImage(id: string) {
  const qc = useQueryClient();
  return useQuery({
    queryKey: libKeys.image(id),
    queryFn: (): Promise<LibraryImageDetail> =>
      call(api.GET("/api/v1/library/images/{image_id}", imagePath(id))),
    placeholderData: () => cachedImage(qc, id) as LibraryImageDetail | undefined,
    enabled: id !== "",
  });
}

export function usePatchImage(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { tags?: string[]; title?: string | null }): Promise<PatchOut> =>
      call(api.PATCH("/api/v1/library/images/{image_id}", { ...imagePath(id), body })),
    onSuccess: (out) => {
      qc.setQueryData(libKeys.image(id), out.image);
      void qc.invalidateQueries({
        queryKey: libKeys.all,
        predicate: (query) => query.queryKey[1] !== "image",
      });
    },
  });
}

export function useDeleteImage() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await call(api.DELETE("/api/v1/library/images/{image_id}", imagePath(id)));
      return id;
    },
    onSuccess: (id) => {
      qc.removeQueries({ queryKey: libKeys.image(id) });
      void qc.invalidateQueries({ queryKey: libKeys.all });
    },
  });
}

/** `POST /library/images`: files and the tags for all of them, one multipart request. */
export function useImport() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ files, tags }: { files: File[]; tags: string[] }): Promise<ImportOut> =>
      call(
        api.POST("/api/v1/library/images", {
          body: { files, tags },
          bodySerializer(body) {
            const data = new FormData();
            for (const file of body?.files ?? []) data.append("files", file);
            if (body?.tags?.length) data.append("tags", JSON.stringify(body.tags));
            return data;
          },
        }),
      ),
    onSuccess: (out) => {
      for (const item of out.items) {
        if (item.near_duplicates.length) qc.setQueryData(libKeys.near(item.image_id), item.near_duplicates);
      }
      void qc.invalidateQueries({ queryKey: libKeys.all });
    },
  });
}

// -- collections -------------------------------------------------------------------------------
export function useCollections() {
  return useQuery({
    queryKey: libKeys.collections,
    queryFn: async (): Promise<Collection[]> => (await call(api.GET("/api/v1/library/collections"))).items,
  });
}

/** A change to collections: the list, and the images' `collections`, are fetched again. */
function useCollectionChange<T, R>(change: (input: T) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: () => void qc.invalidateQueries({ queryKey: libKeys.all }),
  });
}

export const useCreateCollection = () =>
  useCollectionChange((name: string): Promise<Collection> =>
    call(api.POST("/api/v1/library/collections", { body: { name, description: "" } })),
  );

export const useRenameCollection = () =>
  useCollectionChange(({ id, name }: { id: string; name: string }): Promise<Collection> =>
    call(api.PATCH("/api/v1/library/collections/{collection_id}", { ...collectionPath(id), body: { name } })),
  );

export const useDeleteCollection = () =>
  useCollectionChange(async (id: string): Promise<string> => {
    await call(api.DELETE("/api/v1/library/collections/{collection_id}", collectionPath(id)));
    return id;
  });

export const useAddToCollection = () =>
  useCollectionChange(({ id, imageIds }: { id: string; imageIds: string[] }): Promise<Collection> =>
    call(
      api.POST("/api/v1/library/collections/{collection_id}/items", {
        ...collectionPath(id),
        body: { image_ids: imageIds },
      }),
    ),
  );

export const useRemoveFromCollection = () =>
  useCollectionChange(({ id, imageIds }: { id: string; imageIds: string[] }): Promise<Collection> =>
    call(
      api.DELETE("/api/v1/library/collections/{collection_id}/items", {
        ...collectionPath(id),
        body: { image_ids: imageIds },
      }),
    ),
  );

export const useShare = () =>
  useCollectionChange((id: string): Promise<{ token: string; url: string }> =>
    call(api.POST("/api/v1/library/collections/{collection_id}/share", collectionPath(id))),
  );

export const useUnshare = () =>
  useCollectionChange(async (id: string): Promise<string> => {
    await call(api.DELETE("/api/v1/library/collections/{collection_id}/share", collectionPath(id)));
    return id;
  });

/** The page that shows a shared collection to anyone with the link. */
export const sharedPageUrl = (token: string): string =>
  `${window.location.origin}/library?shared=${encodeURIComponent(token)}`;

export function useShared(token: string) {
  return useQuery({
    queryKey: libKeys.shared(token),
    queryFn: (): Promise<SharedOut> =>
      call(api.GET("/api/v1/shared/{token}", { params: { path: { token } } })),
  });
}
