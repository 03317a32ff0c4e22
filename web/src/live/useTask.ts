import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { fetchTask } from "../api/client";
import { isApiError } from "../api/errors";
import { keys } from "../api/queries";
import { TERMINAL, WAITING, type Task } from "../api/types";
import { useLive } from "./context";
import { applyEvent, isActive, mergeTask } from "./state";

/** One task, kept live: while it is not finished its events stream in (resuming after the
 * last one seen, across reloads); while it waits in the queue its position is refreshed. */
export function useTask(taskId: string, initial?: Task) {
  const qc = useQueryClient();
  const live = useLive();
  const query = useQuery({
    queryKey: keys.task(taskId),
    queryFn: async () => mergeTask(qc.getQueryData<Task>(keys.task(taskId)), await fetchTask(taskId)),
    initialData: initial,
    staleTime: Infinity,
    refetchInterval: (q) => (q.state.data && WAITING.has(q.state.data.status) ? 3000 : false),
    retry: (count, error) => !(isApiError(error) && error.status === 404) && count < 2,
  });
  const active = query.data ? isActive(query.data) : false;

  useEffect(() => {
    if (!active) return undefined;
    const refetch = () => void qc.invalidateQueries({ queryKey: keys.task(taskId) });
    return live.watch(taskId, {
      onEvent(event) {
        qc.setQueryData<Task>(keys.task(taskId), (held) => applyEvent(held, event));
        if (TERMINAL.has(event.status)) {
          void qc.invalidateQueries({ queryKey: keys.tasks });
          void qc.invalidateQueries({ queryKey: keys.library });
        }
      },
      onGone: refetch,
      onInterrupted: refetch,
    });
  }, [active, live, qc, taskId]);

  return query;
}
