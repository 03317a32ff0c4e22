import { useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useModels } from "../../api/queries";
import { ErrorNotice, useCountdown, useRetryAt } from "../../components/ErrorNotice";
import { useI18n } from "../../i18n";
import { useCreateManga, type MangaCreate } from "./api";
import { MangaJobView } from "./MangaJobView";

const PANEL_CHOICES = [1, 2, 3, 4, 5, 6, 7, 8];

export default function MangaPage() {
  const { t } = useI18n();
  const ids = useId();
  const [search, setSearch] = useSearchParams();
  const jobId = search.get("job");
  const models = (useModels().data ?? []).filter((m) => m.capabilities.includes("text_to_image"));
  const create = useCreateManga();
  const waitSeconds = useCountdown(useRetryAt(create.error));

  const [story, setStory] = useState("");
  const [panels, setPanels] = useState("auto");
  const [language, setLanguage] = useState("");
  const [direction, setDirection] = useState("");
  const [model, setModel] = useState("");
  const [seed, setSeed] = useState("");
  const [problem, setProblem] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!story.trim()) return setProblem(true);
    setProblem(false);
    const body: MangaCreate = { story: story.trim(), panels: panels === "auto" ? "auto" : Number(panels) };
    if (language) body.language = language as "zh" | "en";
    if (direction) body.reading_direction = direction as "ltr" | "rtl";
    if (model) body.model = model;
    if (seed.trim()) body.seed = Number(seed);
    create.mutate(body, { onSuccess: (created) => setSearch({ job: created.task_id }) });
  };

  return (
    <div className="split">
      <section className="panel" aria-labelledby="manga-title">
        <h1 id="manga-title">{t("manga.title")}</h1>
        <p className="lead">{t("manga.intro")}</p>
        <form className="form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={`${ids}-story`}>{t("manga.story")}</label>
            <textarea
              id={`${ids}-story`}
              rows={8}
              value={story}
              placeholder={t("manga.storyHint")}
              aria-invalid={problem || undefined}
              onChange={(e) => setStory(e.target.value)}
            />
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={`${ids}-panels`}>{t("manga.panels")}</label>
              <select id={`${ids}-panels`} value={panels} onChange={(e) => setPanels(e.target.value)}>
                <option value="auto">{t("manga.panelsAuto")}</option>
                {PANEL_CHOICES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${ids}-language`}>{t("manga.language")}</label>
              <select id={`${ids}-language`} value={language} onChange={(e) => setLanguage(e.target.value)}>
                <option value="">{t("manga.languageAuto")}</option>
                <option value="en">English</option>
                <option value="zh">中文</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${ids}-direction`}>{t("manga.direction")}</label>
              <select
                id={`${ids}-direction`}
                value={direction}
                onChange={(e) => setDirection(e.target.value)}
              >
                <option value="">{t("common.default")}</option>
                <option value="ltr">{t("manga.ltr")}</option>
                <option value="rtl">{t("manga.rtl")}</option>
              </select>
            </div>
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={`${ids}-model`}>{t("generate.model")}</label>
              <select id={`${ids}-model`} value={model} onChange={(e) => setModel(e.target.value)}>
                <option value="">{t("common.default")}</option>
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id} ({m.provider})
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${ids}-seed`}>{t("generate.seed")}</label>
              <input
                id={`${ids}-seed`}
                type="number"
                inputMode="numeric"
                min={0}
                value={seed}
                placeholder={t("generate.seedHint")}
                onChange={(e) => setSeed(e.target.value)}
              />
            </div>
          </div>
          {problem && (
            <p className="notice notice--error" role="alert">
              {t("manga.needStory")}
            </p>
          )}
          <ErrorNotice error={create.error} />
          <button
            type="submit"
            className="button button--primary button--wide"
            disabled={create.isPending || waitSeconds > 0}
          >
            {create.isPending ? t("generate.submitting") : t("manga.submit")}
          </button>
        </form>
      </section>
      <section aria-labelledby="manga-job">
        <h2 id="manga-job">{t("manga.job")}</h2>
        {jobId ? <MangaJobView key={jobId} jobId={jobId} /> : <p className="empty">{t("manga.empty")}</p>}
      </section>
    </div>
  );
}
