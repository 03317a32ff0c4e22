import { Link } from "react-router";
import { isApiError } from "../../api/errors";
import { useI18n } from "../../i18n";
import { useShared } from "./api";
import { LibraryError } from "./common";

/** A collection someone shared (`/library?shared=<token>`): read-only, no session needed. */
export function SharedView({ token }: { token: string }) {
  const { t } = useI18n();
  const shared = useShared(token);
  const data = shared.data;
  const gone = isApiError(shared.error) && shared.error.status === 404;
  return (
    <section className="lib" aria-labelledby="lib-shared-title">
      <h1 id="lib-shared-title">{data?.name ?? t("library.sharedTitle")}</h1>
      <p className="lead">{data?.description || t("library.sharedIntro")}</p>
      {shared.isPending ? (
        <p role="status">{t("common.loading")}</p>
      ) : gone ? (
        <p className="notice notice--warn">{t("library.sharedGone")}</p>
      ) : shared.isError ? (
        <LibraryError error={shared.error} onRetry={() => void shared.refetch()} />
      ) : data && data.items.length === 0 ? (
        <p className="empty">{t("library.sharedEmpty")}</p>
      ) : (
        <ul className="gallery__grid" aria-label={data?.name ?? t("library.sharedTitle")}>
          {data?.items.map((image) => {
            const name = image.title || image.description_en || image.image_id;
            return (
              <li key={image.image_id} className="tile">
                <a className="tile__open" href={image.url} target="_blank" rel="noreferrer noopener">
                  <img
                    src={image.thumbnail_url}
                    alt={name}
                    loading="lazy"
                    width={image.width}
                    height={image.height}
                  />
                </a>
                {image.tags.length > 0 && (
                  <div className="tile__body">
                    <ul className="tags tags--small" aria-label={t("library.tagsOf", { name })}>
                      {image.tags.slice(0, 6).map((tag) => (
                        <li key={tag} className="tag">
                          {tag}
                        </li>
                      ))}
                    </ul>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <p>
        <Link to="/library">{t("library.sharedOwn")}</Link>
      </p>
    </section>
  );
}
