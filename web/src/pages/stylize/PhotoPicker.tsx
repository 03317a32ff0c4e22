import { useEffect, useId, useState } from "react";
import { thumbnailOf } from "../../api/client";
import { useLibrary } from "../../api/queries";
import type { ImageOut } from "../../api/types";
import { useI18n } from "../../i18n";

export type Photo = { kind: "file"; file: File } | { kind: "library"; image: ImageOut };

/** An object URL for a file, revoked when it is no longer shown. */
function useObjectUrl(file: File | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file) {
      setUrl(null);
      return undefined;
    }
    const made = URL.createObjectURL(file);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [file]);
  return url;
}

/** The photo to restyle: a file, the phone's camera, or one of the caller's images. */
export function PhotoPicker({
  photo,
  onChange,
}: {
  photo: Photo | null;
  onChange: (photo: Photo | null) => void;
}) {
  const { t } = useI18n();
  const ids = useId();
  const library = useLibrary();
  const fileUrl = useObjectUrl(photo?.kind === "file" ? photo.file : null);
  const preview = photo?.kind === "library" ? photo.image.url : fileUrl;
  const images = library.data ?? [];

  const pick = (files: FileList | null) => {
    const file = files?.[0];
    if (file) onChange({ kind: "file", file });
  };

  return (
    <fieldset className="photo">
      <legend>{t("stylize.photo")}</legend>
      {preview && (
        <figure className="photo__preview">
          <img src={preview} alt={t("stylize.chosen")} />
        </figure>
      )}
      <div className="photo__inputs">
        <label className="button file-button">
          {t("stylize.upload")}
          <input
            className="file-button__input"
            type="file"
            accept="image/*"
            onChange={(e) => pick(e.target.files)}
          />
        </label>
        <label className="button file-button file-button--camera">
          {t("stylize.camera")}
          <input
            className="file-button__input"
            type="file"
            accept="image/*"
            capture="environment"
            onChange={(e) => pick(e.target.files)}
          />
        </label>
      </div>
      <h3 className="photo__library-title" id={`${ids}-library`}>
        {t("stylize.fromLibrary")}
      </h3>
      {images.length === 0 ? (
        <p className="hint">{library.isPending ? t("common.loading") : t("stylize.libraryEmpty")}</p>
      ) : (
        <ul className="library" aria-labelledby={`${ids}-library`}>
          {images.map((image, i) => {
            const chosen = photo?.kind === "library" && photo.image.image_id === image.image_id;
            return (
              <li key={image.image_id}>
                <button
                  type="button"
                  className="library__item"
                  aria-pressed={chosen}
                  aria-label={t("stylize.pick", { n: i + 1 })}
                  onClick={() => onChange(chosen ? null : { kind: "library", image })}
                >
                  <img src={thumbnailOf(image)} alt="" loading="lazy" />
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </fieldset>
  );
}
