import { useEffect, useRef } from "react";
import { useI18n, type Translate } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import type { LibraryImage, SearchHit } from "./api";
import { imageName, shownTags } from "./common";

export interface Tile {
  image: LibraryImage;
  hit?: Pick<SearchHit, "score" | "parts" | "matched">;
}

interface Props {
  tiles: Tile[];
  label: string;
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onOpen: (id: string) => void;
  /** More to load: the sentinel below the grid loads it when scrolled near (and a button). */
  hasMore?: boolean;
  loadingMore?: boolean;
  onMore?: () => void;
}

const PARTS: Record<string, MessageKey> = {
  vector: "library.part.vector",
  tags: "library.part.tags",
  text: "library.part.text",
};

export function matchedWords(matched: string[], t: Translate): string {
  return matched.map((part) => (PARTS[part] ? t(PARTS[part]) : part)).join(", ");
}

const TAGS_ON_TILE = 5;

/** The images as a grid of thumbnails (loaded lazily), each with its tags, a checkbox to
 * select it, and a button that opens its details. Scrolling near the end loads more. */
export function Gallery({ tiles, label, selected, onToggle, onOpen, hasMore, loadingMore, onMore }: Props) {
  const { t, lang } = useI18n();
  const sentinel = useRef<HTMLDivElement>(null);
  const more = useRef(onMore);
  more.current = onMore;
  const ready = Boolean(hasMore && !loadingMore);

  useEffect(() => {
    const element = sentinel.current;
    if (!ready || !element || typeof IntersectionObserver === "undefined") return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) more.current?.();
      },
      { rootMargin: "600px 0px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [ready]);

  return (
    <div className="gallery">
      <ul className="gallery__grid" aria-label={label}>
        {tiles.map(({ image, hit }) => {
          const name = imageName(image, lang, t);
          const tags = shownTags(image, lang);
          const chosen = selected.has(image.image_id);
          return (
            <li
              key={image.image_id}
              className={`tile${chosen ? " tile--selected" : ""}`}
              data-image-id={image.image_id}
            >
              <button
                type="button"
                className="tile__open"
                onClick={() => onOpen(image.image_id)}
                aria-label={t("library.open", { name })}
              >
                <img
                  src={image.thumbnail_url}
                  alt=""
                  loading="lazy"
                  decoding="async"
                  width={image.width}
                  height={image.height}
                />
              </button>
              <div className="tile__body">
                <label className="tile__select">
                  <input
                    type="checkbox"
                    checked={chosen}
                    onChange={() => onToggle(image.image_id)}
                    aria-label={t("library.select", { name })}
                  />
                  <span className="tile__name" title={name}>
                    {name}
                  </span>
                </label>
                {hit && (
                  <p className="tile__score">
                    {t("library.score", { score: hit.score.toFixed(2) })}
                    {hit.matched.length > 0 && (
                      <span> · {t("library.matched", { parts: matchedWords(hit.matched, t) })}</span>
                    )}
                  </p>
                )}
                {image.status === "pending" && (
                  <span className="badge badge--pending">{t("library.analysing")}</span>
                )}
                {image.status === "failed" && (
                  <span className="badge badge--failed">{t("library.analysisFailed")}</span>
                )}
                {tags.length > 0 && (
                  <ul className="tags tags--small" aria-label={t("library.tagsOf", { name })}>
                    {tags.slice(0, TAGS_ON_TILE).map(({ tag, user }) => (
                      <li key={tag} className={user ? "tag tag--user" : "tag"}>
                        {tag}
                      </li>
                    ))}
                    {tags.length > TAGS_ON_TILE && (
                      <li className="tag tag--more">+{tags.length - TAGS_ON_TILE}</li>
                    )}
                  </ul>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <div ref={sentinel} className="gallery__sentinel" aria-hidden="true" />
      {hasMore && (
        <button type="button" className="button feed__more" onClick={onMore} disabled={loadingMore}>
          {loadingMore ? t("common.loading") : t("common.loadMore")}
        </button>
      )}
    </div>
  );
}
