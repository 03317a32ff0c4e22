import type { InfiniteData, UseInfiniteQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { Task, TaskPage } from "../api/types";
import { useI18n } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";

interface Props {
  query: UseInfiniteQueryResult<InfiniteData<TaskPage>>;
  empty: string;
  label: string;
  render: (task: Task) => ReactNode;
}

/** A paged list of tasks, newest first, with loading, error and "load more" states. */
export function TaskFeed({ query, empty, label, render }: Props) {
  const { t } = useI18n();
  const tasks = query.data?.pages.flatMap((page) => page.items) ?? [];
  if (query.isPending) return <p role="status">{t("common.loading")}</p>;
  if (query.isError && tasks.length === 0) {
    return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  }
  return (
    <div className="feed">
      {tasks.length === 0 ? (
        <p className="empty">{empty}</p>
      ) : (
        <ul className="feed__list" aria-label={label}>
          {tasks.map((task) => (
            <li key={task.task_id}>{render(task)}</li>
          ))}
        </ul>
      )}
      {query.hasNextPage && (
        <button
          type="button"
          className="button feed__more"
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
        >
          {query.isFetchingNextPage ? t("common.loading") : t("common.loadMore")}
        </button>
      )}
    </div>
  );
}
