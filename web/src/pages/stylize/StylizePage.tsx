import { useId, useState, type FormEvent } from "react";
import { useModels, usePresets, useStylize, useTaskList } from "../../api/queries";
import { ErrorNotice, useCountdown, useRetryAt } from "../../components/ErrorNotice";
import { PresetPicker } from "../../components/PresetPicker";
import { TaskCard } from "../../components/TaskCard";
import { TaskFeed } from "../../components/TaskFeed";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { PhotoPicker, type Photo } from "./PhotoPicker";

const FILTERS = { kind: ["stylize"] };

export default function StylizePage() {
  const { t, lang } = useI18n();
  const ids = useId();
  const presets = usePresets().data;
  const models = (useModels().data ?? []).filter((m) => m.capabilities.includes("image_to_image"));
  const stylize = useStylize();
  const feed = useTaskList(FILTERS, 6);
  const waitSeconds = useCountdown(useRetryAt(stylize.error));

  const [photo, setPhoto] = useState<Photo | null>(null);
  const [style, setStyle] = useState("");
  const [location, setLocation] = useState("");
  const [text, setText] = useState("");
  const [strength, setStrength] = useState<number | null>(null);
  const [count, setCount] = useState(1);
  const [model, setModel] = useState("");
  const [problem, setProblem] = useState<MessageKey | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!photo) return setProblem("stylize.needPhoto");
    if (!style && !location && !text.trim()) return setProblem("stylize.needStyle");
    setProblem(null);
    const options = {
      style: style || undefined,
      location: location || undefined,
      text: text.trim(),
      language: lang,
      num_images: count,
      strength: strength ?? undefined,
      model: model || undefined,
    };
    stylize.mutate(
      photo.kind === "file" ? { photo: photo.file, options } : { imageId: photo.image.image_id, options },
    );
  };

  return (
    <div className="split">
      <section className="panel" aria-labelledby="stylize-title">
        <h1 id="stylize-title">{t("stylize.title")}</h1>
        <p className="lead">{t("stylize.intro")}</p>
        <form className="form" onSubmit={submit} noValidate>
          <PhotoPicker photo={photo} onChange={setPhoto} />
          <PresetPicker
            legend={t("stylize.style")}
            name={`${ids}-style`}
            presets={presets?.styles ?? []}
            value={style}
            onChange={setStyle}
            none={t("stylize.styleNone")}
          />
          <PresetPicker
            legend={t("stylize.location")}
            name={`${ids}-location`}
            presets={presets?.locations ?? []}
            value={location}
            onChange={setLocation}
            none={t("stylize.locationNone")}
          />
          <div className="field">
            <label htmlFor={`${ids}-text`}>{t("stylize.text")}</label>
            <input
              id={`${ids}-text`}
              type="text"
              maxLength={1000}
              placeholder={t("stylize.textHint")}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={`${ids}-strength`}>
                {t("stylize.strength")}: {strength === null ? t("common.default") : strength.toFixed(2)}
              </label>
              <input
                id={`${ids}-strength`}
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={strength ?? 0.6}
                aria-describedby={`${ids}-strength-hint`}
                onChange={(e) => setStrength(Number(e.target.value))}
              />
              <p id={`${ids}-strength-hint`} className="hint">
                {t("stylize.strengthHint")}{" "}
                {strength !== null && (
                  <button type="button" className="linkish" onClick={() => setStrength(null)}>
                    {t("stylize.strengthDefault")}
                  </button>
                )}
              </p>
            </div>
            <div className="field field--narrow">
              <label htmlFor={`${ids}-count`}>{t("stylize.count")}</label>
              <select id={`${ids}-count`} value={count} onChange={(e) => setCount(Number(e.target.value))}>
                {[1, 2, 3, 4].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${ids}-model`}>{t("stylize.model")}</label>
              <select id={`${ids}-model`} value={model} onChange={(e) => setModel(e.target.value)}>
                <option value="">{t("common.default")}</option>
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id} ({m.provider})
                  </option>
                ))}
              </select>
            </div>
          </div>
          {problem && (
            <p className="notice notice--error" role="alert">
              {t(problem)}
            </p>
          )}
          <ErrorNotice error={stylize.error} />
          <button
            type="submit"
            className="button button--primary button--wide"
            disabled={stylize.isPending || waitSeconds > 0}
          >
            {stylize.isPending ? t("generate.submitting") : t("stylize.submit")}
          </button>
        </form>
      </section>
      <section aria-labelledby="stylize-results">
        <h2 id="stylize-results">{t("stylize.results")}</h2>
        <TaskFeed
          query={feed}
          label={t("stylize.results")}
          empty={t("stylize.empty")}
          render={(task) => <TaskCard taskId={task.task_id} initial={task} />}
        />
      </section>
    </div>
  );
}
