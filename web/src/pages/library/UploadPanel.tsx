import { useId, useState, type DragEvent, type FormEvent } from "react";
import { useI18n } from "../../i18n";
import { splitTags, useImport, type ImportOut } from "./api";
import { LibraryError, LiveTask, TaskState } from "./common";

interface Props {
  /** Opens one of the caller's images (a duplicate's original, a near duplicate). */
  onOpen: (id: string) => void;
}

const key = (file: File) => `${file.name}:${file.size}:${file.lastModified}`;

/** Adds images to the library: files picked or dropped, optional tags for all of them; then
 * what became of each file (added, already there, looks like another one) and the live
 * progress of their analysis. */
export function UploadPanel({ onOpen }: Props) {
  const { t } = useI18n();
  const ids = useId();
  const upload = useImport();
  const [files, setFiles] = useState<File[]>([]);
  const [tags, setTags] = useState("");
  const [over, setOver] = useState(false);
  const [report, setReport] = useState<{ out: ImportOut; names: string[] } | null>(null);

  const add = (list: FileList | null | undefined) => {
    const picked = Array.from(list ?? []);
    if (picked.length === 0) return;
    setFiles((held) => {
      const seen = new Set(held.map(key));
      return [...held, ...picked.filter((file) => !seen.has(key(file)))];
    });
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    add(event.dataTransfer?.files);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (files.length === 0) return;
    const names = files.map((file) => file.name);
    upload.mutate(
      { files, tags: splitTags(tags) },
      {
        onSuccess: (out) => {
          setReport({ out, names });
          setFiles([]);
        },
      },
    );
  };

  return (
    <section className="panel lib-upload" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>{t("library.upload.title")}</h2>
      <form className="form" onSubmit={submit} noValidate>
        <div
          className={`drop${over ? " drop--over" : ""}`}
          onDragEnter={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragOver={(e) => e.preventDefault()}
          onDragLeave={() => setOver(false)}
          onDrop={drop}
        >
          <label className="button file-button">
            {t("library.upload.choose")}
            <input
              className="file-button__input"
              type="file"
              accept="image/*"
              multiple
              onChange={(e) => {
                add(e.target.files);
                e.target.value = "";
              }}
            />
          </label>
          <p className="hint">{t("library.upload.drop")}</p>
        </div>
        {files.length > 0 && (
          <ul className="chosen" aria-label={t("library.upload.chosen")}>
            {files.map((file) => (
              <li key={key(file)}>
                <span className="chosen__name">{file.name}</span>
                <button
                  type="button"
                  className="button button--small button--ghost"
                  aria-label={t("library.upload.unchoose", { name: file.name })}
                  onClick={() => setFiles((held) => held.filter((f) => f !== file))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="field">
          <label htmlFor={`${ids}-tags`}>{t("library.upload.tags")}</label>
          <input
            id={`${ids}-tags`}
            type="text"
            value={tags}
            placeholder={t("library.tagsHint")}
            onChange={(e) => setTags(e.target.value)}
          />
        </div>
        <LibraryError error={upload.error} />
        <button
          type="submit"
          className="button button--primary button--wide"
          disabled={files.length === 0 || upload.isPending}
        >
          {upload.isPending
            ? t("library.upload.sending")
            : files.length === 0
              ? t("library.upload.submitNone")
              : t("library.upload.submit", { n: files.length })}
        </button>
      </form>
      {report && <ImportReport out={report.out} names={report.names} onOpen={onOpen} />}
    </section>
  );
}

function ImportReport({
  out,
  names,
  onOpen,
}: {
  out: ImportOut;
  names: string[];
  onOpen: (id: string) => void;
}) {
  const { t } = useI18n();
  const ids = useId();
  const created = out.items.filter((item) => item.status === "created").length;
  const single = out.items.length === 1 ? out.items[0]?.task_id : null;
  const progress = out.batch_task_id ?? single;
  return (
    <div className="report" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`} aria-live="polite">
        {t("library.upload.summary", { added: created, duplicates: out.items.length - created })}
      </h3>
      {progress && <LiveTask taskId={progress} label={t("library.upload.progress")} />}
      <ul className="report__list">
        {out.items.map((item, i) => {
          const name = item.filename ?? item.url ?? names[i] ?? item.image_id;
          return (
            <li key={`${item.image_id}-${i}`} className={`report__item report__item--${item.status}`}>
              <span className="report__name">{name}</span>
              {item.status === "created" ? (
                <span className="report__state">
                  <span className="badge badge--completed">{t("library.upload.created")}</span>
                  {item.task_id && <TaskState taskId={item.task_id} />}
                </span>
              ) : (
                <span className="report__state">
                  <span className="badge badge--partial">{t("library.upload.duplicate")}</span>
                  <button type="button" className="linkish" onClick={() => onOpen(item.image_id)}>
                    {t("library.upload.openExisting", { name })}
                  </button>
                </span>
              )}
              {item.near_duplicates.length > 0 && (
                <span className="report__near">
                  {t("library.upload.near")}{" "}
                  {item.near_duplicates.map((near, n) => (
                    <button
                      key={near.image_id}
                      type="button"
                      className="linkish"
                      onClick={() => onOpen(near.image_id)}
                    >
                      {t("library.nearOne", { n: n + 1, distance: near.distance })}
                    </button>
                  ))}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
