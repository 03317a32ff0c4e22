import { thumbnailOf } from "../api/client";
import type { ImageOut } from "../api/types";
import { useI18n } from "../i18n";

export function ResultsGrid({ images, onOpen }: { images: ImageOut[]; onOpen: (index: number) => void }) {
  const { t } = useI18n();
  return (
    <ul className="results" aria-label={t("task.results")}>
      {images.map((image, i) => (
        <li key={image.image_id}>
          <button
            type="button"
            className="results__item"
            onClick={() => onOpen(i)}
            aria-label={t("task.open", { n: i + 1, total: images.length })}
          >
            <img
              src={thumbnailOf(image)}
              alt=""
              loading="lazy"
              decoding="async"
              width={image.width}
              height={image.height}
            />
          </button>
        </li>
      ))}
    </ul>
  );
}
