import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from "react";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import {
  libKeys,
  splitTags,
  useAddToCollection,
  useCollections,
  useDeleteImage,
  useImage,
  usePatchImage,
  useRemoveFromCollection,
  type LibraryImage,
  type NearDuplicate,
} from "./api";
import { description, formatBytes, imageName, LibraryError, LiveTask, shownTags } from "./common";

const SOURCES: Record<string, MessageKey> = {
  upload: "library.source.upload",
  url: "library.source.url",
  generated: "library.source.generated",
};

interface Props {
  /** The image shown; "" when the dialog is closed. */
  imageId: string;
  onClose: () => void;
  onOpen: (id: string) => void;
  onSimilar: (id: string) => void;
  onDeleted: (id: string) => void;
}

/** One image in a modal dialog (focus kept inside, Escape closes): the full picture, its
 * title, description, size, source and tags; editing the title and the user's tags (the
 * re-tag task's progress after each edit), its collections, near duplicates, similar
 * images, download and delete. */
export function ImageDialog({ imageId, onClose, onOpen, onSimilar, onDeleted }: Props) {
  const { t, lang } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const query = useImage(imageId);
  const image = query.data;
  const open = imageId !== "";

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      if (typeof element.showModal === "function") element.showModal();
      else element.setAttribute("open", "");
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  const name = image ? imageName(image, lang, t) : t("library.details");
  return (
    <dialog
      ref={dialog}
      className="viewer lib-dialog"
      aria-labelledby={open ? "lib-dialog-title" : undefined}
      aria-label={open ? undefined : t("library.details")}
      onClose={onClose}
    >
      {open && (
        <>
          <div className="viewer__bar">
            <h2 id="lib-dialog-title" className="viewer__title lib-dialog__title">
              {name}
            </h2>
            <button type="button" className="button button--ghost" onClick={onClose} autoFocus>
              {t("common.close")}
            </button>
          </div>
          {image ? (
            <Details
              key={image.image_id}
              image={image}
              name={name}
              onOpen={onOpen}
              onSimilar={onSimilar}
              onGone={() => onDeleted(imageId)}
            />
          ) : query.isError ? (
            <LibraryError error={query.error} />
          ) : (
            <p role="status">{t("common.loading")}</p>
          )}
        </>
      )}
    </dialog>
  );
}

function Details({
  image,
  name,
  onOpen,
  onSimilar,
  onGone,
}: {
  image: LibraryImage;
  name: string;
  onOpen: (id: string) => void;
  onSimilar: (id: string) => void;
  onGone: () => void;
}) {
  const { t, lang } = useI18n();
  const ids = useId();
  const qc = useQueryClient();
  const patch = usePatchImage(image.image_id);
  const remove = useDeleteImage();
  const collections = useCollections().data ?? [];
  const addTo = useAddToCollection();
  const removeFrom = useRemoveFromCollection();
  const [title, setTitle] = useState(image.title ?? "");
  const [newTag, setNewTag] = useState("");
  const [taskId, setTaskId] = useState<string | null>(null);
  const [target, setTarget] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [said, setSaid] = useState("");

  useEffect(() => setTitle(image.title ?? ""), [image.title]);

  const userTags = image.tags.filter((tag) => tag.source === "user").map((tag) => tag.tag);
  const aiTags = shownTags(image, lang).filter((tag) => !tag.user);
  const near = qc.getQueryData<NearDuplicate[]>(libKeys.near(image.image_id)) ?? [];
  const inCollections = collections.filter((c) => image.collections.includes(c.id));
  const addable = collections.filter((c) => !image.collections.includes(c.id));
  const text = description(image, lang);
  const source = SOURCES[image.source] ? t(SOURCES[image.source]!) : image.source;
  const analysing = image.status === "pending" && image.tag_task_id;

  const sendTags = (tags: string[], message: string) =>
    patch.mutate(
      { tags },
      {
        onSuccess: (out) => {
          setTaskId(out.task_id ?? null);
          setSaid(message);
        },
      },
    );

  const addTags = (event: FormEvent) => {
    event.preventDefault();
    const added = splitTags(newTag).filter((tag) => !userTags.includes(tag));
    if (added.length === 0) return;
    sendTags([...userTags, ...added], t("library.tagAdded", { tag: added.join(", ") }));
    setNewTag("");
  };

  const saveTitle = (event: FormEvent) => {
    event.preventDefault();
    patch.mutate(
      { title: title.trim() || null },
      {
        onSuccess: (out) => {
          setTaskId(out.task_id ?? null);
          setSaid(t("library.titleSaved"));
        },
      },
    );
  };

  const download = `${(image.original_filename ?? `atelier-${image.image_id}`).replace(/\.[^.]*$/, "")}.${image.format || "png"}`;

  return (
    <div className="lib-dialog__body">
      <figure className="viewer__figure lib-dialog__figure">
        <img className="viewer__image" src={image.url} alt={name} width={image.width} height={image.height} />
        {text && <figcaption className="lib-dialog__description">{text}</figcaption>}
      </figure>
      <div className="lib-dialog__side">
        <dl className="facts">
          <dt>{t("library.size")}</dt>
          <dd>
            {t("viewer.size", { w: image.width, h: image.height })} · {image.format.toUpperCase()} ·{" "}
            {formatBytes(image.file_size, lang)}
          </dd>
          <dt>{t("library.sourceLabel")}</dt>
          <dd>
            {source}
            {image.source_url ? (
              <>
                {" · "}
                <a href={image.source_url} rel="noreferrer noopener" target="_blank">
                  {image.source_url}
                </a>
              </>
            ) : (
              image.original_filename && ` · ${image.original_filename}`
            )}
          </dd>
          <dt>{t("library.added")}</dt>
          <dd>
            <time dateTime={image.created_at}>
              {new Date(image.created_at).toLocaleString(lang === "zh" ? "zh-CN" : "en")}
            </time>
          </dd>
        </dl>
        {analysing && <LiveTask taskId={image.tag_task_id!} label={t("library.analysisProgress")} />}

        <form className="inline" onSubmit={saveTitle}>
          <label className="sr-only" htmlFor={`${ids}-title`}>
            {t("library.imageTitle")}
          </label>
          <input
            id={`${ids}-title`}
            type="text"
            maxLength={200}
            value={title}
            placeholder={t("library.imageTitle")}
            onChange={(e) => setTitle(e.target.value)}
          />
          <button
            type="submit"
            className="button"
            disabled={patch.isPending || title === (image.title ?? "")}
          >
            {t("library.saveTitle")}
          </button>
        </form>

        <section aria-labelledby={`${ids}-tags`} className="lib-dialog__tags">
          <h3 id={`${ids}-tags`}>{t("library.yourTags")}</h3>
          {userTags.length === 0 ? (
            <p className="hint">{t("library.noTags")}</p>
          ) : (
            <ul className="tags" aria-label={t("library.yourTags")}>
              {userTags.map((tag) => (
                <li key={tag} className="tag tag--user tag--editable">
                  {tag}
                  <button
                    type="button"
                    className="tag__remove"
                    aria-label={t("library.removeTag", { tag })}
                    disabled={patch.isPending}
                    onClick={() =>
                      sendTags(
                        userTags.filter((other) => other !== tag),
                        t("library.tagRemoved", { tag }),
                      )
                    }
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form className="inline" onSubmit={addTags}>
            <label className="sr-only" htmlFor={`${ids}-new-tag`}>
              {t("library.addTag")}
            </label>
            <input
              id={`${ids}-new-tag`}
              type="text"
              value={newTag}
              maxLength={100}
              placeholder={t("library.tagsHint")}
              onChange={(e) => setNewTag(e.target.value)}
            />
            <button type="submit" className="button" disabled={patch.isPending || !newTag.trim()}>
              {t("library.addTag")}
            </button>
          </form>
          <p className="sr-only" aria-live="polite">
            {said}
          </p>
          <LibraryError error={patch.error} />
          {taskId && <LiveTask taskId={taskId} label={t("library.retagProgress")} />}
          {aiTags.length > 0 && (
            <>
              <h3 id={`${ids}-ai`}>{t("library.aiTags")}</h3>
              <ul className="tags" aria-labelledby={`${ids}-ai`}>
                {aiTags.map(({ tag }) => (
                  <li key={tag} className="tag">
                    {tag}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>

        <section aria-labelledby={`${ids}-collections`}>
          <h3 id={`${ids}-collections`}>{t("library.inCollections")}</h3>
          {inCollections.length === 0 ? (
            <p className="hint">{t("library.inNone")}</p>
          ) : (
            <ul className="tags">
              {inCollections.map((c) => (
                <li key={c.id} className="tag tag--editable">
                  {c.name}
                  <button
                    type="button"
                    className="tag__remove"
                    aria-label={t("library.removeFrom", { name: c.name })}
                    disabled={removeFrom.isPending}
                    onClick={() => removeFrom.mutate({ id: c.id, imageIds: [image.image_id] })}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
          {addable.length > 0 && (
            <form
              className="inline"
              onSubmit={(e) => {
                e.preventDefault();
                const id = target || addable[0]!.id;
                addTo.mutate({ id, imageIds: [image.image_id] });
              }}
            >
              <label className="sr-only" htmlFor={`${ids}-target`}>
                {t("library.collection")}
              </label>
              <select
                id={`${ids}-target`}
                value={target || addable[0]!.id}
                onChange={(e) => setTarget(e.target.value)}
              >
                {addable.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              <button type="submit" className="button" disabled={addTo.isPending}>
                {t("library.addToCollection")}
              </button>
            </form>
          )}
          <LibraryError error={addTo.error ?? removeFrom.error} />
        </section>

        {near.length > 0 && (
          <section aria-labelledby={`${ids}-near`}>
            <h3 id={`${ids}-near`}>{t("library.near")}</h3>
            <ul className="tags">
              {near.map((n, i) => (
                <li key={n.image_id}>
                  <button type="button" className="linkish" onClick={() => onOpen(n.image_id)}>
                    {t("library.nearOne", { n: i + 1, distance: n.distance })}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}

        <div className="viewer__actions lib-dialog__actions">
          <button type="button" className="button" onClick={() => onSimilar(image.image_id)}>
            {t("library.similar")}
          </button>
          <a className="button button--primary" href={image.url} download={download}>
            {t("viewer.download")}
          </a>
          {confirming ? (
            <span className="confirm" role="group" aria-label={t("library.deleteAsk")}>
              <span className="confirm__ask">{t("library.deleteAsk")}</span>
              <button
                type="button"
                className="button button--danger"
                disabled={remove.isPending}
                onClick={() => remove.mutate(image.image_id, { onSuccess: onGone })}
              >
                {t("common.confirmDelete")}
              </button>
              <button type="button" className="button" onClick={() => setConfirming(false)}>
                {t("common.keep")}
              </button>
            </span>
          ) : (
            <button type="button" className="button button--ghost" onClick={() => setConfirming(true)}>
              {t("common.delete")}
            </button>
          )}
        </div>
        <LibraryError error={remove.error} />
      </div>
    </div>
  );
}
