import { useState } from "react";
import { useI18n } from "../i18n";

interface Props {
  before: string;
  after: string;
  width: number;
  height: number;
}

/** The photo and its restyled version on top of each other; a slider (keyboard: arrow keys)
 * moves the line between them. */
export function BeforeAfter({ before, after, width, height }: Props) {
  const { t } = useI18n();
  const [split, setSplit] = useState(50);
  return (
    <figure className="compare">
      <div className="compare__stage" style={{ aspectRatio: `${width} / ${height}` }}>
        <img className="compare__img" src={after} alt={t("stylize.after")} />
        <img
          className="compare__img compare__before"
          src={before}
          alt={t("stylize.before")}
          style={{ clipPath: `inset(0 ${100 - split}% 0 0)` }}
        />
        <span className="compare__line" style={{ left: `${split}%` }} aria-hidden="true" />
        <span className="compare__tag compare__tag--before" aria-hidden="true">
          {t("stylize.before")}
        </span>
        <span className="compare__tag compare__tag--after" aria-hidden="true">
          {t("stylize.after")}
        </span>
      </div>
      <input
        className="compare__slider"
        type="range"
        min={0}
        max={100}
        value={split}
        onChange={(event) => setSplit(Number(event.target.value))}
        aria-label={t("stylize.compare")}
      />
    </figure>
  );
}
