import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { presetDetail, useCreateTask, useTaskList } from "../../api/queries";
import type { Task } from "../../api/types";
import { TaskCard } from "../../components/TaskCard";
import { TaskFeed } from "../../components/TaskFeed";
import { useI18n } from "../../i18n";
import { againParams, emptyDraft, fromParams, toParams, type Draft } from "./draft";
import { GenerateForm } from "./GenerateForm";

const FILTERS = { kind: ["generate"] };

export default function GeneratePage() {
  const { t, lang } = useI18n();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [notice, setNotice] = useState("");
  const [preparing, setPreparing] = useState(false);
  const create = useCreateTask();
  const feed = useTaskList(FILTERS, 10);
  const promptRef = useRef<HTMLTextAreaElement>(null);

  const submit = async (value: Draft) => {
    setPreparing(true);
    try {
      const preset = value.preset
        ? await presetDetail(qc, "styles", value.preset, lang).catch(() => undefined)
        : undefined;
      create.mutate({ kind: "generate", params: toParams(value, preset) });
    } finally {
      setPreparing(false);
    }
  };
  const load = (task: Task, seed?: number) => {
    setDraft(fromParams(task.params, seed));
    setNotice(t("generate.loaded"));
    promptRef.current?.focus();
  };

  return (
    <div className="split">
      <section className="panel" aria-labelledby="generate-title">
        <h1 id="generate-title">{t("generate.title")}</h1>
        <p className="lead">{t("generate.intro")}</p>
        <GenerateForm
          draft={draft}
          onChange={setDraft}
          onSubmit={(value) => void submit(value)}
          pending={preparing || create.isPending}
          error={create.error}
          promptRef={promptRef}
        />
        <p className="sr-only" role="status">
          {notice}
        </p>
      </section>
      <section aria-labelledby="generate-results">
        <h2 id="generate-results">{t("generate.results")}</h2>
        <TaskFeed
          query={feed}
          label={t("generate.results")}
          empty={t("generate.empty")}
          render={(task) => (
            <TaskCard
              taskId={task.task_id}
              initial={task}
              onUseSeed={(source, seed) => load(source, seed)}
              actions={(done) => (
                <>
                  <button
                    type="button"
                    className="button"
                    title={t("task.againHint")}
                    onClick={() => create.mutate({ kind: "generate", params: againParams(done.params) })}
                  >
                    {t("task.again")}
                  </button>
                  <button type="button" className="button" onClick={() => load(done)}>
                    {t("task.edit")}
                  </button>
                </>
              )}
            />
          )}
        />
      </section>
    </div>
  );
}
