import { useId, useState, type FormEvent } from "react";
import { useI18n } from "../../i18n";
import {
  sharedPageUrl,
  useCollections,
  useCreateCollection,
  useDeleteCollection,
  useRenameCollection,
  useShare,
  useUnshare,
  type Collection,
} from "./api";
import { LibraryError } from "./common";

interface Props {
  /** The collection the gallery shows, "" for all images. */
  current: string;
  onShow: (id: string) => void;
}

/** The caller's collections: create, show one in the gallery, rename, delete, share. */
export function CollectionsPanel({ current, onShow }: Props) {
  const { t } = useI18n();
  const ids = useId();
  const collections = useCollections();
  const create = useCreateCollection();
  const [name, setName] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    create.mutate(trimmed, { onSuccess: () => setName("") });
  };

  const items = collections.data ?? [];
  return (
    <section className="panel lib-collections" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>{t("library.collections")}</h2>
      <form className="inline" onSubmit={submit}>
        <label className="sr-only" htmlFor={`${ids}-name`}>
          {t("library.newCollection")}
        </label>
        <input
          id={`${ids}-name`}
          type="text"
          maxLength={200}
          value={name}
          placeholder={t("library.newCollection")}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" className="button" disabled={create.isPending || !name.trim()}>
          {t("library.create")}
        </button>
      </form>
      <LibraryError error={create.error} />
      {collections.isPending ? (
        <p role="status">{t("common.loading")}</p>
      ) : collections.isError ? (
        <LibraryError error={collections.error} onRetry={() => void collections.refetch()} />
      ) : items.length === 0 ? (
        <p className="hint">{t("library.noCollections")}</p>
      ) : (
        <ul className="collections" aria-label={t("library.collections")}>
          {items.map((c) => (
            <CollectionRow key={c.id} collection={c} shown={c.id === current} onShow={onShow} />
          ))}
        </ul>
      )}
    </section>
  );
}

function CollectionRow({
  collection,
  shown,
  onShow,
}: {
  collection: Collection;
  shown: boolean;
  onShow: (id: string) => void;
}) {
  const { t } = useI18n();
  const ids = useId();
  const rename = useRenameCollection();
  const remove = useDeleteCollection();
  const share = useShare();
  const unshare = useUnshare();
  const [mode, setMode] = useState<"" | "rename" | "delete">("");
  const [name, setName] = useState(collection.name);
  const [copied, setCopied] = useState(false);
  const link = collection.share_token ? sharedPageUrl(collection.share_token) : null;

  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      // no clipboard (an insecure page): select the link so it can be copied by hand
      (document.getElementById(`${ids}-link`) as HTMLInputElement | null)?.select();
    }
  };

  return (
    <li className={`collection${shown ? " collection--shown" : ""}`} data-collection-id={collection.id}>
      <div className="collection__head">
        <button
          type="button"
          className="linkish collection__name"
          aria-pressed={shown}
          onClick={() => onShow(shown ? "" : collection.id)}
        >
          {collection.name}
        </button>
        <span className="collection__count">{t("library.count", { n: collection.image_count })}</span>
      </div>
      {mode === "rename" ? (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim())
              rename.mutate({ id: collection.id, name: name.trim() }, { onSuccess: () => setMode("") });
          }}
        >
          <label className="sr-only" htmlFor={`${ids}-rename`}>
            {t("library.renameTo", { name: collection.name })}
          </label>
          <input
            id={`${ids}-rename`}
            type="text"
            maxLength={200}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
          <button type="submit" className="button button--small" disabled={rename.isPending}>
            {t("library.save")}
          </button>
          <button type="button" className="button button--small button--ghost" onClick={() => setMode("")}>
            {t("common.cancel")}
          </button>
        </form>
      ) : mode === "delete" ? (
        <span
          className="confirm"
          role="group"
          aria-label={t("library.deleteCollectionAsk", { name: collection.name })}
        >
          <span className="confirm__ask">{t("library.deleteCollectionAsk", { name: collection.name })}</span>
          <button
            type="button"
            className="button button--small button--danger"
            disabled={remove.isPending}
            onClick={() =>
              remove.mutate(collection.id, {
                onSuccess: () => {
                  if (shown) onShow("");
                },
              })
            }
          >
            {t("common.confirmDelete")}
          </button>
          <button type="button" className="button button--small" onClick={() => setMode("")}>
            {t("common.keep")}
          </button>
        </span>
      ) : (
        <div className="collection__actions">
          <button
            type="button"
            className="button button--small"
            aria-label={t("library.renameNamed", { name: collection.name })}
            onClick={() => {
              setName(collection.name);
              setMode("rename");
            }}
          >
            {t("library.rename")}
          </button>
          {link ? (
            <button
              type="button"
              className="button button--small"
              aria-label={t("library.unshareNamed", { name: collection.name })}
              disabled={unshare.isPending}
              onClick={() => unshare.mutate(collection.id, { onSuccess: () => setCopied(false) })}
            >
              {t("library.unshare")}
            </button>
          ) : (
            <button
              type="button"
              className="button button--small"
              aria-label={t("library.shareNamed", { name: collection.name })}
              disabled={share.isPending}
              onClick={() => share.mutate(collection.id)}
            >
              {t("library.share")}
            </button>
          )}
          <button
            type="button"
            className="button button--small button--ghost"
            aria-label={t("library.deleteNamed", { name: collection.name })}
            onClick={() => setMode("delete")}
          >
            {t("common.delete")}
          </button>
        </div>
      )}
      {link && (
        <div className="collection__link">
          <label htmlFor={`${ids}-link`}>{t("library.shareLink")}</label>
          <div className="inline">
            <input id={`${ids}-link`} type="text" readOnly value={link} onFocus={(e) => e.target.select()} />
            <button
              type="button"
              className="button button--small"
              aria-label={t("library.copyNamed", { name: collection.name })}
              onClick={() => void copy()}
            >
              {t("library.copy")}
            </button>
          </div>
          <p className="hint" aria-live="polite">
            {copied ? t("library.copied") : ""}
          </p>
        </div>
      )}
      <LibraryError error={rename.error ?? remove.error ?? share.error ?? unshare.error} />
    </li>
  );
}
