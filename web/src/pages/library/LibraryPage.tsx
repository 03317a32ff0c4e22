import { useCallback, useId, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useI18n } from "../../i18n";
import {
  NO_FILTERS,
  splitTags,
  useAddToCollection,
  useCollections,
  useExampleSearch,
  useGallery,
  useImage,
  useRemoveFromCollection,
  useSearch,
  useSimilar,
  type LibraryFilters,
  type SearchOut,
} from "./api";
import { CollectionsPanel } from "./CollectionsPanel";
import { imageName, LibraryError } from "./common";
import { Gallery, type Tile } from "./Gallery";
import { ImageDialog } from "./ImageDialog";
import { SearchForm } from "./SearchForm";
import { SharedView } from "./SharedView";
import { UploadPanel } from "./UploadPanel";

function readFilters(params: URLSearchParams): LibraryFilters {
  return {
    tags: splitTags(params.get("tags") ?? ""),
    collection: params.get("collection") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
    minWidth: params.get("minw") ?? "",
    minHeight: params.get("minh") ?? "",
  };
}

type Changes = Partial<Record<string, string | null>>;

/** The library: `/library?q=&tags=&collection=&from=&to=&minw=&minh=&similar=&image=` (so a
 * reload or a shared address shows the same), or a shared collection (`?shared=<token>`). */
export default function LibraryPage() {
  const [params] = useSearchParams();
  const shared = params.get("shared");
  return shared ? <SharedView token={shared} /> : <Library />;
}

function Library() {
  const { t, lang } = useI18n();
  const ids = useId();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params), [params]);
  const q = params.get("q") ?? "";
  const similar = params.get("similar") ?? "";
  const opened = params.get("image") ?? "";

  const example = useExampleSearch();
  const [exampleName, setExampleName] = useState<string | null>(null);
  const mode = exampleName !== null ? "example" : similar ? "similar" : q ? "search" : "gallery";

  const gallery = useGallery(filters, mode === "gallery");
  const search = useSearch(q, filters, mode === "search");
  const like = useSimilar(similar, filters, mode === "similar");
  const likeImage = useImage(mode === "similar" ? similar : "");
  const collections = useCollections().data ?? [];
  const addTo = useAddToCollection();
  const removeFrom = useRemoveFromCollection();

  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [target, setTarget] = useState("");
  const [said, setSaid] = useState("");

  const update = useCallback(
    (changes: Changes, push = false) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [name, value] of Object.entries(changes)) {
            if (value) next.set(name, value);
            else next.delete(name);
          }
          return next;
        },
        { replace: !push },
      );
    },
    [setParams],
  );

  const withFilters = (next: LibraryFilters): Changes => ({
    tags: next.tags.join(","),
    collection: next.collection,
    from: next.from,
    to: next.to,
    minw: next.minWidth,
    minh: next.minHeight,
  });

  const leaveExample = () => {
    setExampleName(null);
    example.reset();
  };

  const openImage = (id: string) => update({ image: id });
  const showSimilar = (id: string) => {
    leaveExample();
    update({ similar: id, q: null, image: null }, true);
  };
  const backToGallery = () => {
    leaveExample();
    update({ q: null, similar: null }, true);
  };

  const results: SearchOut | undefined =
    mode === "search"
      ? search.data
      : mode === "similar"
        ? like.data
        : mode === "example"
          ? example.data
          : undefined;
  const tiles: Tile[] =
    mode === "gallery"
      ? (gallery.data?.pages.flatMap((page) => page.items.map((image) => ({ image }))) ?? [])
      : (results?.items.map((hit) => ({ image: hit.image, hit })) ?? []);
  const current =
    mode === "gallery" ? gallery : mode === "search" ? search : mode === "similar" ? like : example;
  const pending = mode === "example" ? example.isPending : current.isPending;
  const error = current.error;
  const refetch =
    mode === "gallery"
      ? () => void gallery.refetch()
      : mode === "search"
        ? () => void search.refetch()
        : mode === "similar"
          ? () => void like.refetch()
          : undefined;
  const formKey = JSON.stringify([q, filters]);
  const collectionName = collections.find((c) => c.id === filters.collection)?.name;

  const heading =
    mode === "search"
      ? t("library.resultsFor", { q })
      : mode === "similar"
        ? t("library.similarTo", {
            name: likeImage.data ? imageName(likeImage.data, lang, t) : t("library.thisImage"),
          })
        : mode === "example"
          ? t("library.likeExample", { name: exampleName ?? "" })
          : collectionName
            ? t("library.inCollection", { name: collectionName })
            : t("library.all");
  const filtered = Boolean(
    filters.tags.length ||
    filters.collection ||
    filters.from ||
    filters.to ||
    filters.minWidth ||
    filters.minHeight,
  );
  const empty =
    mode === "gallery"
      ? filtered
        ? t("library.noMatch")
        : t("library.empty")
      : mode === "search"
        ? t("library.nothingFound", { q })
        : t("library.noSimilar");

  const toggle = (id: string) =>
    setSelected((held) => {
      const next = new Set(held);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const chosen = [...selected];
  const collectionId = target || collections[0]?.id || "";

  const addSelected = () => {
    if (!collectionId) return;
    const name = collections.find((c) => c.id === collectionId)?.name ?? "";
    addTo.mutate(
      { id: collectionId, imageIds: chosen },
      {
        onSuccess: () => {
          setSaid(t("library.addedTo", { n: chosen.length, name }));
          setSelected(new Set());
        },
      },
    );
  };

  const removeSelected = () =>
    removeFrom.mutate(
      { id: filters.collection, imageIds: chosen },
      {
        onSuccess: () => {
          setSaid(t("library.removedFrom", { n: chosen.length, name: collectionName ?? "" }));
          setSelected(new Set());
        },
      },
    );

  return (
    <div className="lib">
      <header className="lib__head">
        <h1 id="library-title">{t("library.title")}</h1>
        <p className="lead">{t("library.intro")}</p>
      </header>
      <div className="lib__layout">
        <div className="lib__upload">
          <UploadPanel onOpen={openImage} />
        </div>
        <section className="lib__main" aria-labelledby={`${ids}-results`}>
          <SearchForm
            key={formKey}
            q={q}
            filters={filters}
            collections={collections}
            onSearch={(text, next) => {
              leaveExample();
              update({ ...withFilters(next), q: text, similar: null }, true);
            }}
            onClear={() => {
              leaveExample();
              update({ ...withFilters(NO_FILTERS), q: null, similar: null }, true);
            }}
            onExample={(file) => {
              setExampleName(file.name);
              example.mutate({ file, filters });
            }}
            exampleBusy={example.isPending}
          />
          <div className="lib__bar">
            <h2 id={`${ids}-results`} className="lib__heading">
              {heading}
            </h2>
            {mode !== "gallery" && (
              <button type="button" className="button button--small" onClick={backToGallery}>
                {t("library.back")}
              </button>
            )}
            {mode === "gallery" && filters.collection && (
              <button
                type="button"
                className="button button--small"
                onClick={() => update({ collection: null })}
              >
                {t("library.showAll")}
              </button>
            )}
          </div>
          {selected.size > 0 && (
            <div className="selection" role="group" aria-label={t("library.selection")}>
              <span className="selection__count">{t("library.selected", { n: selected.size })}</span>
              {collections.length > 0 ? (
                <span className="inline">
                  <label className="sr-only" htmlFor={`${ids}-target`}>
                    {t("library.collection")}
                  </label>
                  <select
                    id={`${ids}-target`}
                    value={collectionId}
                    onChange={(e) => setTarget(e.target.value)}
                  >
                    {collections.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                  <button
                    type="button"
                    className="button button--small"
                    onClick={addSelected}
                    disabled={addTo.isPending}
                  >
                    {t("library.addToCollection")}
                  </button>
                </span>
              ) : (
                <span className="hint">{t("library.createFirst")}</span>
              )}
              {filters.collection && (
                <button
                  type="button"
                  className="button button--small"
                  onClick={removeSelected}
                  disabled={removeFrom.isPending}
                >
                  {t("library.removeSelected")}
                </button>
              )}
              <button
                type="button"
                className="button button--small button--ghost"
                onClick={() => setSelected(new Set())}
              >
                {t("library.unselect")}
              </button>
            </div>
          )}
          <LibraryError error={addTo.error ?? removeFrom.error} />
          <p className="sr-only" aria-live="polite">
            {said}
          </p>
          <p className="lib__count" aria-live="polite">
            {pending ? t("common.loading") : error ? "" : t("library.shown", { n: tiles.length })}
          </p>
          {error ? (
            <LibraryError error={error} onRetry={refetch} />
          ) : !pending && tiles.length === 0 ? (
            <p className="empty">{empty}</p>
          ) : (
            <Gallery
              tiles={tiles}
              label={heading}
              selected={selected}
              onToggle={toggle}
              onOpen={openImage}
              hasMore={mode === "gallery" && gallery.hasNextPage}
              loadingMore={gallery.isFetchingNextPage}
              onMore={() => void gallery.fetchNextPage()}
            />
          )}
        </section>
        <div className="lib__collections">
          <CollectionsPanel
            current={filters.collection}
            onShow={(id) => {
              leaveExample();
              update({ collection: id || null, q: null, similar: null }, true);
            }}
          />
        </div>
      </div>
      <ImageDialog
        imageId={opened}
        onClose={() => update({ image: null })}
        onOpen={openImage}
        onSimilar={showSimilar}
        onDeleted={(id) => {
          setSelected((held) => new Set([...held].filter((other) => other !== id)));
          update({ image: null, similar: similar === id ? null : similar });
        }}
      />
    </div>
  );
}
