import { useLayoutEffect, useRef } from "react";
import type { ImageOut } from "../api/types";
import { useI18n } from "../i18n";

interface Props {
  images: ImageOut[];
  /** The image shown, or null when the viewer is closed. */
  index: number | null;
  onIndex: (index: number | null) => void;
  title: string;
  onUseSeed?: (seed: number) => void;
}

/** The full view of a result: a modal dialog (focus kept inside, Escape closes) with the
 * image, its size and seed, a download link, and the previous/next images (arrow keys). */
export function ImageViewer({ images, index, onIndex, title, onUseSeed }: Props) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const image = index === null ? undefined : images[index];

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (image && !element.open) {
      if (typeof element.showModal === "function") element.showModal();
      else element.setAttribute("open", "");
    } else if (!image && element.open) {
      element.close();
    }
  }, [image]);

  if (!image || index === null) return <dialog ref={dialog} className="viewer" aria-label={title} />;
  const step = (delta: number) => onIndex((index + delta + images.length) % images.length);
  const name = `atelier-${image.image_id}.${image.format || "png"}`;
  return (
    <dialog
      ref={dialog}
      className="viewer"
      aria-labelledby="viewer-title"
      onClose={() => onIndex(null)}
      onKeyDown={(event) => {
        if (images.length < 2) return;
        if (event.key === "ArrowRight") step(1);
        if (event.key === "ArrowLeft") step(-1);
      }}
    >
      <div className="viewer__bar">
        <h2 id="viewer-title" className="viewer__title">
          {t("viewer.title", { n: index + 1, total: images.length })}
        </h2>
        <button type="button" className="button button--ghost" onClick={() => onIndex(null)} autoFocus>
          {t("common.close")}
        </button>
      </div>
      <figure className="viewer__figure">
        <img
          className="viewer__image"
          src={image.url}
          alt={title}
          width={image.width}
          height={image.height}
        />
        <figcaption className="viewer__caption">
          <span>{t("viewer.size", { w: image.width, h: image.height })}</span>
          {image.seed != null && <span>{t("viewer.seed", { seed: image.seed })}</span>}
        </figcaption>
      </figure>
      <div className="viewer__actions">
        {images.length > 1 && (
          <>
            <button type="button" className="button" onClick={() => step(-1)}>
              {t("viewer.prev")}
            </button>
            <button type="button" className="button" onClick={() => step(1)}>
              {t("viewer.next")}
            </button>
          </>
        )}
        <a className="button button--primary" href={image.url} download={name}>
          {t("viewer.download")}
        </a>
        {onUseSeed && image.seed != null && (
          <button
            type="button"
            className="button"
            onClick={() => {
              onUseSeed(image.seed as number);
              onIndex(null);
            }}
          >
            {t("task.useSeed", { seed: image.seed })}
          </button>
        )}
      </div>
    </dialog>
  );
}
