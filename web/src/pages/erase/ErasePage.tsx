import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, call, createTask } from "../../api/client";
import { keys, useTaskList } from "../../api/queries";
import type { components } from "../../api/schema";
import type { TaskCreated } from "../../api/types";
import { ErrorNotice, useCountdown, useRetryAt } from "../../components/ErrorNotice";
import { TaskCard } from "../../components/TaskCard";
import { TaskFeed } from "../../components/TaskFeed";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { PhotoPicker, type Photo } from "../stylize/PhotoPicker";
import { EraseDetails } from "./EraseDetails";

type EraseForm = components["schemas"]["Body_erase_api_v1_erase_post"];
type Mode = "" | "blur" | "color" | "preset" | "prompt";

const FILTERS = { kind: ["erase"] };
const MODES: { value: Mode; label: MessageKey }[] = [
  { value: "", label: "erase.redrawKeep" },
  { value: "blur", label: "erase.redrawBlur" },
  { value: "color", label: "erase.redrawColor" },
  { value: "preset", label: "erase.redrawPreset" },
  { value: "prompt", label: "erase.redrawPrompt" },
];
const BACKDROPS = ["studio-white", "studio-grey", "studio-dark", "studio-blue", "studio-warm"];

/** `POST /api/v1/erase`: the photo and the options as one multipart form. */
const eraseUpload = (form: Partial<EraseForm> & { photo: Blob }): Promise<TaskCreated> =>
  call(
    api.POST("/api/v1/erase", {
      body: form as EraseForm,
      bodySerializer(body) {
        const data = new FormData();
        for (const [key, value] of Object.entries(body)) {
          if (value === undefined || value === null || value === "") continue;
          for (const item of Array.isArray(value) ? value : [value]) {
            data.append(key, item instanceof Blob ? item : String(item));
          }
        }
        return data;
      },
    }),
  );

interface Options {
  mode: Mode;
  color: string;
  preset: string;
  prompt: string;
  keep: string[];
}

function useErase() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ photo, options }: { photo: Photo; options: Options }) => {
      const { mode, color, preset, prompt, keep } = options;
      if (photo.kind === "file") {
        return eraseUpload({
          photo: photo.file,
          keep: keep.length ? keep : undefined,
          redraw: mode || undefined,
          redraw_color: mode === "color" ? color : undefined,
          redraw_preset: mode === "preset" ? preset : undefined,
          redraw_prompt: mode === "prompt" ? prompt : undefined,
        });
      }
      const redraw = mode
        ? {
            mode,
            ...(mode === "color" ? { color } : {}),
            ...(mode === "preset" ? { preset } : {}),
            ...(mode === "prompt" ? { prompt } : {}),
          }
        : undefined;
      return createTask("erase", {
        image_id: photo.image.image_id,
        ...(keep.length ? { keep } : {}),
        ...(redraw ? { redraw } : {}),
      });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.tasks });
      void qc.invalidateQueries({ queryKey: keys.library });
    },
  });
}

export default function ErasePage() {
  const { t } = useI18n();
  const ids = useId();
  const erase = useErase();
  const feed = useTaskList(FILTERS, 6);
  const waitSeconds = useCountdown(useRetryAt(erase.error));
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [mode, setMode] = useState<Mode>("");
  const [color, setColor] = useState("#ffffff");
  const [preset, setPreset] = useState(BACKDROPS[0]!);
  const [prompt, setPrompt] = useState("");
  const [keep, setKeep] = useState("");
  const [problem, setProblem] = useState<MessageKey | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!photo) return setProblem("erase.needPhoto");
    if (mode === "prompt" && !prompt.trim()) return setProblem("erase.needPrompt");
    setProblem(null);
    const words = keep
      .split(/[,，]/)
      .map((word) => word.trim())
      .filter(Boolean);
    erase.mutate({ photo, options: { mode, color, preset, prompt: prompt.trim(), keep: words } });
  };

  return (
    <div className="split">
      <section className="panel" aria-labelledby="erase-title">
        <h1 id="erase-title">{t("erase.title")}</h1>
        <p className="lead">{t("erase.intro")}</p>
        <form className="form" onSubmit={submit} noValidate>
          <PhotoPicker photo={photo} onChange={setPhoto} />
          <div className="field">
            <label htmlFor={`${ids}-keep`}>{t("erase.keep")}</label>
            <input
              id={`${ids}-keep`}
              type="text"
              value={keep}
              placeholder={t("erase.keepHint")}
              onChange={(e) => setKeep(e.target.value)}
            />
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={`${ids}-mode`}>{t("erase.redraw")}</label>
              <select id={`${ids}-mode`} value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
                {MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {t(m.label)}
                  </option>
                ))}
              </select>
            </div>
            {mode === "color" && (
              <div className="field field--narrow">
                <label htmlFor={`${ids}-color`}>{t("erase.color")}</label>
                <input
                  id={`${ids}-color`}
                  type="color"
                  value={color}
                  onChange={(e) => setColor(e.target.value)}
                />
              </div>
            )}
            {mode === "preset" && (
              <div className="field">
                <label htmlFor={`${ids}-preset`}>{t("erase.preset")}</label>
                <select id={`${ids}-preset`} value={preset} onChange={(e) => setPreset(e.target.value)}>
                  {BACKDROPS.map((id) => (
                    <option key={id} value={id}>
                      {id.replace("studio-", "")}
                    </option>
                  ))}
                </select>
              </div>
            )}
          </div>
          {mode === "prompt" && (
            <div className="field">
              <label htmlFor={`${ids}-prompt`}>{t("erase.prompt")}</label>
              <input
                id={`${ids}-prompt`}
                type="text"
                maxLength={1000}
                value={prompt}
                onChange={(e) => setPrompt(e.target.value)}
              />
            </div>
          )}
          {problem && (
            <p className="notice notice--error" role="alert">
              {t(problem)}
            </p>
          )}
          <ErrorNotice error={erase.error} />
          <button
            type="submit"
            className="button button--primary button--wide"
            disabled={erase.isPending || waitSeconds > 0}
          >
            {erase.isPending ? t("generate.submitting") : t("erase.submit")}
          </button>
        </form>
      </section>
      <section aria-labelledby="erase-results">
        <h2 id="erase-results">{t("erase.results")}</h2>
        <TaskFeed
          query={feed}
          label={t("erase.results")}
          empty={t("erase.empty")}
          render={(task) => (
            <TaskCard taskId={task.task_id} initial={task} details={(live) => <EraseDetails task={live} />} />
          )}
        />
      </section>
    </div>
  );
}
