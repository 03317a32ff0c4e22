import { useId, type FormEvent, type Ref } from "react";
import { usePresets, useModels, useProviders } from "../../api/queries";
import type { ModelInfo, ProvidersResponse } from "../../api/types";
import { ErrorNotice, useCountdown, useRetryAt } from "../../components/ErrorNotice";
import { PresetPicker } from "../../components/PresetPicker";
import { useI18n } from "../../i18n";
import { MAX_SEED, SIZES, parseSize, type Draft } from "./draft";

interface Props {
  draft: Draft;
  onChange: (draft: Draft) => void;
  onSubmit: (draft: Draft) => void;
  pending: boolean;
  error: unknown;
  promptRef?: Ref<HTMLTextAreaElement>;
}

function textModels(models: ModelInfo[] | undefined): ModelInfo[] {
  return (models ?? []).filter((m) => m.capabilities.includes("text_to_image"));
}

function groupByProvider(models: ModelInfo[]): [string, ModelInfo[]][] {
  const groups = new Map<string, ModelInfo[]>();
  for (const model of models) groups.set(model.provider, [...(groups.get(model.provider) ?? []), model]);
  return [...groups];
}

export function GenerateForm({ draft, onChange, onSubmit, pending, error, promptRef }: Props) {
  const { t } = useI18n();
  const ids = useId();
  const models = textModels(useModels().data);
  const providers = useProviders().data;
  const presets = usePresets().data?.styles ?? [];
  const waitSeconds = useCountdown(useRetryAt(error));
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => onChange({ ...draft, [key]: value });

  const model =
    models.find((m) => m.id === draft.model) ?? models.find((m) => m.id === "procedural") ?? models[0];
  const maxImages = model?.max_images ?? 8;
  const sizes = SIZES.filter((size) => {
    const [w, h] = parseSize(size);
    return !model || (w <= model.max_width && h <= model.max_height);
  });
  if (!sizes.includes(draft.size)) sizes.unshift(draft.size);
  const health = providerHealth(providers, model?.provider);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(draft);
  };

  return (
    <form className="form" onSubmit={submit} aria-describedby={error ? `${ids}-error` : undefined}>
      <div className="field">
        <label htmlFor={`${ids}-prompt`}>{t("generate.prompt")}</label>
        <textarea
          id={`${ids}-prompt`}
          ref={promptRef}
          required
          maxLength={4000}
          rows={3}
          placeholder={t("generate.promptHint")}
          value={draft.prompt}
          onChange={(e) => set("prompt", e.target.value)}
        />
      </div>

      <div className="row">
        <div className="field">
          <label htmlFor={`${ids}-model`}>{t("generate.model")}</label>
          <select id={`${ids}-model`} value={draft.model} onChange={(e) => set("model", e.target.value)}>
            <option value="">{t("common.default")}</option>
            {Object.keys(providers?.routes ?? {}).map((route) => (
              <option key={`route-${route}`} value={route}>
                {t("generate.route", { name: route })}
              </option>
            ))}
            {groupByProvider(models).map(([provider, group]) => (
              <optgroup key={provider} label={provider}>
                {group.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          {model && health && (
            <p className={`hint health health--${health}`}>
              {t("generate.provider", {
                provider: model.provider,
                health: t(`health.${health}`),
              })}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${ids}-size`}>{t("generate.size")}</label>
          <select id={`${ids}-size`} value={draft.size} onChange={(e) => set("size", e.target.value)}>
            {sizes.map((size) => (
              <option key={size} value={size}>
                {size.replace("x", " × ")}
              </option>
            ))}
          </select>
        </div>
        <div className="field field--narrow">
          <label htmlFor={`${ids}-count`}>{t("generate.count")}</label>
          <select
            id={`${ids}-count`}
            value={draft.count}
            onChange={(e) => set("count", Number(e.target.value))}
          >
            {Array.from({ length: maxImages }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>

      {presets.length > 0 && (
        <PresetPicker
          legend={t("generate.style")}
          name={`${ids}-preset`}
          presets={presets}
          value={draft.preset}
          none={t("generate.styleNone")}
          strip
          onChange={(id) => {
            const preset = presets.find((p) => p.id === id);
            onChange({
              ...draft,
              preset: id,
              steps: preset?.params.steps ?? draft.steps,
              guidance: preset?.params.guidance ?? draft.guidance,
            });
          }}
        />
      )}

      <fieldset className="advanced">
        <legend>{t("generate.advanced")}</legend>
        <div className="field">
          <label htmlFor={`${ids}-negative`}>{t("generate.negative")}</label>
          <textarea
            id={`${ids}-negative`}
            maxLength={4000}
            rows={2}
            placeholder={t("generate.negativeHint")}
            value={draft.negative}
            onChange={(e) => set("negative", e.target.value)}
          />
        </div>
        <div className="row">
          <div className="field field--narrow">
            <label htmlFor={`${ids}-steps`}>{t("generate.steps")}</label>
            <input
              id={`${ids}-steps`}
              type="number"
              inputMode="numeric"
              min={1}
              max={100}
              required
              value={draft.steps}
              onChange={(e) => set("steps", e.target.valueAsNumber || 1)}
            />
          </div>
          <div className="field field--narrow">
            <label htmlFor={`${ids}-guidance`}>{t("generate.guidance")}</label>
            <input
              id={`${ids}-guidance`}
              type="number"
              inputMode="decimal"
              min={0}
              max={30}
              step={0.5}
              required
              value={draft.guidance}
              onChange={(e) =>
                set("guidance", Number.isNaN(e.target.valueAsNumber) ? 0 : e.target.valueAsNumber)
              }
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-seed`}>{t("generate.seed")}</label>
          <div className="inline">
            <input
              id={`${ids}-seed`}
              type="number"
              inputMode="numeric"
              min={0}
              max={MAX_SEED}
              aria-describedby={`${ids}-seed-hint`}
              value={draft.seed}
              onChange={(e) => set("seed", e.target.value)}
            />
            <button
              type="button"
              className="button"
              onClick={() => set("seed", "")}
              disabled={draft.seed === ""}
            >
              {t("generate.randomSeed")}
            </button>
          </div>
          <p id={`${ids}-seed-hint`} className="hint">
            {t("generate.seedHint")}
          </p>
        </div>
      </fieldset>

      <div id={`${ids}-error`}>
        <ErrorNotice error={error} />
      </div>
      <button
        type="submit"
        className="button button--primary button--wide"
        disabled={pending || waitSeconds > 0}
      >
        {pending ? t("generate.submitting") : t("generate.submit")}
      </button>
    </form>
  );
}

function providerHealth(report: ProvidersResponse | undefined, provider: string | undefined) {
  if (!report || !provider) return null;
  return report.providers.find((p) => p.name === provider)?.health ?? null;
}
