import { useId, useMemo } from "react";
import { useSearchParams } from "react-router";
import { useTaskKinds, useTaskList } from "../../api/queries";
import { STATUSES } from "../../api/types";
import { kindLabel, statusLabel } from "../../components/describe";
import { TaskCard } from "../../components/TaskCard";
import { TaskFeed } from "../../components/TaskFeed";
import { useI18n } from "../../i18n";

const ACTIVE = ["pending", "processing", "retrying"];

/** Every task of the caller. The filters live in the address (`?status=&kind=`), so a
 * refresh or a shared link keeps them. */
export default function HistoryPage() {
  const { t } = useI18n();
  const ids = useId();
  const [search, setSearch] = useSearchParams();
  const status = search.get("status") ?? "";
  const kind = search.get("kind") ?? "";
  const kinds = useTaskKinds().data ?? ["generate", "stylize"];
  const filters = useMemo(
    () => ({
      status: status === "active" ? ACTIVE : status ? [status] : [],
      kind: kind ? [kind] : [],
    }),
    [status, kind],
  );
  const feed = useTaskList(filters, 20);
  const shown = feed.data?.pages.reduce((n, page) => n + page.items.length, 0) ?? 0;

  const update = (name: "status" | "kind", value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next, { replace: true });
  };

  return (
    <section className="history" aria-labelledby="history-title">
      <h1 id="history-title">{t("history.title")}</h1>
      <p className="lead">{t("history.intro")}</p>
      <form
        className="filters"
        role="search"
        aria-label={t("history.filters")}
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="field">
          <label htmlFor={`${ids}-status`}>{t("history.status")}</label>
          <select id={`${ids}-status`} value={status} onChange={(e) => update("status", e.target.value)}>
            <option value="">{t("history.all")}</option>
            <option value="active">{t("history.active")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s, t)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-kind`}>{t("history.kind")}</label>
          <select id={`${ids}-kind`} value={kind} onChange={(e) => update("kind", e.target.value)}>
            <option value="">{t("history.all")}</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k, t)}
              </option>
            ))}
          </select>
        </div>
        <p className="filters__count" aria-live="polite">
          {feed.data ? t("history.shown", { n: shown }) : ""}
        </p>
      </form>
      <TaskFeed
        query={feed}
        label={t("history.title")}
        empty={t("history.empty")}
        render={(task) => <TaskCard taskId={task.task_id} initial={task} level={2} />}
      />
    </section>
  );
}
